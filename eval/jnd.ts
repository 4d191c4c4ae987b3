/**
 * The JND score of the reference's `score_jnd_dataset` (docs/algorithm.md §4.2): average precision of
 * "same" judgements when pairs are ranked by increasing distance.
 *
 * **Reference bug, not reproduced.** Since 2019-07 the reference appends each batch's distances
 * without flattening them; LPIPS returns shape (N,1,1,1), so `np.argsort` sorts a size-1 axis,
 * every index is 0, and the "sorted" judgements are the first item's value repeated. The mAP it
 * reports for `lpips`/`baseline` models is then meaningless (the first `same` value, or NaN when
 * that is 0); `l2`/`ssim` return 1-D distances and are unaffected. This module implements the
 * intended algorithm of the 2018 code on flattened distances, which is also what
 * `bapps-mini/expected_scores.json` was generated with.
 *
 * Ties: NumPy's default `argsort` (quicksort) leaves the order of equal distances
 * implementation-defined; we use a stable sort, so equal distances keep their item order.
 *
 * @module
 */

/**
 * VOC average precision, non-11-point variant (py-faster-rcnn's `voc_ap`): recall/precision
 * padded with (0, 0) and (1, 0), precision made non-increasing from the right, then the area
 * summed over the points where recall changes.
 *
 * @example
 * ```ts
 * import { vocAP } from "@perceptual/lpips/eval";
 * console.log(vocAP([0.5, 1], [1, 0.5])); // 0.75
 * ```
 */
export function vocAP(recall: ArrayLike<number>, precision: ArrayLike<number>): number {
  const n = recall.length;
  if (precision.length !== n) throw new RangeError("vocAP: recall and precision lengths differ");
  const mrec = new Float64Array(n + 2);
  const mpre = new Float64Array(n + 2);
  for (let i = 0; i < n; i++) {
    mrec[i + 1] = recall[i];
    mpre[i + 1] = precision[i];
  }
  mrec[n + 1] = 1;
  for (let i = n + 1; i > 0; i--) {
    // np.maximum propagates NaN; Math.max does too.
    mpre[i - 1] = Math.max(mpre[i - 1], mpre[i]);
  }
  let ap = 0;
  for (let i = 0; i < n + 1; i++) {
    if (mrec[i + 1] !== mrec[i]) ap += (mrec[i + 1] - mrec[i]) * mpre[i + 1];
  }
  return ap;
}

/**
 * Indices that sort `values` ascending; stable (equal values keep their order). NaN sorts last,
 * as in NumPy.
 */
export function stableArgsort(values: ArrayLike<number>): Uint32Array {
  const idx = Uint32Array.from({ length: values.length }, (_, i) => i);
  // Array.prototype.sort is stable (ES2019); typed-array sort is too, but sort a plain array.
  const order = Array.from(idx).sort((a, b) => {
    const x = values[a], y = values[b];
    if (x < y) return -1;
    if (x > y) return 1;
    const xn = Number.isNaN(x), yn = Number.isNaN(y);
    return xn === yn ? 0 : xn ? 1 : -1;
  });
  idx.set(order);
  return idx;
}

/**
 * JND mean average precision of distances `ds` against "same" fractions `sames` (one value per
 * pair, flattened). Pairs are ranked by increasing distance (stable); with `s` the sorted `sames`,
 * `TP = cumsum(s)`, `FP = cumsum(1 - s)`, `FN = sum(s) - TP`, precision `TP/(TP+FP)`, recall
 * `TP/(TP+FN)`, and the score is {@link vocAP}. `NaN` when no pair was judged "same" at all
 * (recall 0/0), as in the reference.
 *
 * @example
 * ```ts
 * import { jndMAP } from "@perceptual/lpips/eval";
 * jndMAP([0.05, 0.4, 0.1, 0.8, 0.2, 0.6], [1, 0, 2 / 3, 1 / 3, 1, 0]); // 0.882716049382716
 * ```
 */
export function jndMAP(ds: ArrayLike<number>, sames: ArrayLike<number>): number {
  const n = ds.length;
  if (sames.length !== n) {
    throw new RangeError(`jndMAP: ds and sames must have the same length (${n}, ${sames.length})`);
  }
  const order = stableArgsort(ds);
  const tp = new Float64Array(n);
  const fp = new Float64Array(n);
  let t = 0, f = 0;
  for (let i = 0; i < n; i++) {
    const s = sames[order[i]];
    t += s;
    f += 1 - s;
    tp[i] = t;
    fp[i] = f;
  }
  const total = t; // np.sum of the sorted values; the cumulative sum's last entry is the same sum
  const prec = new Float64Array(n);
  const rec = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    prec[i] = tp[i] / (tp[i] + fp[i]);
    rec[i] = tp[i] / (tp[i] + (total - tp[i]));
  }
  return vocAP(rec, prec);
}
