import assert from "node:assert/strict";
import { join } from "node:path";
import { needsTestData, TEST_DATA, testData } from "./_internal/test_data.ts";
import { type CliRun, runCli } from "./_internal/test_cli.ts";
import { lpipsCases } from "./lpips/conformance.ts";
import { readNpy } from "./bappsloader/npy.ts";
import { decodeImage } from "./bappsloader/image.ts";
import { encode } from "fast-png";

/** Runs `cli.ts` as a user would (offline: weights from the shared folder; no --allow-ffi). */
const lpips = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
  runCli(args, {
    env,
    permissions: ["--allow-read", "--allow-write", "--allow-env", "--allow-net", "--allow-sys"],
  });
const img = (name: string) => testData("images", `${name}.png`);

async function golden(id: string): Promise<number> {
  const e = (await lpipsCases()).find((c) => c.id === id)!.expected;
  return (e.distance ?? e.map_mean)![0];
}

Deno.test({
  ...needsTestData("compare --json prints one object with the reference's values"),
  fn: async () => {
    const r = await lpips(["compare", img("ex_ref"), img("ex_p0"), "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(j), [
      "metric",
      "net",
      "version",
      "lpips",
      "distance",
      "score",
      "lower_is_better",
      "layers",
    ]);
    assert.equal(j.metric, "lpips");
    assert.deepEqual([j.score, j.lower_is_better], [j.distance, true]); // LPIPS is a distance
    assert.ok(Math.abs(j.distance - await golden("lpips.ex_p0.alex.v0.1.lin.scalar")) < 1e-5);
    assert.equal(j.layers.length, 5);
    assert.ok(Math.abs(j.layers.reduce((a: number, b: number) => a + b) - j.distance) < 1e-6);
    const v = await lpips([
      "compare",
      img("ex_ref"),
      img("ex_p1"),
      "--net",
      "squeeze",
      "--version",
      "0.0",
      "--json",
    ]);
    const jv = JSON.parse(v.stdout);
    assert.equal(jv.net, "squeeze");
    assert.ok(Math.abs(jv.distance - await golden("lpips.ex_p1.squeeze.v0.0.lin.scalar")) < 1e-5);
    const u = await lpips(["compare", img("ex_ref"), img("ex_p1"), "--uncalibrated", "--json"]);
    assert.equal(JSON.parse(u.stdout).lpips, false);
    assert.ok(
      Math.abs(JSON.parse(u.stdout).distance - await golden("lpips.ex_p1.alex.v0.1.nolin.scalar")) <
        1e-5,
    );
  },
});

