/**
 * The fault-and-abuse suite of the command line: every fault a user can feed `deno task lpips`
 * (broken, truncated, foreign or malicious files, wrong folders, missing outputs) is run through
 * the real CLI in a subprocess, and must give exit status != 0, exactly one line on stderr that
 * names the file and the cause, no stack trace, nothing on stdout, and no output file.
 *
 * The inputs are crafted here, in a temporary folder; BAPPS cases copy a few items of the
 * `bapps-mini` fixture (LPIPS_TEST_DATA). faults.md in the issue-9 notes lists every case with the
 * message the user sees.
 *
 * @module
 */
import assert from "node:assert/strict";
import { encode } from "fast-png";
import jpeg from "jpeg-js";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { needsTestData, TEST_DATA, testData } from "../_internal/test_data.ts";
import { CLI, type CliRun, runCli } from "../_internal/test_cli.ts";
import { greyPng } from "../_internal/test_png.ts";
import { writePth } from "../lpips/pth/pth.ts";
import { writeZip } from "../lpips/pth/zip.ts";
import { writeNpy } from "../bappsloader/npy.ts";

/** Runs `deno run -A cli.ts ARGS` as a user would (offline: weights from the test data). */
const lpips = (args: string[]): Promise<CliRun> => runCli(args);

/** A progress line of a long command (stderr, as the contract says), not part of an error. */
const PROGRESS = /^lpips \w+: \S+ \d+\/\d+ items(, [\d.]+ items\/s)?$/;

/**
 * The contract for a fault: non-zero exit, one stderr line `lpips <command>: ...` naming `file`
 * and matching `cause`, no stack trace, empty stdout, and none of `outputs` created.
 */
async function assertFault(
  label: string,
  r: CliRun,
  file: string,
  cause: RegExp,
  outputs: string[] = [],
): Promise<string> {
  const where = `${label}: ${JSON.stringify(r.stderr)}`;
  assert.notEqual(r.code, 0, where);
  // Progress lines ("lpips eval: val/traditional 0/3 items") may come first; the error is one line.
  const lines = r.stderr.trimEnd().split("\n").filter((l) => !PROGRESS.test(l));
  assert.equal(lines.length, 1, `one error line on stderr; ${where}`);
  const line = lines[0];
  assert.ok(r.stderr.trimEnd().endsWith(line), `the error comes last; ${where}`);
  // LPIPS_FAULTS_REPORT=1 prints each case's message (for the fault table of the docs).
  if (Deno.env.get("LPIPS_FAULTS_REPORT")) console.log(`FAULT\t${label}\t${r.code}\t${line}`);
  assert.match(line, /^lpips \w+: /, where);
  assert.ok(line.includes(file), `names ${file}; ${where}`);
  assert.match(line, cause, where);
  assert.doesNotMatch(line, /\bat .*:\d+:\d+|Stack backtrace|\bError:/, where);
  assert.equal(r.stdout, "", `nothing on stdout; ${label}`);
  for (const out of outputs) {
    await assert.rejects(Deno.lstat(out), Deno.errors.NotFound, `${label} left ${out}`);
  }
  return line;
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "lpips_faults_" });
  try {
    await fn(dir);
  } finally {
    await Deno.chmod(dir, 0o755).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Crafted files

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function rgbPng(width: number, height: number, channels: 1 | 3 = 3): Uint8Array {
  const data = new Uint8Array(width * height * channels).map((_, i) => (i * 37) % 251);
  return encode({ width, height, channels, depth: 8, data });
}

function rgbJpeg(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 4).map((_, i) => (i * 13) % 256);
  return new Uint8Array(jpeg.encode({ width, height, data }, 90).data);
}

/** Offset of the first chunk of `type` in a PNG. */
function chunkAt(png: Uint8Array, type: string): number {
  const view = new DataView(png.buffer, png.byteOffset);
  for (let at = 8; at < png.length; at += 12 + view.getUint32(at)) {
    if (String.fromCharCode(...png.subarray(at + 4, at + 8)) === type) return at;
  }
  throw new Error(`no ${type} chunk`);
}

/** A PNG whose IDAT holds bytes that are no zlib stream, with a correct CRC. */
function badZlibPng(): Uint8Array {
  const png = rgbPng(64, 64);
  const at = chunkAt(png, "IDAT");
  const view = new DataView(png.buffer);
  const length = view.getUint32(at);
  png.fill(0xff, at + 8, at + 8 + Math.min(length, 16));
  view.setUint32(at + 8 + length, crc32(png.subarray(at + 4, at + 8 + length)));
  return png;
}

/** A PNG with one flipped bit in its pixel data (CRC no longer matches). */
function badCrcPng(): Uint8Array {
  const png = rgbPng(64, 64);
  png[chunkAt(png, "IDAT") + 20] ^= 0x10;
  return png;
}

const text = (s: string) => new TextEncoder().encode(s);

/** A pickle `GLOBAL module name; (arg,); REDUCE; STOP`: what calls `module.name(arg)`. */
function callPickle(module: string, name: string, arg: string): Uint8Array {
  const a = text(arg);
  return new Uint8Array([
    0x80,
    2, // PROTO 2
    0x63,
    ...text(`${module}\n${name}\n`), // GLOBAL
    0x58,
    a.length,
    0,
    0,
    0,
    ...a, // BINUNICODE
    0x85, // TUPLE1
    0x52, // REDUCE
    0x2e, // STOP
  ]);
}

