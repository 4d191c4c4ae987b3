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
 * The metric of a name or alias ({@linkcode findMetric}) or a {@linkcode MetricInfo} given as it
 * is: what every function that takes "a metric" reads its argument with. Anything else is a
 * `TypeError` naming the valid names.
 *
 * @example
 * ```ts
 * import { GMSD_METRIC, resolveMetric } from "@perceptual/lpips/metrics";
 * console.log(resolveMetric("MS_SSIM").name, resolveMetric(GMSD_METRIC).title); // msssim GMSD
 * ```
 */
export function resolveMetric(metric: string | MetricInfo): MetricInfo {
  if (typeof metric === "string") return findMetric(metric);
  const m = metric as Partial<MetricInfo> | null;
  if (
    typeof m === "object" && m !== null && typeof m.name === "string" &&
    typeof m.create === "function" && typeof m.toDistance === "function"
  ) {
    return metric;
  }
  throw new TypeError(
    `a metric is a name (${METRIC_NAMES.join(", ")}) or a MetricInfo of the registry, got ${
      describe(metric)
    }`,
  );
}

/** A short description of a value that is not a metric, for an error line. */
function describe(v: unknown): string {
  if (v === null || typeof v !== "object") return String(v);
  const name = (v as { constructor?: { name?: string } }).constructor?.name;
  return name && name !== "Object" ? `a ${name}` : "an object";
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
