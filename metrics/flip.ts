/**
 * LDR-FLIP in the registry (`baselines/flip.ts`, NVIDIA's FLIP tool); its map is the per-pixel
 * error.
 *
 * @module
 */
import { flip, FLIP_DEFAULT_PPD, flipMap } from "../baselines/flip.ts";
import type { MetricInfo } from "./contract.ts";
import { firstPair, statelessMetric } from "./_stateless.ts";

/** LDR-FLIP: the mean of the error map; 0 for identical images. */
export const FLIP_METRIC: MetricInfo = {
  name: "flip",
  aliases: ["ldr_flip", "ldr-flip"],
  title: "FLIP",
  lowerIsBetter: true,
  range: [0, 1],
  input: "RGB",
  citation: "Andersson et al., HPG 2020",
  hasMap: true,
  minSize: 1,
  distanceRule: "score",
  toDistance: (s) => s,
  create(options = {}) {
    const ppd = options.ppd ?? FLIP_DEFAULT_PPD;
    const setting = options.ppd === undefined ? "" : `${ppd} ppd`;
    return statelessMetric(FLIP_METRIC, setting, (a, b) => flip(a, b, { ppd }), (a, b) => {
      const [x, y] = firstPair(a, b);
      const { map } = flipMap(x, y, { ppd });
      const [, , height, width] = map.shape;
      return { data: map.data, width, height, kind: "distance", label: "LDR-FLIP error" };
    });
  },
};