/** A torch zip archive holding `pickle` as its data.pkl. */
function zipPth(pickle: Uint8Array): Uint8Array {
  return writeZip([
    { name: "archive/data.pkl", data: pickle },
    { name: "archive/version", data: text("3\n") },
  ]);
}

const ALEX_HEADS = [64, 192, 384, 256, 256];

/** LPIPS heads for alex, with `lin1` of `lin1Channels` channels. */
function alexHeads(lin1Channels = 192): Uint8Array {
  return writePth(
    new Map(ALEX_HEADS.map((c, k) => {
      const n = k === 1 ? lin1Channels : c;
      return [`lin${k}.model.1.weight`, {
        shape: [1, n, 1, 1],
        data: new Float32Array(n).fill(0.25),
      }];
    })),
    "alex",
  );
}

/** Valid heads with one stored byte of lin0's data flipped (the zip CRC-32 no longer matches). */
function badCrcHeads(): Uint8Array {
  const pth = alexHeads();
  const quarter = new Uint8Array(Float32Array.of(0.25).buffer);
  const at = pth.findIndex((_, i) => quarter.every((b, k) => pth[i + k] === b));
  assert.ok(at > 0);
  pth[at + 3] ^= 0x01;
  return pth;
}

/** A weights folder: the official alexnet trunk (linked) and `head` as lpips/v0.1/alex.pth. */
async function weightsDir(dir: string, name: string, head: Uint8Array): Promise<string> {
  const root = join(dir, name);
  await Deno.mkdir(join(root, "lpips", "v0.1"), { recursive: true });
  const trunk = "alexnet-owt-7be5be79.pth";
  await Deno.symlink(join(Deno.realPathSync(testData("weights")), trunk), join(root, trunk));
  await Deno.writeFile(join(root, "lpips", "v0.1", "alex.pth"), head);
  return join(root, "lpips", "v0.1", "alex.pth");
}

