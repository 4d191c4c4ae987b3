/**
 * A metric that holds nothing (the classical ones): its scores are a plain function of the
 * batches, and `dispose` has nothing to free.
 *
 * @module
 */
import type { ImageTensor } from "../bappsloader/image.ts";
import { COLORSPACES } from "../baselines/l2.ts";
import type { Colorspace } from "../baselines/l2.ts";
import type { Metric, MetricInfo, MetricMap } from "./contract.ts";

/** A {@linkcode Metric} of `info` from its batch scorer and, where it has one, its map. */
export function statelessMetric(
  info: MetricInfo,
  setting: string,
  scores: (a: ImageTensor, b: ImageTensor) => ArrayLike<number>,
  map?: (a: ImageTensor, b: ImageTensor) => MetricMap,
): Promise<Metric> {
  const metric: Metric = {
    info,
    setting,
    scores: (a, b) => Promise.resolve(Float64Array.from(scores(a, b))),
    dispose() {},
  };
  if (map) metric.map = (a, b) => Promise.resolve(map(a, b));
  return Promise.resolve(metric);
}

/** The `colorspace` option of l2 and ssim, checked (default Lab, the reference's). */
export function colorspaceOption(name: string, cs: Colorspace | undefined): Colorspace {
  if (cs === undefined) return "Lab";
  if (!COLORSPACES.includes(cs)) {
    throw new RangeError(`${name}: colorspace must be Lab or RGB, got ${JSON.stringify(cs)}`);
  }
  return cs;
}

/** The first pair of two batches, as batches of one. */
export function firstPair(a: ImageTensor, b: ImageTensor): [ImageTensor, ImageTensor] {
  const one = (t: ImageTensor): ImageTensor => {
    const [, c, h, w] = t.shape;
    return { data: t.data.subarray(0, c * h * w), shape: [1, c, h, w] };
  };
  return [one(a), one(b)];
}
