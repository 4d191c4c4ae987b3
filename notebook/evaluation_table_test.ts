import assert from "node:assert/strict";
import type { DatasetResult, EvaluateResult } from "../eval/runner.ts";
import { JUPYTER_DISPLAY } from "./display.ts";
import { evaluationTable } from "./evaluation_table.ts";

function result(over: Partial<EvaluateResult>, datasets: Partial<DatasetResult>[]): EvaluateResult {
  return {
    mode: "2afc",
    model: "lpips",
    net: "alex",
    version: "0.1",
    colorspace: null,
    batchSize: 50,
    bootstrap: { resamples: 1000, seed: 0 },
    engine: "onnx",
    backend: null,
    shard: null,
    results: datasets.map((d) => ({
      dataset: "val/traditional",
      score: 0.5,
      n: 10,
      start: 0,
      total: 10,
      listHash: "",
      ci95: null,
      seconds: 1,
      items: {
        d0: new Float32Array(),
        d1: new Float32Array(),
        judge: new Float32Array(),
        paths: [],
      },
      ...d,
    })),
    ...over,
  };
}

Deno.test("evaluationTable: one row per dataset, scores and intervals in percent", () => {
  const r = result({}, [
    { dataset: "val/traditional", score: 0.73894, n: 4720, ci95: [0.7312, 0.74655] },
    { dataset: "val/cnn", score: 0.8341, n: 4720 },
  ]);
  const text = evaluationTable(r)[JUPYTER_DISPLAY]()["text/plain"] as string;
  const lines = text.split("\n");
  assert.equal(
    lines[0],
    "2AFC: LPIPS alex v0.1 (onnx); 95% intervals from 1000 bootstrap resamples (seed 0)",
  );
  assert.match(lines[1], /^dataset\s+2AFC score \(%\)\s+95% interval\s+items$/);
  assert.match(lines[2], /^val\/traditional\s+73\.89\s+\[73\.12, 74\.66\]\s+4720$/);
  assert.match(lines[3], /^val\/cnn\s+83\.41\s+-\s+4720$/);
});

Deno.test("evaluationTable: the caption names every kind of model, JND and shards", () => {
  const caption = (over: Partial<EvaluateResult>) =>
    (evaluationTable(result(over, [{}]))[JUPYTER_DISPLAY]()["text/plain"] as string)
      .split("\n")[0];
  assert.match(
    caption({ mode: "jnd", model: "l2", net: null, version: null, colorspace: "Lab" }),
    /^JND: L2 \(Lab\);/,
  );
  assert.match(caption({ model: "ssim", colorspace: "RGB" }), /^2AFC: DSSIM \(RGB\);/);
  assert.match(
    caption({ model: "baseline", net: "vgg", engine: "tfjs", backend: "wasm" }),
    /^2AFC: vgg uncalibrated, v0\.1 \(tfjs, wasm\);/,
  );
  assert.match(
    caption({ bootstrap: { resamples: 0, seed: 0 }, shard: { index: 1, count: 4 } }),
    /no bootstrap intervals; shard 1\/4 only$/,
  );
});

Deno.test("evaluationTable: something other than evaluate()'s result is a one-line error", () => {
  assert.throws(
    () => evaluationTable({ results: [] } as unknown as EvaluateResult),
    /evaluationTable: pass what evaluate\(\) returned/,
  );
});
