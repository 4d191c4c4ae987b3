import assert from "node:assert/strict";
import { join } from "node:path";
import { listTwoAFC } from "../bappsloader/layout.ts";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { type CliRun, runCli } from "../_internal/test_cli.ts";
import { parsePerItemCsv } from "../eval/csv.ts";
import { perItemPath } from "./eval.ts";

type Scores = Record<string, Record<string, Record<string, { score: number; n: number }>>>;

const lpips = (...args: string[]): Promise<CliRun> => runCli(args);
async function expectedScores(): Promise<Scores> {
  return JSON.parse(await Deno.readTextFile(testData("bapps-mini", "expected_scores.json")));
}

function checkJson(stdout: string, key: string, mode: string, scores: Scores) {
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, 1, "exactly one JSON line on stdout");
  const j = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(j), [
    "dataset_mode",
    "model",
    "net",
    "version",
    "colorspace",
    "results",
  ]);
  assert.equal(j.dataset_mode, mode);
  for (const subset of ["val/traditional", "val/cnn"]) {
    const want = scores[key][mode][subset];
    const got = j.results[subset];
    assert.deepEqual(Object.keys(got), ["score", "n", "ci95"]);
    assert.equal(got.n, want.n);
    assert.ok(Math.abs(got.score - want.score) < 1e-4, `${key} ${subset}: ${got.score}`);
    assert.ok(got.ci95[0] <= got.score && got.score <= got.ci95[1]);
  }
  return j;
}

