/**
 * Several metrics on one pair (or one pair of batches) in one call, each image read once: the
 * table a paper prints beside LPIPS.
 *
 * @module
 */
import type { MetricImage, MetricInfo, MetricOptions } from "./contract.ts";
import { metricTensor } from "./images.ts";
import { resolveMetric } from "./registry.ts";

/** One metric's values in {@linkcode measure}'s table. */
export interface MetricScores {
  /** The metric's canonical name. */
  metric: string;
  /** Its printed name (`MS-SSIM`). */
  title: string;
  /** The options in use (`Lab`, `alex, v0.1`), or `""`. */
  setting: string;
  /** Whether lower scores mean more similar images. */
  lowerIsBetter: boolean;
  /** One score per pair, as the metric's authors print it. */
  scores: Float64Array;
  /** One distance per pair (`info.toDistance` of the score). */
  distances: Float64Array;
}

/**
 * Scores `a` against `b` with every metric named (names, aliases or {@linkcode MetricInfo}s);
 * each image is read and converted once, each metric is built, used and disposed in turn.
 *
 * @example The example patches under three metrics
 * ```ts
 * import { measure } from "@perceptual/lpips/metrics";
 * const rows = await measure(["l2", "ssim", "gmsd"], "ex_ref.png", "ex_p0.png");
 * for (const r of rows) console.log(r.title, r.scores[0].toFixed(6));
 * // L2 0.004374, SSIM 0.513226 (Lab), GMSD 0.198284
 * ```
 */
export async function measure(
  metrics: readonly (string | MetricInfo)[],
  a: MetricImage,
  b: MetricImage,
  options: MetricOptions = {},
): Promise<MetricScores[]> {
  const infos = metrics.map(resolveMetric);
  const [x, y] = await Promise.all([metricTensor(a), metricTensor(b)]);
  const rows: MetricScores[] = [];
  for (const info of infos) {
    const m = await info.create(options);
    try {
      const scores = await m.scores(x, y);
      rows.push({
        metric: info.name,
        title: info.title,
        setting: m.setting,
        lowerIsBetter: info.lowerIsBetter,
        scores,
        distances: scores.map(info.toDistance),
      });
    } finally {
      m.dispose();
    }
  }
  return rows;
}
