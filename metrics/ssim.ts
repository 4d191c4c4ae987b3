/**
 * The paper's SSIM baseline in the registry (`baselines/ssim.ts`): the score is SSIM, as its
 * authors print it; the distance is the paper's DSSIM `(1 - SSIM) / 2`, the value the reference's
 * evaluation ranks by (so `eval --model ssim` is unchanged).
 *
 * @module
 */
import { ssim } from "../baselines/ssim.ts";
import type { MetricInfo } from "./contract.ts";
import { colorspaceOption, statelessMetric } from "./_stateless.ts";

/** SSIM with the reference's `compare_ssim` defaults (uniform 7x7 window), Lab or RGB. */
export const SSIM_METRIC: MetricInfo = {
  name: "ssim",
  aliases: ["dssim"],
  title: "SSIM",
  lowerIsBetter: false,
  range: [-1, 1],
  input: "Lab|RGB",
  citation: "Wang, Bovik, Sheikh, Simoncelli, IEEE TIP 2004",
  hasMap: false,
  minSize: 7,
  distanceRule: "(1 - score) / 2 (DSSIM)",
  toDistance: (s) => (1 - s) / 2,
  create(options = {}) {
    const colorspace = colorspaceOption("ssim", options.colorspace);
    return statelessMetric(SSIM_METRIC, colorspace, (a, b) => ssim(a, b, { colorspace }));
  },
};
