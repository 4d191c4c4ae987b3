import assert from "node:assert/strict";
import { join } from "node:path";
import { LPIPS, type Version } from "../lpips/lpips.ts";
import type { NetName } from "../lpips/arch.ts";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { ImageDecodeError } from "../bappsloader/image.ts";
import { NpyError, writeNpy } from "../bappsloader/npy.ts";
import { parsePerItemCsv, writePerItemCsv } from "./csv.ts";
import {
  evaluate,
  type EvaluateOptions,
  type EvaluateResult,
  type JNDItems,
  type TwoAFCItems,
} from "./runner.ts";

type Scores = Record<string, Record<string, Record<string, { score: number; n: number }>>>;

const SUBSETS = ["val/traditional", "val/cnn"];
const MODES = ["2afc", "jnd"] as const;

/** The expected_scores.json keys and the options that reproduce them. */
const DEEP: [string, NetName, Version, boolean][] = [
  ["lpips_alex_v0.1", "alex", "0.1", true],
  ["lpips_squeeze_v0.1", "squeeze", "0.1", true],
  ["lpips_alex_v0.0", "alex", "0.0", true],
  ["baseline_alex_v0.1", "alex", "0.1", false],
];
const SHALLOW: [string, "l2" | "ssim", "Lab" | "RGB"][] = [
  ["l2_Lab", "l2", "Lab"],
  ["l2_RGB", "l2", "RGB"],
  ["ssim_Lab", "ssim", "Lab"],
  ["ssim_RGB", "ssim", "RGB"],
];

/** Checks one model's results against expected_scores.json and expected/*.csv. */
async function checkAgainstExpected(key: string, r: EvaluateResult, deep: boolean) {
  const scores = JSON.parse(
    await Deno.readTextFile(testData("bapps-mini", "expected_scores.json")),
  ) as Scores;
  let worstScore = 0, worstItem = 0;
  for (const d of r.results) {
    const want = scores[key][r.mode][d.dataset];
    assert.equal(d.n, want.n, `${key} ${r.mode} ${d.dataset}: n`);
    const dev = Math.abs(d.score - want.score);
    worstScore = Math.max(worstScore, dev);
    assert.ok(dev < 1e-4, `${key} ${r.mode} ${d.dataset}: ${d.score} vs ${want.score}`);
    assert.ok(d.ci95 && d.ci95[0] <= d.score && d.score <= d.ci95[1], "ci95 holds the score");
    const file = `${key}__${r.mode}__${d.dataset.replace("/", "_")}.csv`;
    const cols = parsePerItemCsv(
      await Deno.readTextFile(testData("bapps-mini", "expected", file)),
    ) as Record<string, Float64Array>;
    const pairs: [Float32Array, Float64Array][] = r.mode === "2afc"
      ? [[(d.items as TwoAFCItems).d0, cols.d0], [(d.items as TwoAFCItems).d1, cols.d1]]
      : [[(d.items as JNDItems).d, cols.d]];
    for (const [got, exp] of pairs) {
      assert.equal(got.length, exp.length);
      for (let i = 0; i < got.length; i++) {
        // LPIPS: 1e-5 absolute; baselines: 1e-6 relative (docs/algorithm.md §10).
        const err = Math.abs(got[i] - exp[i]);
        const rel = deep ? err : err / Math.max(Math.abs(exp[i]), 1e-30);
        worstItem = Math.max(worstItem, rel);
        assert.ok(rel <= (deep ? 1e-5 : 1e-6), `${file} item ${i}: ${got[i]} vs ${exp[i]}`);
      }
    }
    const judge = r.mode === "2afc" ? (d.items as TwoAFCItems).judge : (d.items as JNDItems).same;
    assert.deepEqual(Array.from(judge), Array.from(r.mode === "2afc" ? cols.judge : cols.same));
  }
  return { worstScore, worstItem };
}

const base = (): EvaluateOptions => ({
  root: testData("bapps-mini"),
  datasets: SUBSETS,
  weightsDir: testData("weights"),
  quiet: true,
  bootstrap: 200,
});

