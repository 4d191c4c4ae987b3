/**
 * GMSD, the gradient magnitude similarity deviation of Xue, Zhang, Mou and Bovik (2014), as the
 * authors' `GMSD.m` computes it on MATLAB's `rgb2gray` luma (docs/algorithm.md §12.2): the luma is
 * averaged over 2x2 blocks and halved, Prewitt gradients (divided by 3) give gradient
 * magnitudes, their similarity `(2 m1 m2 + 170) / (m1^2 + m2^2 + 170)` is the quality map, and the
 * score is the map's standard deviation (N - 1 in the denominator). Lower is better; 0 for
 * identical images.
 *
 * @module
 */
import type { ImageTensor, RGBImage } from "../bappsloader/image.ts";
import { checkRgbPair, scoreBatch } from "./_classic_input.ts";
import { boxAverageDecimate, conv2Same3x3Separable, type Plane } from "./_matlab_filters.ts";
import { grayPlane } from "./gray.ts";

/** The GMSD score and its quality map. */
export interface GmsdResult {
  /** The standard deviation of the map; lower is better. */
  score: number;
  /** Gradient magnitude similarity per pixel of the halved image, in (0, 1], row-major. */
  map: Float64Array;
  /** Map width: `ceil(width / 2)`. */
  width: number;
  /** Map height: `ceil(height / 2)`. */
  height: number;
}

/** The constant of the similarity (for 8-bit luma). */
export const GMSD_C = 170;

/** Prewitt / 3, `[1 0 -1; 1 0 -1; 1 0 -1] / 3` (x) and its transpose (y): ones x difference. */
const ONES = [1, 1, 1] as const, DIFF = [1 / 3, 0, -1 / 3] as const;

/**
 * GMSD of two 8-bit RGB images of one size (any size from 1x1), as `GMSD.m` on `rgb2gray`.
 *
 * @example The paper's example patches (the authors' code gives 0.198284)
 * ```ts
 * import { readImage } from "@perceptual/lpips/bappsloader";
 * import { gmsd } from "@perceptual/lpips/baselines";
 * const ref = await readImage("ex_ref.png"), dist = await readImage("ex_p0.png");
 * console.log(gmsd(ref, dist).toFixed(6)); // 0.198284
 * ```
 */
export function gmsd(ref: RGBImage, dist: RGBImage): number {
  return gmsdMap(ref, dist).score;
}

/**
 * GMSD and its quality map (`[score, quality_map] = GMSD(...)`).
 *
 * @example
 * ```ts
 * import { gmsdMap } from "@perceptual/lpips/baselines";
 * const a = { width: 4, height: 4, data: new Uint8Array(48).fill(100) };
 * const r = gmsdMap(a, a);
 * console.log(r.score, r.width, r.height, r.map[0]); // 0 2 2 1
 * ```
 */
export function gmsdMap(ref: RGBImage, dist: RGBImage): GmsdResult {
  checkRgbPair("gmsd", ref, dist);
  const g1 = gradientMagnitude(ref), g2 = gradientMagnitude(dist);
  const n = g1.length, map = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const a = g1[i], b = g2[i];
    const v = (2 * a * b + GMSD_C) / (a * a + b * b + GMSD_C);
    map[i] = v;
    sum += v;
  }
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (map[i] - mean) ** 2;
  // MATLAB's std of a single value is 0, not 0 / 0.
  const score = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  return { score, map, width: Math.ceil(ref.width / 2), height: Math.ceil(ref.height / 2) };
}

/**
 * GMSD of every pair of two NCHW [-1, 1] batches, each image first rounded back to its 8-bit
 * pixels.
 *
 * @example
 * ```ts
 * import { gmsdBatch } from "@perceptual/lpips/baselines";
 * const a = { data: new Float32Array(2 * 3 * 8 * 8).fill(0), shape: [2, 3, 8, 8] as [2, 3, 8, 8] };
 * console.log(gmsdBatch(a, a)); // Float64Array(2) [0, 0]
 * ```
 */
export function gmsdBatch(ref: ImageTensor, dist: ImageTensor): Float64Array {
  return scoreBatch("gmsd", ref, dist, gmsd);
}

function gradientMagnitude(img: RGBImage): Float64Array {
  const y: Plane = boxAverageDecimate({ data: grayPlane(img), h: img.height, w: img.width }, 2);
  const ix = conv2Same3x3Separable(y, ONES, DIFF), iy = conv2Same3x3Separable(y, DIFF, ONES);
  for (let i = 0; i < ix.length; i++) ix[i] = Math.sqrt(ix[i] * ix[i] + iy[i] * iy[i]);
  return ix;
}
