/**
 * What the evaluation runner computes for one batch, the same on this thread and in a scoring
 * worker (`_scoring_pool.ts`): the distances of a 2AFC batch (`ref` against `p0` and `p1`) or of a
 * JND batch, from an LPIPS model or any other metric of the registry.
 *
 * @module
 */
import type { ImageTensor } from "../bappsloader/image.ts";
import { type Features, LPIPS, type LPIPSOptions } from "../lpips/lpips.ts";
import type { Metric, MetricInfo, MetricOptions } from "../metrics/contract.ts";
import { findMetric } from "../metrics/registry.ts";

/** Distances of the batches of one model. */
export interface BatchScorer {
  /** d(ref, p0) and d(ref, p1) of a 2AFC batch. */
  twoAFC(ref: ImageTensor, p0: ImageTensor, p1: ImageTensor): Promise<[Float32Array, Float32Array]>;
  /** d(p0, p1) of a JND batch. */
  pairs(p0: ImageTensor, p1: ImageTensor): Promise<Float32Array>;
}

/**
 * How a worker builds the model of a run (plain data: it crosses `postMessage`): an LPIPS model
 * from its options, or a registry metric by name from its options.
 */
export type ScorerSpec =
  | { kind: "lpips"; options: LPIPSOptions }
  | { kind: "metric"; name: string; options: MetricOptions };

/** The scorer of an LPIPS model: the reference image's features are computed once per batch. */
export function lpipsScorer(m: LPIPS): BatchScorer {
  return {
    twoAFC: (ref, p0, p1) => refDistances(m, ref, p0, p1),
    pairs: (p0, p1) => m.distance(p0, p1),
  };
}

/** The scorer of a registry metric: its scores turned into distances (`info.toDistance`). */
export function metricScorer(metric: Metric, info: MetricInfo): BatchScorer {
  const pairs = async (a: ImageTensor, b: ImageTensor) =>
    Float32Array.from(await metric.scores(a, b), info.toDistance);
  return {
    twoAFC: async (ref, p0, p1) => [await pairs(ref, p0), await pairs(ref, p1)],
    pairs,
  };
}

/** Builds the model a {@link ScorerSpec} describes (for the life of its worker), and its scorer. */
export async function openScorer(spec: ScorerSpec): Promise<BatchScorer> {
  if (spec.kind === "lpips") return lpipsScorer(await LPIPS.create(spec.options));
  const info = findMetric(spec.name);
  return metricScorer(await info.create(spec.options), info);
}

/** d(ref, p0) and d(ref, p1) with the reference's features computed once. */
async function refDistances(
  m: LPIPS,
  ref: ImageTensor,
  p0: ImageTensor,
  p1: ImageTensor,
): Promise<[Float32Array, Float32Array]> {
  const fs: Features[] = [];
  try {
    const f = async (x: ImageTensor) => {
      const r = await m.features(x);
      fs.push(r);
      return r;
    };
    const fr = await f(ref);
    const d0 = await m.compare(fr, await f(p0));
    const d1 = await m.compare(fr, await f(p1));
    return [d0, d1];
  } finally {
    for (const x of fs) x.dispose();
  }
}