for (const [key, net, version, lpips] of DEEP) {
  Deno.test({
    ...needsTestData(`evaluate: ${key} reproduces expected_scores.json and expected/*.csv`),
    fn: async () => {
      // One model for both modes (the runner then neither builds nor disposes it); TF.js on wasm
      // (the CLI tests run the default engine).
      const metric = await LPIPS.create({
        net,
        version,
        lpips,
        engine: "tfjs",
        backend: "wasm",
        weightsDir: testData("weights"),
        quiet: true,
      });
      try {
        for (const mode of MODES) {
          const r = await evaluate({
            ...base(),
            mode,
            model: lpips ? "lpips" : "baseline",
            metric,
          });
          assert.equal(r.net, net);
          assert.equal(r.version, version);
          assert.equal(r.colorspace, null);
          const w = await checkAgainstExpected(key, r, true);
          console.log(
            `${key} ${mode}: max |score dev| ${w.worstScore}, max |d dev| ${w.worstItem}`,
          );
        }
      } finally {
        metric.dispose();
      }
    },
  });
}

for (const [key, model, colorspace] of SHALLOW) {
  Deno.test({
    ...needsTestData(`evaluate: ${key} reproduces expected_scores.json and expected/*.csv`),
    fn: async () => {
      for (const mode of MODES) {
        const r = await evaluate({ ...base(), mode, model, colorspace });
        assert.equal(r.net, null);
        assert.equal(r.colorspace, colorspace);
        const w = await checkAgainstExpected(key, r, false);
        console.log(
          `${key} ${mode}: max |score dev| ${w.worstScore}, max rel d dev ${w.worstItem}`,
        );
      }
    },
  });
}

