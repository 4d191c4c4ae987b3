/**
 * The registry: every metric of the package, in the order `lpips metrics` lists them. Adding a
 * metric is one file (its {@linkcode MetricInfo}, as `gmsd.ts`) and one line here.
 *
 * @module
 */
import type { MetricInfo } from "./contract.ts";
import { LPIPS_METRIC } from "./lpips.ts";
import { L2_METRIC } from "./l2.ts";
import { SSIM_METRIC } from "./ssim.ts";
import { PSNR_METRIC } from "./psnr.ts";
import { MSSSIM_METRIC } from "./msssim.ts";
import { FSIM_METRIC, FSIMC_METRIC } from "./fsim.ts";
import { GMSD_METRIC } from "./gmsd.ts";
import { FLIP_METRIC } from "./flip.ts";
import { DISTS_METRIC } from "./dists.ts";

/** Every registered metric. */
export const METRICS: readonly MetricInfo[] = Object.freeze([
  LPIPS_METRIC,
  L2_METRIC,
  SSIM_METRIC,
  PSNR_METRIC,
  MSSSIM_METRIC,
  FSIM_METRIC,
  FSIMC_METRIC,
  GMSD_METRIC,
  FLIP_METRIC,
  DISTS_METRIC,
]);

/** The canonical names of the registered metrics, in registry order. */
export const METRIC_NAMES: readonly string[] = Object.freeze(METRICS.map((m) => m.name));

/**
 * The metric of a name or alias, in any case (`MS-SSIM`, `ms_ssim` and `msssim` are one
 * metric); a `RangeError` naming the valid names for anything else.
 *
 * @example
 * ```ts
 * import { findMetric } from "@perceptual/lpips/metrics";
 * const m = findMetric("ms_ssim");
 * console.log(m.name, m.title, m.lowerIsBetter); // msssim MS-SSIM false
 * ```
 */
export function findMetric(name: string): MetricInfo {
  const key = String(name).trim().toLowerCase();
  const found = METRICS.find((m) => m.name === key || m.aliases.includes(key));
  if (found) return found;
  throw new RangeError(
    `unknown metric ${JSON.stringify(name)} (known: ${METRIC_NAMES.join(", ")}; ` +
      "lpips metrics lists them)",
  );
}

/**
 * The metrics of a comma-separated list (`lpips,ssim,ms_ssim`), each once, in the order given.
 *
 * @example
 * ```ts
 * import { findMetrics } from "@perceptual/lpips/metrics";
 * console.log(findMetrics("psnr, ms-ssim,msssim").map((m) => m.name)); // ["psnr", "msssim"]
 * ```
 */
export function findMetrics(list: string): MetricInfo[] {
  const parts = String(list).split(",").map((s) => s.trim());
  if (parts.some((p) => p === "")) {
    throw new RangeError(`empty metric name in ${JSON.stringify(list)}`);
  }
  return [...new Set(parts.map(findMetric))];
}
