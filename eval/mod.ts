/**
 * The BAPPS evaluation (`@perceptual/lpips/eval`), as the reference's `test_dataset_model.py`:
 * {@link evaluate} scores a metric (LPIPS, its uncalibrated baseline, L2 or SSIM) on 2AFC or JND
 * subsets, and the parts it is made of are here for your own distances: the 2AFC score
 * ({@link score2AFC}: how often the metric agrees with the human judges), the JND mAP
 * ({@link jndMAP}: how well distances rank the pairs judged "same"), seeded bootstrap intervals and
 * per-item CSV files.
 *
 * @example Score your own distances
 * ```ts
 * import { jndMAP, score2AFC } from "@perceptual/lpips/eval";
 *
 * // 2AFC: d(ref, p0), d(ref, p1) and the fraction of judges who found p1 closer.
 * console.log(score2AFC([0.1, 0.5, 0.3, 0.2], [0.2, 0.4, 0.3, 0.9], [0, 0.6, 1, 0.2])); // 0.725
 * // JND: d(p0, p1) and the fraction of judges who saw no difference.
 * console.log(jndMAP([0.05, 0.4, 0.1, 0.8, 0.2, 0.6], [1, 0, 2 / 3, 1 / 3, 1, 0])); // 0.8827...
 * ```
 *
 * @example Evaluate LPIPS on BAPPS
 * ```ts
 * import { evaluate } from "@perceptual/lpips/eval";
 *
 * // "dataset" holds 2afc/ and jnd/ (`deno task lpips download --root dataset --val-only`).
 * const r = await evaluate({ root: "dataset", mode: "2afc", datasets: ["val/traditional"] });
 * for (const d of r.results) console.log(d.dataset, d.score, d.n, d.ci95);
 * ```
 *
 * @module
 */
export { score2AFC, twoAFCItemScores } from "./twoafc.ts";
export { jndMAP, stableArgsort, vocAP } from "./jnd.ts";
export {
  bootstrap,
  bootstrap2AFC,
  type BootstrapInterval,
  bootstrapJND,
  type BootstrapOptions,
  percentileSorted,
  seededRandom,
} from "./bootstrap.ts";
export {
  jndCsv,
  type JNDRows,
  parsePerItemCsv,
  twoAFCCsv,
  type TwoAFCRows,
  writePerItemCsv,
} from "./csv.ts";
export {
  type DatasetResult,
  EVAL_MODELS,
  type EvalModel,
  type EvalProgress,
  evaluate,
  type EvaluateOptions,
  type EvaluateResult,
  JND_VAL_DATASETS,
  TWOAFC_VAL_DATASETS,
} from "./runner.ts";
export type { JNDItems, TwoAFCItems } from "./score.ts";
export { parseShard, type ShardSpec } from "./shard.ts";
