/**
 * PSNR in the registry (`baselines/psnr.ts`): the score in dB; the distance is
 * `10^(-PSNR / 10)`, the mean squared error over 255^2: finite and 0 for identical images, where
 * the PSNR is infinite.
 *
 * @module
 */
import { psnr } from "../baselines/psnr.ts";
import type { MetricInfo } from "./contract.ts";
import { statelessMetric } from "./_stateless.ts";

/** PSNR of the 8-bit images, peak 255 (the reference's `lpips.psnr`). */
export const PSNR_METRIC: MetricInfo = {
  name: "psnr",
  aliases: [],
  title: "PSNR",
  lowerIsBetter: false,
  range: [0, Infinity],
  input: "RGB",
  citation: "10 log10(255^2 / MSE) dB, the reference's lpips.psnr",
  hasMap: false,
  minSize: 1,
  distanceRule: "10^(-score / 10) (MSE / 255^2)",
  toDistance: (s) => Math.pow(10, -s / 10),
  create() {
    return statelessMetric(PSNR_METRIC, "", (a, b) => psnr(a, b));
  },
};
