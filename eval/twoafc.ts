/**
 * The 2AFC score of the reference's `score_2afc_dataset` (docs/algorithm.md §4.1).
 *
 * @module
 */

/**
 * Per-triplet 2AFC agreement `[d0<d1]·(1-g) + [d1<d0]·g + [d0==d1]·0.5`, where `g` is the
 * fraction of humans who preferred `p1`: the share of humans the metric agrees with.
 *
 * @example
 * ```ts
 * import { twoAFCItemScores } from "@perceptual/lpips/eval";
 * console.log(twoAFCItemScores([0.1], [0.2], [0.2])); // Float64Array [0.8]
 * ```
 */
export function twoAFCItemScores(
  d0: ArrayLike<number>,
  d1: ArrayLike<number>,
  judge: ArrayLike<number>,
): Float64Array {
  const n = d0.length;
  if (d1.length !== n || judge.length !== n) {
    throw new RangeError(
      `score2AFC: d0, d1 and judge must have the same length (${n}, ${d1.length}, ${judge.length})`,
    );
  }
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = d0[i], b = d1[i], g = judge[i];
    s[i] = (a < b ? 1 - g : 0) + (b < a ? g : 0) + (a === b ? 0.5 : 0);
  }
  return s;
}

/**
 * The 2AFC score: the mean of {@link twoAFCItemScores} (a fraction in [0, 1]; the reference prints
 * `100 * score` with two decimals). `NaN` for no items, as `np.mean([])`. Pass the judgements as
 * the loader gives them (float32), as the reference does.
 *
 * @example
 * ```ts
 * import { score2AFC } from "@perceptual/lpips/eval";
 * console.log(score2AFC([0.1, 0.5, 0.3, 0.2], [0.2, 0.4, 0.3, 0.9], [0, 0.6, 1, 0.2])); // 0.725
 * ```
 */
export function score2AFC(
  d0: ArrayLike<number>,
  d1: ArrayLike<number>,
  judge: ArrayLike<number>,
): number {
  const s = twoAFCItemScores(d0, d1, judge);
  let sum = 0;
  for (let i = 0; i < s.length; i++) sum += s[i];
  return sum / s.length;
}