/** An .npy header declaring `shape` of float64, followed by only `payload` bytes. */
function npyDeclaring(shape: string, payload: number): Uint8Array {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': ${shape}, }`;
  header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
  const out = new Uint8Array(10 + header.length + payload);
  out.set([0x93, ...text("NUMPY"), 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(text(header), 10);
  return out;
}

/** A BAPPS root with the first `n` items of bapps-mini's `mode`/val/traditional. */
async function miniSubset(dir: string, name: string, mode: "2afc" | "jnd", n: number) {
  const root = join(dir, name);
  const src = testData("bapps-mini", mode, "val", "traditional");
  const roles = mode === "2afc" ? ["ref", "p0", "p1", "judge"] : ["p0", "p1", "same"];
  for (const role of roles) {
    const to = join(root, mode, "val", "traditional", role);
    await Deno.mkdir(to, { recursive: true });
    for (let i = 0; i < n; i++) {
      const npy = role === "judge" || role === "same";
      const file = `${String(i).padStart(6, "0")}.${npy ? "npy" : "png"}`;
      await Deno.copyFile(join(src, role, file), join(to, file));
    }
  }
  return root;
}

/** A 2AFC root with the first `n` triplets of bapps-mini's 2afc/val/traditional. */
const miniBapps = (dir: string, name: string, n = 3) => miniSubset(dir, name, "2afc", n);

const subset = (root: string, ...parts: string[]) =>
  join(root, "2afc", "val", "traditional", ...parts);

// ---------------------------------------------------------------------------------------------
// compare: image files

Deno.test("compare: corrupt, truncated, foreign, empty and missing images", async () => {
  await withTempDir(async (dir) => {
    const good = join(dir, "good.png");
    await Deno.writeFile(good, rgbPng(64, 64));
    const png = rgbPng(64, 64);
    const jpg = rgbJpeg(64, 64);
    const corruptJpg = jpg.slice();
    corruptJpg.fill(0xff, 200, 260);
    const png0 = /corrupt or truncated image \(PNG: the file ends too early/;
    const jpg0 = /corrupt or truncated image \(JPEG: /;
    const cases: [string, Uint8Array | "dir" | "none", RegExp][] = [
      ["signature-only.png", png.slice(0, 8), png0],
      ["cut-in-ihdr.png", png.slice(0, 20), png0],
      ["cut-in-idat.png", png.slice(0, png.length >> 1), /ends too early, inside the IDAT/],
      ["no-iend.png", png.slice(0, png.length - 12), /the file ends too early, no IEND/],
      ["bad-crc.png", badCrcPng(), /bad CRC in the IDAT chunk/],
      ["bad-zlib.png", badZlibPng(), /bad zlib-compressed pixel data/],
      ["truncated.jpg", jpg.slice(0, jpg.length >> 1), /JPEG: the file ends too early/],
      ["header-only.jpg", jpg.slice(0, 100), jpg0],
      ["corrupt.jpg", corruptJpg, jpg0],
      [
        "text.png",
        text("this is a text file, not a picture\n"),
        /not a PNG, JPEG, BMP, TIFF, WebP or GIF file/,
      ],
      ["empty.png", new Uint8Array(0), /empty file, not an image/],
      ["folder.png", "dir", /cannot read \(it is a folder, not a file\)/],
      ["missing.png", "none", /cannot read \(no such file\)/],
    ];
    for (const [name, content, cause] of cases) {
      const path = join(dir, name);
      if (content === "dir") await Deno.mkdir(path);
      else if (content !== "none") await Deno.writeFile(path, content);
      const spatial = join(dir, `${name}.map.png`);
      const r = await lpips(["compare", good, path, "--spatial", spatial]);
      await assertFault(name, r, path, cause, [spatial]);
    }
  });
});

Deno.test({
  name: Deno.uid() === 0
    ? "compare: an unreadable image [skipped: running as root, chmod 000 does not block reads]"
    : "compare: an unreadable image",
  ignore: Deno.build.os === "windows" || Deno.uid() === 0,
  fn: async () => {
    await withTempDir(async (dir) => {
      const good = join(dir, "good.png"), locked = join(dir, "locked.png");
      await Deno.writeFile(good, rgbPng(64, 64));
      await Deno.writeFile(locked, rgbPng(64, 64));
      await Deno.chmod(locked, 0);
      const r = await lpips(["compare", good, locked]);
      await assertFault("locked.png", r, locked, /cannot read \(permission denied\)/);
    });
  },
});

Deno.test("compare: a grey image is read as RGB (as the reference reads it), not refused", async () => {
  await withTempDir(async (dir) => {
    const rgb = join(dir, "rgb.png"), grey = join(dir, "grey.png");
    await Deno.writeFile(rgb, rgbPng(64, 64));
    await Deno.writeFile(grey, rgbPng(64, 64, 1));
    const r = await lpips(["compare", rgb, grey, "--metric", "l2", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(JSON.parse(r.stdout).distance > 0);
  });
});

Deno.test({
  ...needsTestData("compare: images of different sizes, or too small for the net, name both files"),
  fn: async () => {
    await withTempDir(async (dir) => {
      const files: Record<string, Uint8Array> = {
        "a64.png": rgbPng(64, 64),
        "b80x64.png": rgbPng(80, 64),
        "tiny0.png": rgbPng(8, 8),
        "tiny1.png": rgbPng(8, 8),
      };
      for (const [n, b] of Object.entries(files)) await Deno.writeFile(join(dir, n), b);
      const p = (n: string) => join(dir, n);
      for (const metric of ["lpips", "l2", "ssim"]) {
        const r = await lpips(["compare", p("a64.png"), p("b80x64.png"), "--metric", metric]);
        const line = await assertFault(`sizes ${metric}`, r, p("a64.png"), /64x64.*80x64|size/);
        assert.ok(line.includes(p("b80x64.png")), line);
      }
      const spatial = join(dir, "map.npy");
      const r = await lpips(["compare", p("tiny0.png"), p("tiny1.png"), "--spatial", spatial]);
      const line = await assertFault("tiny", r, p("tiny0.png"), /8x8.*at least/, [spatial]);
      assert.ok(line.includes(p("tiny1.png")), line);
    });
  },
});

Deno.test({
  ...needsTestData("compare --spatial into a folder that does not exist"),
  fn: async () => {
    await withTempDir(async (dir) => {
      const img = join(dir, "a.png");
      await Deno.writeFile(img, rgbPng(64, 64));
      for (const ext of ["png", "npy"]) {
        const out = join(dir, "no-such-folder", `map.${ext}`);
        const r = await lpips(["compare", img, img, "--spatial", out]);
        await assertFault(`--spatial .${ext}`, r, out, /no such (file or directory|folder)/i, [
          out,
        ]);
      }
    });
  },
});

// ---------------------------------------------------------------------------------------------
// compare: weight files (--weights-dir)

Deno.test({
  ...needsTestData("compare --weights-dir: malicious, truncated, corrupt and wrong-shape heads"),
  fn: async () => {
    await withTempDir(async (dir) => {
      const img = join(dir, "a.png");
      await Deno.writeFile(img, rgbPng(64, 64));
      const cases: [string, Uint8Array, RegExp][] = [
        ["os-system-zip", zipPth(callPickle("os", "system", "touch pwned")), /refuses.*os\.system/],
        ["eval-zip", zipPth(callPickle("builtins", "eval", "1+1")), /refuses.*builtins\.eval/],
        ["os-system-legacy", callPickle("os", "system", "touch pwned"), /refuses.*os\.system/],
        ["truncated-zip", alexHeads().slice(0, 1500), /truncated/],
        ["bad-crc-zip", badCrcHeads(), /CRC/],
        ["wrong-shape", alexHeads(32), /lin1\.model\.1\.weight has shape \[1, 32, 1, 1\]/],
        ["empty", new Uint8Array(0), /empty|truncated|not a/i],
      ];
      for (const [name, head, cause] of cases) {
        const file = await weightsDir(dir, name, head);
        const r = await lpips(["compare", img, img, "--weights-dir", join(dir, name)]);
        await assertFault(name, r, file, cause);
      }
      await assert.rejects(Deno.lstat("pwned"), Deno.errors.NotFound);
      await assert.rejects(Deno.lstat(join(dir, "pwned")), Deno.errors.NotFound);
    });
  },
});

// ---------------------------------------------------------------------------------------------
// eval: BAPPS folders and model files

Deno.test({
  ...needsTestData("eval: missing, extra, truncated and absurd files in a BAPPS folder"),
  fn: async () => {
    await withTempDir(async (dir) => {
      const run = (root: string, perItem: string, ...extra: string[]) =>
        lpips([
          "eval",
          "--dataset-mode",
          "2afc",
          "--root",
          root,
          "--datasets",
          "val/traditional",
          "--model",
          "l2",
          "--per-item",
          perItem,
          ...extra,
        ]);
      const csv = (name: string) => join(dir, `${name}.csv`);

      const missing = await miniBapps(dir, "missing");
      await Deno.remove(subset(missing, "p1", "000001.png"));
      await assertFault(
        "missing p1",
        await run(missing, csv("missing")),
        subset(missing),
        /different numbers of files.*p1\/000001\.\* missing/,
        [csv("missing")],
      );

      const extra = await miniBapps(dir, "extra");
      await Deno.copyFile(subset(extra, "ref", "000000.png"), subset(extra, "ref", "000009.png"));
      await assertFault(
        "extra ref",
        await run(extra, csv("extra")),
        subset(extra),
        /p0\/000009\.\*, p1\/000009\.\*, judge\/000009\.\* missing \(ref\/000009\.png found\)/,
        [csv("extra")],
      );

      const huge = await miniBapps(dir, "huge");
      const hugeNpy = subset(huge, "judge", "000001.npy");
      await Deno.writeFile(hugeNpy, npyDeclaring("(1000000000000,)", 8));
      await assertFault(
        "terabyte npy",
        await run(huge, csv("huge")),
        hugeNpy,
        /needs 8000000000000 bytes, file has 8/,
        [csv("huge")],
      );

      const cut = await miniBapps(dir, "cut");
      const cutNpy = subset(cut, "judge", "000002.npy");
      const whole = writeNpy(new Float64Array([0.25]), [1]);
      await Deno.writeFile(cutNpy, whole.slice(0, whole.length - 3));
      await assertFault("truncated npy", await run(cut, csv("cut")), cutNpy, /data truncated/, [
        csv("cut"),
      ]);

      const textImage = await miniBapps(dir, "text");
      const bad = subset(textImage, "p0", "000002.png");
      await Deno.writeFile(bad, text("not an image"));
      await assertFault("text image", await run(textImage, csv("text")), bad, /not a PNG/, [
        csv("text"),
      ]);

      const absent = join(dir, "no-such-root");
      await assertFault(
        "missing root",
        await run(absent, csv("absent")),
        absent,
        /no such folder/,
        [
          csv("absent"),
        ],
      );
      const noSubset = await miniBapps(dir, "nosubset");
      await assertFault(
        "missing subset",
        await run(noSubset, csv("nosubset"), "--datasets", "val/cnn"),
        join(noSubset, "2afc", "val", "cnn"),
        /no such 2afc subset folder/,
        [csv("nosubset")],
      );
    });
  },
});

Deno.test({
  ...needsTestData("eval --model-path: a malicious and a missing checkpoint"),
  fn: async () => {
    await withTempDir(async (dir) => {
      const root = await miniBapps(dir, "bapps", 2);
      const evil = join(dir, "evil.pth");
      await Deno.writeFile(evil, zipPth(callPickle("os", "system", "touch pwned")));
      const args = ["eval", "--dataset-mode", "2afc", "--root", root, "--datasets"];
      const r = await lpips([...args, "val/traditional", "--model-path", evil]);
      await assertFault("evil --model-path", r, evil, /refuses to load global os\.system/);
      const none = join(dir, "none.pth");
      const r2 = await lpips([...args, "val/traditional", "--model-path", none]);
      await assertFault("missing --model-path", r2, none, /no such file/i);
    });
  },
});

// ---------------------------------------------------------------------------------------------
// dirs and allpairs: a pair that fails does not stop the others

/** Reads stdout/stderr lines of a run (no trailing empty line). */
const lines = (s: string) => s.trimEnd().split("\n").filter((l) => l !== "");

Deno.test({
  ...needsTestData("dirs: a pair of two sizes and a corrupt file are named, the others finish"),
  fn: async () => {
    await withTempDir(async (dir) => {
      const d0 = join(dir, "d0"), d1 = join(dir, "d1");
      await Deno.mkdir(d0);
      await Deno.mkdir(d1);
      const png = rgbPng(64, 64);
      for (const n of ["a", "b", "c", "d"]) await Deno.writeFile(join(d0, `${n}.png`), png);
      await Deno.writeFile(join(d0, "d.png"), png.slice(0, png.length >> 1));
      await Deno.writeFile(join(d1, "a.png"), rgbPng(64, 64, 1));
      await Deno.writeFile(join(d1, "b.png"), rgbPng(80, 64));
      await Deno.writeFile(join(d1, "c.png"), png);
      await Deno.writeFile(join(d1, "d.png"), png);
      const out = join(dir, "dists.txt");
      const r = await lpips(["dirs", d0, d1, "--out", out]);
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(lines(r.stdout).map((l) => l.replace(/\d\.\d{6}$/, "D")), [
        "a.png: D",
        "c.png: D",
      ]);
      assert.equal(lines(r.stdout)[1], "c.png: 0.000000");
      const err = lines(r.stderr);
      assert.equal(err.length, 3, r.stderr);
      assert.equal(
        err[0],
        `lpips dirs: ${join(d0, "b.png")} (64x64) and ${join(d1, "b.png")} (80x64) differ in size`,
      );
      assert.match(err[1], /^lpips dirs: .*d0\/d\.png: corrupt or truncated image \(PNG: /);
      assert.ok(err[1].endsWith(`; pair ${join(d0, "d.png")}, ${join(d1, "d.png")} skipped`));
      assert.equal(err[2], `lpips dirs: 2 of 4 pairs failed (named above); ${out} not written`);
      assert.doesNotMatch(r.stderr, /\bat .*:\d+:\d+/);
      await assert.rejects(Deno.lstat(out), Deno.errors.NotFound);

      const j = await lpips(["dirs", d0, d1, "--json"]);
      assert.equal(j.code, 1);
      const rows = JSON.parse(j.stdout);
      assert.deepEqual(rows.map((x: { file: string }) => x.file), [
        "a.png",
        "b.png",
        "c.png",
        "d.png",
      ]);
      assert.equal(typeof rows[0].distance, "number");
      assert.equal(rows[1].distance, null);
      assert.match(rows[1].error, /differ in size/);
      assert.equal(rows[2].distance, 0);
      assert.match(rows[3].error, /corrupt or truncated/);
      assert.equal(lines(j.stderr).at(-1), "lpips dirs: 2 of 4 pairs failed (named above)");

      const shard = join(dir, "shard.jsonl");
      const s = await lpips(["dirs", d0, d1, "--shard", "0/1", "--out", shard]);
      assert.equal(s.code, 1);
      assert.equal(s.stdout, "");
      assert.equal(
        lines(s.stderr).at(-1),
        `lpips dirs: 2 of 4 pairs failed (named above); ${shard} not written`,
      );
      await assert.rejects(Deno.lstat(shard), Deno.errors.NotFound);
    });
  },
});

Deno.test({
  ...needsTestData("allpairs: failed pairs are named, the others printed, no mean, exit 1"),
  fn: async () => {
    await withTempDir(async (dir) => {
      await Deno.writeFile(join(dir, "a.png"), rgbPng(64, 64));
      await Deno.writeFile(join(dir, "b.png"), rgbPng(80, 64));
      await Deno.writeFile(join(dir, "c.png"), rgbPng(64, 64));
      await Deno.writeFile(join(dir, "d.png"), rgbPng(64, 64));
      const out = join(dir, "pairs.txt");
      const r = await lpips(["allpairs", dir, "--out", out]);
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(lines(r.stdout), ["c.png, d.png: 0.000000"]);
      const p = (n: string) => join(dir, n);
      assert.deepEqual(lines(r.stderr), [
        `lpips allpairs: ${p("a.png")} (64x64) and ${p("b.png")} (80x64) differ in size`,
        `lpips allpairs: ${p("b.png")} (80x64) and ${p("c.png")} (64x64) differ in size`,
        `lpips allpairs: 2 of 3 pairs failed (named above); no mean printed, ${out} not written`,
      ]);
      await assert.rejects(Deno.lstat(out), Deno.errors.NotFound);
      const j = await lpips(["allpairs", dir, "--json"]);
      assert.equal(j.code, 1);
      const o = JSON.parse(j.stdout);
      assert.equal(o.mean, null);
      assert.equal(o.stderr, null);
      assert.deepEqual(o.pairs.map((x: { distance: number | null }) => x.distance), [
        null,
        null,
        0,
      ]);
    });
  },
});

// ---------------------------------------------------------------------------------------------
// Option values out of range, and eval's default subsets

Deno.test({
  ...needsTestData("eval: option values out of range name the option and the value"),
  fn: async () => {
    const root = testData("bapps-mini");
    const cases: [string[], string, string][] = [
      [["--batch-size", "-3"], "--batch-size", "--batch-size must be a positive integer (got -3)"],
      [
        ["--bootstrap", "-1"],
        "--bootstrap",
        "--bootstrap must be 0 or a positive integer (got -1)",
      ],
      [["--workers", "-1"], "--workers", "--workers must be 0 or a positive integer (got -1)"],
      [["--threads", "0"], "--threads", "--threads must be a positive integer (got 0)"],
      [
        ["--shard", "-1/2", "--out", "x.jsonl"],
        "--shard",
        '--shard must be K/N with 0 <= K < N, e.g. 0/4 (got "-1/2")',
      ],
      [
        ["--shard", "0/0", "--out", "x.jsonl"],
        "--shard",
        "--shard 0/0: N, the number of shards, must be a positive integer below 2^31",
      ],
    ];
    for (const [extra, option, message] of cases) {
      const r = await lpips(["eval", "--root", root, "--model", "l2", ...extra]);
      const line = await assertFault(extra.join(" "), r, option, /./);
      assert.equal(line, `lpips eval: ${message}`);
    }
  },
});

Deno.test({
  ...needsTestData(
    "eval and train without --datasets on a root without the default subsets list them",
  ),
  fn: async () => {
    await withTempDir(async (dir) => {
      const root = await miniBapps(dir, "one", 2);
      const r = await lpips(["eval", "--root", root, "--model", "l2"]);
      const line = await assertFault("default subsets", r, join(root, "2afc"), /lacks/);
      assert.equal(
        line,
        `lpips eval: ${join(root, "2afc")} lacks the default subsets val/cnn val/superres ` +
          "val/deblur val/color val/frameinterp; it holds val/traditional: choose with " +
          "--datasets (e.g. --datasets val/traditional)",
      );
      const checkpoints = join(dir, "checkpoints");
      const t = await lpips(["train", "--root", root, "--checkpoints-dir", checkpoints]);
      const trainLine = await assertFault("train defaults", t, join(root, "2afc"), /lacks/, [
        checkpoints,
      ]);
      assert.equal(
        trainLine,
        `lpips train: ${join(root, "2afc")} lacks the default subsets train/traditional ` +
          "train/cnn train/mix; it holds val/traditional: choose with --datasets (e.g. " +
          "--datasets val/traditional)",
      );
    });
  },
});

// ---------------------------------------------------------------------------------------------
// Nothing silently wrong: values outside their domain, inputs that are huge or endless, one
// dataset under two names, outputs that cannot be written (docs/faults.md, "Values, sizes and
// names").

/** A JND root with the first `n` pairs of bapps-mini's jnd/val/traditional. */
const miniJnd = (dir: string, name: string, n = 3) => miniSubset(dir, name, "jnd", n);

const npy1 = (v: number) => writeNpy(new Float64Array([v]), [1]);

async function mkfifo(path: string): Promise<void> {
  assert.ok((await new Deno.Command("mkfifo", { args: [path] }).output()).success, "mkfifo");
}

/** The head file of `alexHeads()` with every weight replaced by `f(w, i)`. */
function alexHeadsWith(f: (w: number, i: number) => number): Uint8Array {
  return writePth(
    new Map(ALEX_HEADS.map((c, k) => [`lin${k}.model.1.weight`, {
      shape: [1, c, 1, 1],
      data: new Float32Array(c).fill(0.25).map(f),
    }])),
    "alex",
  );
}

Deno.test({
  ...needsTestData("eval: judgements outside [0, 1] and a JND set without 'same' are refused"),
  fn: async () => {
    await withTempDir(async (dir) => {
      for (const [name, v] of [["j500", 500], ["j1.5", 1.5], ["j-0.5", -0.5]] as const) {
        const root = await miniBapps(dir, name);
        const judge = subset(root, "judge", "000001.npy");
        await Deno.writeFile(judge, npy1(v));
        const out = join(dir, `${name}.csv`);
        const r = await lpips([
          "eval",
          "--root",
          root,
          "--datasets",
          "val/traditional",
          "--model",
          "l2",
          "--per-item",
          out,
        ]);
        await assertFault(
          `2afc judge ${v}`,
          r,
          judge,
          new RegExp(`judgement ${v} is outside \\[0, 1\\] \\(a fraction of the judges\\)$`),
          [out],
        );
      }
      const jnd = (root: string) =>
        lpips([
          "eval",
          "--root",
          root,
          "--dataset-mode",
          "jnd",
          "--datasets",
          "val/traditional",
          "--model",
          "l2",
        ]);
      const neg = await miniJnd(dir, "neg");
      const same = join(neg, "jnd", "val", "traditional", "same", "000001.npy");
      await Deno.writeFile(same, npy1(-40));
      await assertFault("jnd same -40", await jnd(neg), same, /judgement -40 is outside \[0, 1\]/);
      const none = await miniJnd(dir, "none");
      for (let i = 0; i < 3; i++) {
        await Deno.writeFile(
          join(none, "jnd", "val", "traditional", "same", `00000${i}.npy`),
          npy1(0),
        );
      }
      await assertFault(
        "jnd all same 0",
        await jnd(none),
        join(none, "jnd", "val", "traditional"),
        /: the JND mAP is undefined: no pair was judged "same" \(all 3 same values are 0, so precision is 0\/0 at every rank\)$/,
      );
    });
  },
});

Deno.test({
  ...needsTestData("train: a judgement outside [0, 1] is refused, not trained on"),
  fn: async () => {
    await withTempDir(async (dir) => {
      const root = await miniBapps(dir, "train", 2);
      const judge = subset(root, "judge", "000001.npy");
      await Deno.writeFile(judge, npy1(7.5));
      const checkpoints = join(dir, "checkpoints");
      const r = await lpips([
        "train",
        "--root",
        root,
        "--datasets",
        "val/traditional",
        "--epochs",
        "1",
        "--epochs-decay",
        "0",
        "--batch-size",
        "2",
        "--checkpoints-dir",
        checkpoints,
        "--workers",
        "0",
      ]);
      await assertFault("train judge 7.5", r, judge, /judgement 7\.5 is outside \[0, 1\]/, [
        join(checkpoints, "tmp", "latest_net_.pth"),
      ]);
      // An output folder that cannot be made is refused before the run.
      const file = join(dir, "a-file");
      await Deno.writeTextFile(file, "");
      const r2 = await lpips([
        "train",
        "--root",
        root,
        "--datasets",
        "val/traditional",
        "--checkpoints-dir",
        file,
      ]);
      await assertFault(
        "train into a file",
        r2,
        file,
        /cannot write \(.*a-file is a file, not a folder\)$/,
      );
    });
  },
});

Deno.test({
  ...needsTestData(
    "eval: one subset under two names, colliding and unwritable outputs, before any work",
  ),
  fn: async () => {
    await withTempDir(async (dir) => {
      const root = await miniBapps(dir, "bapps", 2);
      const base = ["eval", "--root", root, "--model", "l2"];
      const out = join(dir, "out.csv");
      const noProgress = (r: CliRun) => assert.doesNotMatch(r.stderr, /items/, r.stderr);
      let r = await lpips([
        ...base,
        "--datasets",
        "val/traditional",
        "val//traditional",
        "--per-item",
        out,
      ]);
      await assertFault(
        "val//traditional",
        r,
        "val//traditional",
        /subset 'val\/traditional' given twice \(as 'val\/traditional' and 'val\/\/traditional'\)$/,
        [out, join(dir, "out.val_traditional.csv")],
      );
      noProgress(r);
      // Two subsets whose per-item files would have one name (x/y_z and x_y/z: OUT.x_y_z.csv).
      for (const parts of [["x", "y_z"], ["x_y", "z"]]) {
        for (const role of ["ref", "p0", "p1", "judge"]) {
          const to = join(root, "2afc", ...parts, role);
          await Deno.mkdir(to, { recursive: true });
          for (const e of Deno.readDirSync(subset(root, role))) {
            await Deno.copyFile(subset(root, role, e.name), join(to, e.name));
          }
        }
      }
      const collide = join(dir, "out.x_y_z.csv");
      r = await lpips([...base, "--datasets", "x/y_z", "x_y/z", "--per-item", out]);
      await assertFault(
        "per-item collision",
        r,
        collide,
        /cannot write \(two outputs of this run would be this one file\)$/,
        [collide],
      );
      noProgress(r);
      const folder = join(dir, "folder.csv");
      await Deno.mkdir(folder);
      for (const option of ["--per-item", "--out"]) {
        r = await lpips([...base, "--datasets", "x/y_z", option, folder]);
        await assertFault(`${option} folder`, r, folder, /: cannot write \(it is a folder\)$/);
        noProgress(r);
      }
    });
  },
});

Deno.test({
  ...needsTestData("eval --model-path: a device, a FIFO, a folder, negative and overflowing heads"),
  fn: async () => {
    await withTempDir(async (dir) => {
      const root = await miniBapps(dir, "bapps", 2);
      const fifo = join(dir, "fifo.pth");
      await mkfifo(fifo);
      const neg = join(dir, "neg.pth"), huge = join(dir, "huge.pth");
      await Deno.writeFile(neg, alexHeadsWith((w, i) => i === 2 ? -1 : w));
      await Deno.writeFile(huge, alexHeadsWith(() => 3e38));
      const cases: [string, RegExp][] = [
        ["/dev/zero", /: cannot read \(it is a character device, not a regular file\)$/],
        [fifo, /: cannot read \(it is a FIFO \(named pipe\), not a regular file\)$/],
        [dir, /: cannot read \(it is a folder, not a file\)$/],
        [
          neg,
          /tensor lin0\.model\.1\.weight has a negative weight \(-1\) at flat index 2; LPIPS heads are >= 0/,
        ],
        [
          huge,
          /head weights too large \(a distance could reach 6\.00e\+39, over float32's largest value/,
        ],
      ];
      for (const [path, cause] of cases) {
        const r = await lpips([
          "eval",
          "--root",
          root,
          "--datasets",
          "val/traditional",
          "--model-path",
          path,
        ]);
        await assertFault(`--model-path ${path}`, r, path, cause);
      }
    });
  },
});

Deno.test({
  ...needsTestData("compare: /dev/zero, a FIFO, a 3 GB file, a 16000x16000 PNG, --spatial folder"),
  fn: async () => {
    await withTempDir(async (dir) => {
      const good = join(dir, "good.png");
      await Deno.writeFile(good, rgbPng(64, 64));
      const fifo = join(dir, "a.png");
      await mkfifo(fifo);
      const sparse = join(dir, "x.png");
      await Deno.writeFile(sparse, new Uint8Array(0));
      await Deno.truncate(sparse, 3 * 1024 ** 3);
      const bomb = join(dir, "bomb.png");
      await Deno.writeFile(bomb, greyPng(16000, 16000));
      const cases: [string, RegExp][] = [
        ["/dev/zero", /: cannot read \(it is a character device, not a regular file\)$/],
        [fifo, /: cannot read \(it is a FIFO \(named pipe\), not a regular file\)$/],
        [sparse, /: not a PNG, JPEG, BMP, TIFF, WebP or GIF file$/],
        [
          bomb,
          /: image too large \(PNG: 16000x16000 is 256000000 pixels, over the limit of 178956970, Pillow's default; LPIPS_MAX_IMAGE_PIXELS=N changes it\)$/,
        ],
      ];
      for (const [path, cause] of cases) {
        const spatial = join(dir, "map.png");
        const r = await lpips(["compare", path, good, "--spatial", spatial]);
        await assertFault(`compare ${path}`, r, path, cause, [spatial]);
      }
      const folder = join(dir, "map-folder.png");
      await Deno.mkdir(folder);
      await assertFault(
        "--spatial folder",
        await lpips(["compare", good, good, "--spatial", folder]),
        folder,
        /: cannot write \(it is a folder\)$/,
      );
      // The limit is settable: LPIPS_MAX_IMAGE_PIXELS.
      const small = await runCli(["compare", good, good, "--metric", "l2"], {
        env: { LPIPS_MAX_IMAGE_PIXELS: "4000" },
      });
      await assertFault(
        "LPIPS_MAX_IMAGE_PIXELS=4000",
        small,
        good,
        /image too large \(PNG: 64x64 is 4096 pixels, over the limit of 4000 set by LPIPS_MAX_IMAGE_PIXELS\)$/,
      );
      const bad = await runCli(["compare", good, good, "--metric", "l2"], {
        env: { LPIPS_MAX_IMAGE_PIXELS: "lots" },
      });
      assert.equal(bad.code, 1);
      assert.equal(
        bad.stderr,
        'lpips compare: LPIPS_MAX_IMAGE_PIXELS must be a positive integer (got "lots")\n',
      );
      const fine = await runCli(["compare", good, good, "--metric", "l2"], {
        env: { LPIPS_MAX_IMAGE_PIXELS: "4096" },
      });
      assert.equal(fine.code, 0, fine.stderr);
    });
  },
});

Deno.test({
  name: "compare: the bombs are refused within a second of a plain failure, under 500 MB resident",
  ignore: !TEST_DATA || !existsSync("/usr/bin/time"), // GNU time measures the peak memory
  fn: async () => {
    await withTempDir(async (dir) => {
      const good = join(dir, "good.png");
      await Deno.writeFile(good, rgbPng(64, 64));
      const bomb = join(dir, "bomb.png");
      await Deno.writeFile(bomb, greyPng(16000, 16000));
      const fifo = join(dir, "a.png");
      await mkfifo(fifo);
      const measure = async (image: string) => {
        const r = await new Deno.Command("/usr/bin/time", {
          args: [
            "-f",
            "%e %M",
            Deno.execPath(),
            "run",
            "-A",
            CLI,
            "compare",
            image,
            good,
            "--metric",
            "l2",
          ],
          env: { NO_COLOR: "1" },
          stdout: "piped",
          stderr: "piped",
          stdin: "null",
        }).output();
        const [seconds, kb] = new TextDecoder().decode(r.stderr).trimEnd().split("\n").at(-1)!
          .split(" ").map(Number);
        assert.equal(r.code, 1);
        return { seconds, mb: kb / 1024 };
      };
      const base = await measure(join(dir, "missing.png"));
      for (const image of [bomb, "/dev/zero", fifo]) {
        const m = await measure(image);
        assert.ok(
          m.seconds < base.seconds + 1,
          `${image}: ${m.seconds} s (plain failure ${base.seconds} s)`,
        );
        assert.ok(m.mb < 500, `${image}: ${m.mb} MB resident`);
      }
    });
  },
});

Deno.test({
  ...needsTestData("merge: an edited shard file and an unwritable --per-item are refused"),
  fn: async () => {
    await withTempDir(async (dir) => {
      const root = await miniBapps(dir, "bapps", 3);
      const shard = join(dir, "s0.jsonl");
      const made = await lpips([
        "eval",
        "--root",
        root,
        "--datasets",
        "val/traditional",
        "--model",
        "l2",
        "--shard",
        "0/1",
        "--out",
        shard,
        "-q",
      ]);
      assert.equal(made.code, 0, made.stderr);
      const text = await Deno.readTextFile(shard);
      const edited = join(dir, "edited.jsonl");
      await Deno.writeTextFile(edited, text.replace(/"d0":[^,]+/, '"d0":0.5'));
      await assertFault(
        "merge edited",
        await lpips(["merge", edited]),
        edited,
        /: its items or header were changed after it was written \(the SHA-256 in its end line does not match its content\): re-run the shard$/,
      );
      const folder = join(dir, "items.csv");
      await Deno.mkdir(folder);
      await assertFault(
        "merge --per-item folder",
        await lpips(["merge", shard, "--per-item", folder]),
        folder,
        /: cannot write \(it is a folder\)$/,
      );
      const ok = await lpips(["merge", shard]);
      assert.equal(ok.code, 0, ok.stderr);
    });
  },
});

Deno.test({
  ...needsTestData("dirs and allpairs: an --out that is a folder is refused before any pair"),
  fn: async () => {
    await withTempDir(async (dir) => {
      const d0 = join(dir, "d0"), d1 = join(dir, "d1"), folder = join(dir, "folder");
      for (const d of [d0, d1, folder]) await Deno.mkdir(d);
      const png = rgbPng(64, 64);
      await Deno.writeFile(join(d0, "a.png"), png);
      await Deno.writeFile(join(d1, "a.png"), png);
      await Deno.writeFile(join(d1, "b.png"), png);
      const cause = /: cannot write \(it is a folder\)$/;
      await assertFault(
        "dirs --out folder",
        await lpips(["dirs", d0, d1, "--out", folder]),
        folder,
        cause,
      );
      await assertFault(
        "allpairs --out folder",
        await lpips(["allpairs", d1, "--out", folder]),
        folder,
        cause,
      );
    });
  },
});
