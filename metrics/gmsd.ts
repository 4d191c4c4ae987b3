/**
 * GMSD in the registry (`baselines/gmsd.ts`, the authors' `GMSD.m` on `rgb2gray` luma); its map
 * is the gradient magnitude similarity of the halved image.
 *
 * @module
 */
import { gmsdBatch, gmsdMap } from "../baselines/gmsd.ts";
import type { MetricInfo } from "./contract.ts";
import { tensorRgbImage } from "./images.ts";
import { statelessMetric } from "./_stateless.ts";

/** GMSD: the standard deviation of the gradient magnitude similarity; 0 for identical images. */
export const GMSD_METRIC: MetricInfo = {
  name: "gmsd",
  aliases: [],
  title: "GMSD",
  lowerIsBetter: true,
  range: [0, 1],
  input: "luma",
  citation: "Xue, Zhang, Mou, Bovik, IEEE TIP 2014",
  hasMap: true,
  minSize: 1,
  distanceRule: "score",
  toDistance: (s) => s,
  create() {
    return statelessMetric(GMSD_METRIC, "", gmsdBatch, (a, b) => {
      const r = gmsdMap(tensorRgbImage(a, 0), tensorRgbImage(b, 0));
      const label = "gradient magnitude similarity (1/2 scale)";
      const data = Float32Array.from(r.map);
      return { data, width: r.width, height: r.height, kind: "similarity", label };
    });
  },
};
