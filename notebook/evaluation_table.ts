/**
 * The result of a BAPPS evaluation (`evaluate`, the function behind `lpips eval`) as a notebook
 * table: one row per dataset with the 2AFC score or JND mAP, its bootstrap interval and the item
 * count, under a caption that names the model.
 *
 * @module
 */
import type { EvaluateResult } from "../eval/runner.ts";
import type { Displayable } from "./display.ts";
import { table } from "./table.ts";

/**
 * A 2AFC or JND evaluation as a table, scores in percent with two decimals as the reference
 * prints them.
 *
 * @example
 * ```ts
 * import { evaluate } from "@perceptual/lpips";
 * import { evaluationTable } from "@perceptual/lpips/notebook";
 * const r = await evaluate({ root: "dataset", mode: "2afc", datasets: ["val/traditional"] });
 * evaluationTable(r); // in a notebook cell: dataset, 2AFC score, 95% interval, items
 * ```
 */
export function evaluationTable(result: EvaluateResult): Displayable {
  if (
    !result || !Array.isArray(result.results) || (result.mode !== "2afc" && result.mode !== "jnd")
  ) {
    throw new TypeError("evaluationTable: pass what evaluate() returned ({ mode, results, ... })");
  }
  const what = result.mode === "2afc" ? "2AFC score (%)" : "JND mAP (%)";
  const pct = (v: number) => (100 * v).toFixed(2);
  const rows = result.results.map((d) => [
    d.dataset,
    pct(d.score),
    d.ci95 ? `[${pct(d.ci95[0])}, ${pct(d.ci95[1])}]` : "-",
    d.n,
  ]);
  const { resamples, seed } = result.bootstrap;
  const interval = resamples > 0
    ? `95% intervals from ${resamples} bootstrap resamples (seed ${seed})`
    : "no bootstrap intervals";
  const shard = result.shard ? `; shard ${result.shard.index}/${result.shard.count} only` : "";
  return table(["dataset", what, "95% interval", "items"], rows, {
    caption: `${result.mode === "2afc" ? "2AFC" : "JND"}: ${
      modelName(result)
    }; ${interval}${shard}`,
  });
}

/** "LPIPS alex v0.1 (onnx)", "alex uncalibrated (tfjs, wasm)", "L2 (Lab)", "DSSIM (RGB)". */
function modelName(r: EvaluateResult): string {
  if (r.model === "l2" || r.model === "ssim") {
    return `${r.model === "l2" ? "L2" : "DSSIM"} (${r.colorspace})`;
  }
  const runs = r.engine === "tfjs" ? `tfjs, ${r.backend}` : `${r.engine}`;
  return r.model === "lpips"
    ? `LPIPS ${r.net} v${r.version} (${runs})`
    : `${r.net} uncalibrated, v${r.version} (${runs})`;
}