Deno.test({
  ...needsTestData(
    "compare --metric l2|ssim gives the paper's baselines (docs/algorithm.md §2, path A)",
  ),
  fn: async () => {
    const want: [string, string, number][] = [
      ["l2", "RGB", 0.0627344168],
      ["l2", "Lab", 0.00437430463],
      ["ssim", "RGB", 0.261782155],
      ["ssim", "Lab", 0.243387215],
    ];
    for (const [metric, colorspace, value] of want) {
      const args = ["compare", img("ex_ref"), img("ex_p0"), "--metric", metric];
      const r = await lpips([...args, "--colorspace", colorspace, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.metric, metric);
      assert.equal(j.colorspace, colorspace);
      assert.ok(Math.abs(j.distance / value - 1) < 1e-6, `${metric} ${colorspace}: ${j.distance}`);
    }
    const plain = await lpips(["compare", img("ex_ref"), img("ex_p1"), "--metric", "ssim"]);
    assert.match(plain.stdout, /^DSSIM \(Lab\): 0\.33842\d\n$/);
  },
});

Deno.test({
  ...needsTestData("compare --spatial: the map as float32 .npy and as a labelled PNG; --map-max"),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const npy = join(dir, "map.npy");
      const r = await lpips(["compare", img("ex_ref"), img("ex_p0"), "--spatial", npy, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const map = await readNpy(npy);
      assert.deepEqual(map.shape, [1, 1, 64, 64]);
      assert.equal(map.dtype, "float32");
      const mean = (map.data as Float32Array).reduce((a, b) => a + b) / 4096;
      assert.ok(Math.abs(mean - await golden("lpips.ex_p0.alex.v0.1.lin.spatial")) < 1e-5);
      assert.ok(Math.abs(JSON.parse(r.stdout).map_mean - mean) < 1e-6);
      const max = (map.data as Float32Array).reduce((a, b) => Math.max(a, b));
      assert.equal(JSON.parse(r.stdout).map_max, max);
      assert.equal(JSON.parse(r.stdout).map_scale, undefined); // no colours in a .npy
      const png = join(dir, "map.png");
      const text = await lpips(["compare", img("ex_ref"), img("ex_p0"), "--spatial", png]);
      assert.equal(text.code, 0, text.stderr);
      const f6 = (v: number) => v.toFixed(6);
      assert.equal(
        text.stdout.split("\n")[1],
        `Map mean: ${f6(mean)}, max: ${f6(max)} (map: ${png}, colours 0 to ${f6(max)})`,
      );
      // A labelled picture: the 64x64 map grown by 4, a title above, a colour bar beside.
      const pic = decodeImage(await Deno.readFile(png));
      assert.ok(pic.width > 256 + 40 && pic.width < 512, `${pic.width}`);
      assert.ok(pic.height > 256 + 40 && pic.height < 512, `${pic.height}`);
      assert.ok(new Set(pic.data).size > 20, "the heatmap should not be flat");
      let ink = 0; // dark pixels in the title line
      for (let i = 14 * pic.width; i < 30 * pic.width; i++) if (pic.data[3 * i] < 128) ink++;
      assert.ok(ink > 100, `${ink}`);
      // --map-max: the colour scale, said in the text and the JSON.
      const fixed = await lpips([
        "compare",
        img("ex_ref"),
        img("ex_p0"),
        "--spatial",
        png,
        "--map-max",
        "2",
        "--json",
      ]);
      assert.equal(fixed.code, 0, fixed.stderr);
      const j = JSON.parse(fixed.stdout);
      assert.deepEqual([j.map_max, j.map_scale, j.spatial], [max, 2, png]);
      // The same pixel is darker on the larger scale.
      const darker = decodeImage(await Deno.readFile(png));
      assert.equal(darker.height, pic.height); // only the colour bar's numbers differ in width
      const sum = (p: typeof pic) => {
        const at = 3 * ((p.height >> 1) * p.width + 60); // inside the map, left of the bar
        return p.data[at] + p.data[at + 1] + p.data[at + 2];
      };
      assert.ok(sum(darker) < sum(pic), `${sum(darker)} vs ${sum(pic)}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...needsTestData("user mistakes: one line on stderr, exit 1, nothing on stdout"),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const broken = join(dir, "broken.png");
      await Deno.writeFile(broken, (await Deno.readFile(img("ex_p0"))).slice(0, 300));
      const cases: [string[], RegExp][] = [
        [["compare", img("ex_ref"), join(dir, "missing.png")], /missing\.png: cannot read/],
        [["compare", img("ex_ref"), broken], /broken\.png: corrupt or truncated/],
        [["compare", img("ex_ref"), img("tid_I03_ref")], /differ in shape/],
        [["compare", img("ex_ref")], /expected two image files/],
        [["compare", img("ex_ref"), img("ex_p0"), "--net", "resnet"], /--net must be one of/],
        [["compare", img("ex_ref"), img("ex_p0"), "--bogus"], /bogus/],
        [["compare", img("ex_ref"), img("ex_p0"), "--spatial", "x.jpg"], /\.png or \.npy/],
        [
          [
            "compare",
            img("ex_ref"),
            img("ex_p0"),
            "--spatial",
            join(dir, "m.png"),
            "--map-max",
            "0",
          ],
          /--map-max needs a positive number \(got 0\)/,
        ],
        [
          [
            "compare",
            img("ex_ref"),
            img("ex_p0"),
            "--spatial",
            join(dir, "m.png"),
            "--map-max",
            "x",
          ],
          /--map-max needs a positive number \(got x\)/,
        ],
        [
          [
            "compare",
            img("ex_ref"),
            img("ex_p0"),
            "--spatial",
            join(dir, "m.npy"),
            "--map-max",
            "1",
          ],
          /--map-max sets the colour scale of a --spatial \.png map/,
        ],
        [["compare", img("ex_ref"), img("ex_p0"), "--map-max", "1"], /--map-max sets the colour/],
        [["frobnicate"], /unknown command/],
      ];
      for (const [args, msg] of cases) {
        const r = await lpips(args);
        assert.equal(r.code, 1, args.join(" "));
        assert.equal(r.stdout, "");
        assert.match(r.stderr, msg);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      }
      for (const f of ["m.png", "m.npy"]) assert.throws(() => Deno.statSync(join(dir, f)));
      const noWeights = await lpips(["compare", img("ex_ref"), img("ex_p0")], {
        LPIPS_WEIGHTS_DIR: dir,
      });
      assert.equal(noWeights.code, 1);
      assert.match(noWeights.stderr, /alexnet-owt-7be5be79\.pth not found.*LPIPS_WEIGHTS_DIR/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...needsTestData("dirs and allpairs: the reference's example folders"),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      // ex_dir0 = {0: ref, 1: ref}, ex_dir1 = {0: p0, 1: p1}, as in the reference repository.
      for (const d of ["d0", "d1"]) await Deno.mkdir(join(dir, d));
      await Deno.copyFile(img("ex_ref"), join(dir, "d0", "0.png"));
      await Deno.copyFile(img("ex_ref"), join(dir, "d0", "1.png"));
      await Deno.copyFile(img("ex_p0"), join(dir, "d1", "0.png"));
      await Deno.copyFile(img("ex_p1"), join(dir, "d1", "1.png"));
      await Deno.writeTextFile(join(dir, "d1", "notes.txt"), "not an image");
      const out = join(dir, "out.txt");
      const r = await lpips(["dirs", join(dir, "d0"), join(dir, "d1"), "--out", out]);
      assert.equal(r.code, 0, r.stderr);
      const lines = (await Deno.readTextFile(out)).trim().split("\n");
      assert.equal(lines.length, 2);
      assert.match(lines[0], /^0\.png: 0\.72\d{4}$/);
      assert.match(lines[1], /^1\.png: 0\.13\d{4}$/);
      assert.equal(r.stdout.trim(), lines.join("\n"));
      const a = await lpips(["allpairs", join(dir, "d1"), "--json"]);
      assert.equal(a.code, 0, a.stderr);
      const j = JSON.parse(a.stdout);
      assert.equal(j.pairs.length, 1);
      assert.equal(j.stderr, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...needsTestData("demo runs offline from LPIPS_TEST_DATA and finds ex_p1 closer"),
  fn: async () => {
    const r = await lpips(["demo"], {
      LPIPS_TEST_DATA: TEST_DATA!,
      XDG_CACHE_HOME: "/nonexistent",
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /d\(ex_ref, ex_p0\) = 0\.72\d+/);
    assert.match(r.stdout, /ex_p1 is closer/);
  },
});

Deno.test("the overview lists merge, and merge --help describes sharded runs", async () => {
  const r = await lpips(["--help"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ {2}merge SHARD_FILE\.\.\. /m);
  const m = await lpips(["merge", "--help"]);
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, /--shard K\/N\s+--out\s+FILE/);
  for (const command of ["eval", "dirs", "allpairs"]) {
    const h = await lpips([command, "--help"]);
    assert.match(h.stdout, /--shard K\/N/, command);
  }
});

Deno.test("--version and -V print deno.json's version; help never says `deno task`", async () => {
  const { version } = JSON.parse(await Deno.readTextFile(new URL("./deno.json", import.meta.url)));
  for (const flag of ["--version", "-V"]) {
    const r = await lpips([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
  }
  const overview = await lpips(["--help"]);
  assert.match(overview.stdout, /^Usage: lpips <command> \[options\]$/m);
  assert.ok(overview.stdout.includes(`version ${version}`));
  for (
    const command of ["compare", "dirs", "allpairs", "eval", "merge", "train", "demo", "download"]
  ) {
    for (const args of [[command, "--help"], ["help", command]]) {
      const h = await lpips(args);
      assert.equal(h.code, 0, h.stderr);
      assert.ok(h.stdout.startsWith(`Usage: lpips ${command} `), args.join(" "));
      assert.doesNotMatch(h.stdout, /deno task/);
      assert.ok(h.stdout.split("\n").every((l) => l.length <= 80), args.join(" "));
    }
  }
});

Deno.test("a typo gets one line with the closest option or command", async () => {
  const cases: [string[], string][] = [
    [
      ["compare", "a.png", "b.png", "--jsn"],
      "lpips compare: unknown option --jsn (did you mean --json?)",
    ],
    [
      ["allpairs", "d", "--allpairs"],
      "lpips allpairs: unknown option --allpairs (did you mean --all-pairs?)",
    ],
    [
      ["eval", "--batchsize", "3"],
      "lpips eval: unknown option --batchsize (did you mean --batch-size?)",
    ],
    [["comapre", "a.png", "b.png"], 'lpips: unknown command "comapre" (did you mean compare?)'],
    [["frobnicate"], 'lpips: unknown command "frobnicate" (lpips --help lists the commands)'],
    [["--verison"], "lpips: unknown option --verison (did you mean --version?)"],
    [["compare", "a.png", "--net"], "lpips compare: --net needs a value"],
    [
      ["eval", "--root", "x", "--batch-size", "-3"],
      "lpips eval: --batch-size must be a positive integer (got -3)",
    ],
    [
      ["compare", "a.png"],
      "lpips compare: expected two image files: compare IMG0 IMG1 (got 1 argument)",
    ],
  ];
  for (const [args, line] of cases) {
    const r = await lpips(args);
    assert.equal(r.code, 1, args.join(" "));
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, `${line}\n`);
  }
});

Deno.test("a missing permission is one line naming the flag, never a stack trace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const png = join(dir, "a.png");
    await Deno.writeFile(
      png,
      encode({ width: 64, height: 64, data: new Uint8Array(64 * 64 * 3), channels: 3 }),
    );
    const r = await runCli(["compare", png, png], { permissions: ["--allow-read"] });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      /^lpips compare: needs env access to "\w+": run with --allow-env; also not granted: --allow-write --allow-net --allow-sys --allow-ffi \(or use -A\)\n$/,
    );
    // LPIPS_DEBUG asks for the whole error; without --allow-env it cannot be read, and is no error.
    const d = await runCli(["compare", png, png], {
      permissions: ["--allow-read"],
      env: { LPIPS_DEBUG: "1" },
    });
    assert.equal(d.stderr, r.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
