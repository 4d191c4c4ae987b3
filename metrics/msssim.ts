/**
 * MS-SSIM in the registry (`baselines/msssim.ts`, Wang's `msssim.m` on `rgb2gray` luma).
 *
 * @module
 */
import { MSSSIM_MIN_SIZE, msssimBatch } from "../baselines/msssim.ts";
import type { MetricInfo } from "./contract.ts";
import { statelessMetric } from "./_stateless.ts";

/** MS-SSIM: 5 scales, the published weights; images of at least 176 px a side. */
export const MSSSIM_METRIC: MetricInfo = {
  name: "msssim",
  aliases: ["ms_ssim", "ms-ssim"],
  title: "MS-SSIM",
  lowerIsBetter: false,
  range: [0, 1],
  input: "luma",
  citation: "Wang, Simoncelli, Bovik, Asilomar 2003",
  hasMap: false,
  minSize: MSSSIM_MIN_SIZE,
  distanceRule: "1 - score",
  toDistance: (s) => 1 - s,
  create() {
    return statelessMetric(MSSSIM_METRIC, "", msssimBatch);
  },
};