Deno.test({
  ...needsTestData("evaluate: builds its own model from --model-path; seeded CI; CSV round trip"),
  fn: async () => {
    const opts: EvaluateOptions = {
      ...base(),
      datasets: ["val/cnn"],
      model: "lpips",
      net: "squeeze",
      modelPath: testData("weights", "lpips", "v0.1", "squeeze.pth"),
      engine: "tfjs",
      backend: "wasm",
      batchSize: 32, // a last batch of 24: batching must not matter
      bootstrap: 300,
      seed: 7,
    };
    const progress: number[] = [];
    const r = await evaluate({ ...opts, onProgress: (p) => progress.push(p.done) });
    assert.deepEqual(progress, [0, 32, 64, 96, 120]);
    await checkAgainstExpected("lpips_squeeze_v0.1", r, true);
    // The same seed gives the same interval; another seed another one.
    const d = r.results[0];
    const it = d.items as TwoAFCItems;
    assert.equal(it.paths[5].ref, join(testData("bapps-mini"), "2afc/val/cnn/ref/000005.png"));
    assert.equal(it.paths[5].judge, join(testData("bapps-mini"), "2afc/val/cnn/judge/000005.npy"));
    const again = await evaluate({ ...opts, model: "l2", net: undefined, modelPath: undefined });
    const other = await evaluate({
      ...opts,
      model: "l2",
      net: undefined,
      modelPath: undefined,
      seed: 8,
    });
    const again2 = await evaluate({ ...opts, model: "l2", net: undefined, modelPath: undefined });
    assert.deepEqual(again.results[0].ci95, again2.results[0].ci95);
    assert.notDeepEqual(again.results[0].ci95, other.results[0].ci95);
    // Per-item CSV round trip: float32 distances come back exactly.
    const dir = await Deno.makeTempDir();
    try {
      const path = join(dir, "items.csv");
      await writePerItemCsv(path, { d0: it.d0, d1: it.d1, judge: it.judge, paths: it.paths });
      const cols = parsePerItemCsv(await Deno.readTextFile(path));
      assert.deepEqual(Array.from(cols.d0 as Float64Array), Array.from(it.d0));
      assert.deepEqual(Array.from(cols.d1 as Float64Array), Array.from(it.d1));
      assert.deepEqual(Array.from(cols.judge as Float64Array), Array.from(it.judge));
      assert.deepEqual(cols.p1, it.paths.map((p) => p.p1));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...needsTestData("evaluate: bad options and folders are errors before any model is built"),
  fn: async () => {
    const root = testData("bapps-mini");
    await assert.rejects(evaluate({ root, datasets: ["val/superres"] }), /no such 2afc subset/);
    await assert.rejects(evaluate({ root: "/nonexistent-root" }), /no such folder/);
    await assert.rejects(evaluate({ root, model: "l2", modelPath: "x.pth" }), /does not apply/);
    await assert.rejects(evaluate({ root, model: "baseline", modelPath: "x" }), /no linear heads/);
    await assert.rejects(evaluate({ root, batchSize: 0 }), /batchSize/);
    await assert.rejects(evaluate({ root, datasets: [] }), /no datasets/);
    await assert.rejects(
      evaluate({ root, mode: "jnd", model: "ssim", colorspace: "XYZ" as "Lab" }),
      /colorspace/,
    );
  },
});

// Scoring workers: each rebuilds the model and reads, decodes and scores whole batches. 120 items
// in batches of 16 are 8 batches, enough for the pool by default; `workers: 0` is this thread.
Deno.test({
  ...needsTestData(
    "evaluate: scoring workers give this thread's distances bit for bit (lpips on onnx, l2)",
  ),
  fn: async () => {
    for (const mode of MODES) {
      for (const [model, key] of [["lpips", "lpips_alex_v0.1"], ["l2", "l2_Lab"]] as const) {
        const opts = { ...base(), mode, model, engine: "onnx" as const, batchSize: 16 };
        const progress: number[] = [];
        const pooled = await evaluate({ ...opts, onProgress: (p) => progress.push(p.allDone) });
        const here = await evaluate({ ...opts, workers: 0 });
        assert.deepEqual(
          pooled.results,
          here.results.map((r, k) => ({
            ...r,
            seconds: pooled.results[k].seconds,
          })),
        );
        // In order, batch by batch, in both datasets (120 items each).
        const steps = [0, 16, 32, 48, 64, 80, 96, 112, 120];
        assert.deepEqual(progress, [...steps, ...steps.map((n) => 120 + n)]);
        if (model === "lpips") assert.equal(pooled.engine, "onnx");
        await checkAgainstExpected(key, pooled, model === "lpips");
      }
    }
  },
});

Deno.test({
  ...needsTestData("evaluate: a bad file read in a scoring worker is named, with its class"),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "lpips_pool_test_" });
    try {
      const root = join(dir, "bapps");
      const subset = join(root, "2afc", "val", "cnn");
      for (const part of ["ref", "p0", "p1", "judge"]) {
        await Deno.mkdir(join(subset, part), { recursive: true });
        for (const e of Deno.readDirSync(testData("bapps-mini", "2afc", "val", "cnn", part))) {
          await Deno.copyFile(
            testData("bapps-mini", "2afc", "val", "cnn", part, e.name),
            join(subset, part, e.name),
          );
        }
      }
      const opts = { root, datasets: ["val/cnn"], batchSize: 16, workers: 2, quiet: true };
      const image = join(subset, "p1", "000070.png");
      const bytes = await Deno.readFile(image);
      await Deno.writeFile(image, bytes.slice(0, bytes.length >> 1));
      for (const model of ["lpips", "ssim"]) {
        const e = await evaluate({ ...opts, model, weightsDir: testData("weights") }).then(
          () => assert.fail("a truncated image was scored"),
          (e) => e,
        );
        assert.ok(e instanceof ImageDecodeError, String(e));
        assert.match(e.message, /000070\.png: corrupt or truncated image \(PNG: /);
      }
      await Deno.writeFile(image, bytes);
      const judge = join(subset, "judge", "000100.npy");
      await Deno.writeFile(judge, writeNpy(new Float64Array([1.5]), [1]));
      const e = await evaluate({ ...opts, model: "l2" }).then(
        () => assert.fail("a judgement of 1.5 was scored"),
        (e) => e,
      );
      assert.ok(e instanceof NpyError, String(e));
      assert.match(e.message, /000100\.npy: judgement 1\.5 is outside \[0, 1\]/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