Deno.test({
  ...needsTestData("eval CLI: lpips alex v0.0 on JND reproduces expected_scores.json (--json)"),
  fn: async () => {
    const r = await lpips(
      "eval",
      "--dataset-mode",
      "jnd",
      "--root",
      testData("bapps-mini"),
      "--net",
      "alex",
      "--version",
      "0.0",
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const j = checkJson(r.stdout, "lpips_alex_v0.0", "jnd", await expectedScores());
    assert.equal(j.model, "lpips");
    assert.equal(j.net, "alex");
    assert.equal(j.version, "0.0");
    assert.equal(j.colorspace, null);
    assert.match(r.stderr, /val\/cnn 120\/120 items, [\d.]+ items\/s/); // progress on stderr
  },
});

Deno.test({
  ...needsTestData("eval CLI: ssim Lab on 2AFC, --per-item CSVs match expected/*.csv"),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const out = join(dir, "items.csv");
      const root = testData("bapps-mini");
      const r = await lpips(
        "eval",
        "--root",
        root,
        "--datasets",
        "val/traditional",
        "val/cnn",
        "--model",
        "ssim",
        "--json",
        "--per-item",
        out,
        "--batch-size",
        "7",
      );
      assert.equal(r.code, 0, r.stderr);
      const j = checkJson(r.stdout, "ssim_Lab", "2afc", await expectedScores());
      assert.equal(j.colorspace, "Lab");
      assert.equal(j.net, null);
      for (const subset of ["val/traditional", "val/cnn"]) {
        const path = perItemPath(out, subset, 2);
        assert.equal(path, join(dir, `items.${subset.replace("/", "_")}.csv`));
        const got = parsePerItemCsv(await Deno.readTextFile(path));
        const want = parsePerItemCsv(
          await Deno.readTextFile(
            testData("bapps-mini", "expected", `ssim_Lab__2afc__${subset.replace("/", "_")}.csv`),
          ),
        );
        for (const c of ["index", "d0", "d1", "judge"]) {
          const g = got[c] as Float64Array, w = want[c] as Float64Array;
          assert.equal(g.length, 120);
          for (let i = 0; i < g.length; i++) {
            assert.ok(Math.abs(g[i] - w[i]) <= 1e-6 * Math.abs(w[i]), `${subset} ${c}[${i}]`);
          }
        }
        const list = await listTwoAFC(root, subset);
        assert.deepEqual(got.ref, list.items.map((it) => it.ref));
        assert.deepEqual(got.p0, list.items.map((it) => it.p0));
        assert.deepEqual(got.p1, list.items.map((it) => it.p1));
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...needsTestData("eval CLI: human output mirrors the reference's lines"),
  fn: async () => {
    const r = await lpips(
      "eval",
      "--root",
      testData("bapps-mini"),
      "--datasets",
      "val/cnn",
      "--model",
      "l2",
      "--colorspace",
      "RGB",
      "--quiet",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.match(r.stdout, /^ {2}Dataset \[val\/cnn\]: 62\.50 {2}\[95% CI [\d.]+, [\d.]+\]/m);
  },
});

/** A copy of the first `n` triplets of bapps-mini's 2afc val/cnn, to break. */
async function smallDataset(n: number): Promise<string> {
  const root = await Deno.makeTempDir();
  const src = testData("bapps-mini", "2afc", "val", "cnn");
  for (const role of ["ref", "p0", "p1", "judge"]) {
    const d = join(root, "2afc", "val", "cnn", role);
    await Deno.mkdir(d, { recursive: true });
    for (let i = 0; i < n; i++) {
      const name = `${String(i).padStart(6, "0")}.${role === "judge" ? "npy" : "png"}`;
      await Deno.copyFile(join(src, role, name), join(d, name));
    }
  }
  return root;
}

async function oneLineError(args: string[], pattern: RegExp) {
  const r = await lpips("eval", ...args);
  assert.equal(r.code, 1, `exit status for ${args.join(" ")}`);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], /^lpips eval: /);
  assert.match(lines[0], pattern);
}

Deno.test({
  ...needsTestData("eval CLI: broken datasets and bad options are one-line errors, exit 1"),
  fn: async () => {
    const root = await smallDataset(3);
    try {
      const ds = ["--root", root, "--datasets", "val/cnn", "--model", "l2"];
      // Sanity: the intact copy evaluates.
      const ok = await lpips("eval", ...ds, "--json", "--quiet");
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(JSON.parse(ok.stdout).results["val/cnn"].n, 3);

      await oneLineError(["--root", join(root, "nope"), "--datasets", "val/cnn"], /no such folder/);
      await oneLineError(["--root", root, "--datasets", "val/deblur"], /no such 2afc subset/);
      await oneLineError(["--root", root, "--dataset-mode", "jnd"], /no such folder/);
      await oneLineError([...ds, "--model", "vgg19"], /--model must be one of/);
      await oneLineError(
        [...ds, "--batch-size", "x"],
        /--batch-size must be a positive integer \(got x\)/,
      );
      await oneLineError([...ds, "--colorspace", "HSV"], /--colorspace must be one of/);
      await oneLineError([...ds, "--frobnicate"], /frobnicate/);
      await oneLineError([...ds, "--model-path", "x.pth"], /--model-path applies/);
      await oneLineError(["--datasets", "val/cnn"], /--root/);
      await oneLineError([...ds, "--per-item", join(root, "no", "x.csv")], /no such folder/);

      // An unreadable (corrupt) image, named in the message.
      const bad = join(root, "2afc", "val", "cnn", "p1", "000001.png");
      await Deno.writeFile(bad, new TextEncoder().encode("not a png"));
      await oneLineError(ds, /000001\.png: not a PNG, JPEG, BMP, TIFF, WebP or GIF file/);

      // A missing file: the folders no longer hold the same number of files.
      await Deno.remove(bad);
      await oneLineError(ds, /different numbers of files \(ref\/ 3, p0\/ 3, p1\/ 2, judge\/ 3\)/);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("perItemPath: one dataset keeps the name, several get the dataset in it", () => {
  assert.equal(perItemPath("a/out.csv", "val/traditional", 1), "a/out.csv");
  assert.equal(perItemPath("a/out.csv", "val/traditional", 6), "a/out.val_traditional.csv");
  assert.equal(perItemPath("out", "val/cnn", 2), "out.val_cnn.csv");
});

Deno.test({
  ...needsTestData("eval --model NAME: any registered metric, by name or alias; MS-SSIM's error"),
  fn: async () => {
    const root = testData("bapps-mini");
    const ds = ["--root", root, "--datasets", "val/traditional", "--bootstrap", "0", "--quiet"];
    const g = await lpips("eval", ...ds, "--model", "GMSD", "--json");
    assert.equal(g.code, 0, g.stderr);
    const j = JSON.parse(g.stdout);
    assert.deepEqual([j.model, j.net, j.colorspace], ["gmsd", null, null]);
    assert.ok(j.results["val/traditional"].score > 0.5);
    const f = await lpips("eval", ...ds, "--model", "ldr-flip", "--dataset-mode", "jnd");
    assert.equal(f.code, 0, f.stderr);
    assert.match(f.stdout, /^Evaluating jnd with flip \(ranked by score\)\n/);
    await oneLineError([...ds, "--model", "ms_ssim"], /msssim: the images are 64x64; MS-SSIM's 5/);
    await oneLineError(
      [...ds, "--model", "vif"],
      /--model must be one of lpips, baseline, l2, ssim, psnr, msssim, fsim, fsimc, gmsd, flip, dists \(got "vif"\)$/,
    );
  },
});
