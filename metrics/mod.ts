/**
 * One contract for every metric of the package (`@perceptual/lpips/metrics`): LPIPS, L2, SSIM,
 * PSNR, MS-SSIM, FSIM, FSIMc, GMSD and LDR-FLIP, each described by a {@linkcode MetricInfo}
 * (direction, range, input, citation, score -> distance) and looked up by name or alias in the
 * registry. The command line (`--metric`, `--model`), the evaluation and the notebook toolkit
 * read it (docs/metrics.md).
 *
 * @example Three metrics on the paper's example patches, and one of them by its pyiqa name
 * ```ts
 * import { findMetric, measure, METRIC_NAMES } from "@perceptual/lpips/metrics";
 * console.log(METRIC_NAMES.join(" ")); // lpips l2 ssim psnr msssim fsim fsimc gmsd flip
 * for (const r of await measure(["psnr", "ssim", "flip"], "ex_ref.png", "ex_p0.png")) {
 *   console.log(r.title, r.scores[0], r.lowerIsBetter ? "(lower is better)" : "");
 * } // PSNR 18.0006... SSIM 0.5132... FLIP 0.3537... (lower is better)
 * const m = await findMetric("ms_ssim").create();
 * m.dispose();
 * ```
 *
 * @module
 */
export type {
  Metric,
  MetricImage,
  MetricInfo,
  MetricInput,
  MetricMap,
  MetricOptions,
} from "./contract.ts";
export { findMetric, findMetrics, METRIC_NAMES, METRICS, resolveMetric } from "./registry.ts";
export { measure } from "./measure.ts";
export type { MetricScores } from "./measure.ts";
export { metricTensor, tensorRgbImage } from "./images.ts";
export { LPIPS_METRIC } from "./lpips.ts";
export { L2_METRIC } from "./l2.ts";
export { SSIM_METRIC } from "./ssim.ts";
export { PSNR_METRIC } from "./psnr.ts";
export { MSSSIM_METRIC } from "./msssim.ts";
export { FSIM_METRIC, FSIMC_METRIC } from "./fsim.ts";
export { GMSD_METRIC } from "./gmsd.ts";
export { FLIP_METRIC } from "./flip.ts";
