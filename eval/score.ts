/**
 * Scoring one dataset from its per-item distances: the 2AFC score or JND mAP and its bootstrap
 * interval. The evaluation runner and the merge of a sharded run both call {@link scoreDataset},
 * so a merged run prints what the unsharded run prints by construction.
 *
 * @module
 */
import { bootstrap2AFC, bootstrapJND } from "./bootstrap.ts";
import { jndMAP } from "./jnd.ts";
import { score2AFC } from "./twoafc.ts";

/** Per-item 2AFC results of one dataset, in loader order. */
export interface TwoAFCItems {
  /** d(ref, p0). */
  d0: Float32Array;
  /** d(ref, p1). */
  d1: Float32Array;
  /** Fraction preferring p1, float32 as the loader gives it. */
  judge: Float32Array;
  /** Each triplet's files. */
  paths: { ref: string; p0: string; p1: string; judge: string }[];
}

/** Per-item JND results of one dataset, in loader order. */
export interface JNDItems {
  /** d(p0, p1). */
  d: Float32Array;
  /** Fraction saying "same", float32. */
  same: Float32Array;
  /** Each pair's files. */
  paths: { p0: string; p1: string; same: string }[];
}

/** A dataset's score and, with resamples, its bootstrap 95% interval. */
export interface DatasetScore {
  /** 2AFC score or JND mAP, a fraction in [0, 1]. */
  score: number;
  /** `[low, high]`, or null with no resamples or no items. */
  ci95: [number, number] | null;
}

/**
 * The 2AFC score (items with `d0`) or JND mAP (items with `d`) of one dataset, with a seeded
 * bootstrap interval when `boot.resamples > 0`. Every distance must be finite and >= 0, and every
 * judgement in [0, 1]; a JND set in which no pair was judged "same" has no mAP (its precision is
 * 0/0) and is refused, unless `opts.partial` (one shard of a set, scored again when merged).
 * Errors are `RangeError`s that start with `opts.name` and name the item.
 *
 * @example
 * ```ts
 * import { scoreDataset } from "./score.ts";
 * const items = {
 *   d0: Float32Array.of(0.1, 0.5),
 *   d1: Float32Array.of(0.2, 0.4),
 *   judge: Float32Array.of(0, 1),
 *   paths: [],
 * };
 * console.log(scoreDataset(items, { resamples: 0, seed: 0 })); // { score: 1, ci95: null }
 * ```
 */
export function scoreDataset(
  items: TwoAFCItems | JNDItems,
  boot: { resamples: number; seed: number },
  opts: { name?: string; partial?: boolean } = {},
): DatasetScore {
  const name = opts.name ?? "dataset";
  const resample = boot.resamples > 0;
  if ("d0" in items) {
    const { d0, d1, judge } = items;
    checkDistances(name, "d0", d0, items.paths.map((p) => p?.p0));
    checkDistances(name, "d1", d1, items.paths.map((p) => p?.p1));
    checkFractions(name, "judge", judge, items.paths.map((p) => p?.judge));
    const ci = resample && d0.length > 0 ? bootstrap2AFC(d0, d1, judge, boot) : undefined;
    return { score: score2AFC(d0, d1, judge), ci95: ci ? [ci.low, ci.high] : null };
  }
  const { d, same } = items;
  checkDistances(name, "d", d, items.paths.map((p) => p?.p1));
  checkFractions(name, "same", same, items.paths.map((p) => p?.same));
  if (!opts.partial && d.length > 0 && same.every((s) => s === 0)) {
    throw new RangeError(
      `${name}: the JND mAP is undefined: no pair was judged "same" (all ${d.length} same ` +
        "values are 0, so precision is 0/0 at every rank)",
    );
  }
  const ci = resample && d.length > 0 ? bootstrapJND(d, same, boot) : undefined;
  return { score: jndMAP(d, same), ci95: ci ? [ci.low, ci.high] : null };
}

function where(i: number, file: string | undefined): string {
  return file === undefined ? `item ${i}` : `item ${i} (${file})`;
}

/** Distances are finite and >= 0: anything else would rank silently (Infinity as a tie). */
function checkDistances(
  name: string,
  what: string,
  values: Float32Array,
  files: (string | undefined)[],
): void {
  const i = values.findIndex((v) => !(v >= 0 && v < Infinity));
  if (i >= 0) {
    throw new RangeError(
      `${name}: ${where(i, files[i])}: distance ${what} = ${values[i]}; distances must be ` +
        "finite and >= 0",
    );
  }
}

/** Judgements are fractions of the human judges, in [0, 1]. */
function checkFractions(
  name: string,
  what: string,
  values: Float32Array,
  files: (string | undefined)[],
): void {
  const i = values.findIndex((v) => !(v >= 0 && v <= 1));
  if (i >= 0) {
    throw new RangeError(
      `${name}: ${where(i, files[i])}: ${what} = ${values[i]} is outside [0, 1]`,
    );
  }
}
