/**
 * The paper's L2 baseline in the registry (`baselines/l2.ts`): score and distance are the value.
 *
 * @module
 */
import { l2 } from "../baselines/l2.ts";
import type { MetricInfo } from "./contract.ts";
import { colorspaceOption, statelessMetric } from "./_stateless.ts";

/** L2 (`lpips.L2`) in Lab (default) or RGB. */
export const L2_METRIC: MetricInfo = {
  name: "l2",
  aliases: [],
  title: "L2",
  lowerIsBetter: true,
  range: [0, Infinity],
  input: "Lab|RGB",
  citation: "Zhang et al., CVPR 2018 (the LPIPS paper's L2 baseline)",
  hasMap: false,
  minSize: 1,
  distanceRule: "score",
  toDistance: (s) => s,
  create(options = {}) {
    const colorspace = colorspaceOption("l2", options.colorspace);
    return statelessMetric(L2_METRIC, colorspace, (a, b) => l2(a, b, { colorspace }));
  },
};
