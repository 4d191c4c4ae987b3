/**
 * MS-SSIM, the multi-scale structural similarity of Wang, Simoncelli and Bovik (2003), as Z.
 * Wang's `msssim.m` computes it with its defaults on MATLAB's `rgb2gray` luma (docs/algorithm.md
 * §12.3): five scales, an 11x11 Gaussian window (sigma 1.5) over the windows inside the image,
 * K = (0.01, 0.03), L = 255, the published weights, a 2x2 mean then every 2nd sample between
 * scales (symmetric borders), and the product of the contrast-structure means of scales 1-4 and
 * the SSIM mean of scale 5, each to the power of its weight. Higher is better; 1 for identical
 * images.
 *
 * @module
 */
import type { ImageTensor, RGBImage } from "../bappsloader/image.ts";
import { checkRgbPair, scoreBatch } from "./_classic_input.ts";
import { type Plane, symmetricHalve } from "./_matlab_filters.ts";
import { grayPlane } from "./gray.ts";

/** The published weights of the five scales, finest first. */
export const MSSSIM_WEIGHTS: readonly number[] = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];

/** The smallest short side MS-SSIM accepts: the coarsest scale must still hold the 11x11 window. */
export const MSSSIM_MIN_SIZE = 176;

/** MS-SSIM with the per-scale terms it is made of. */
export interface MsssimResult {
  /**
   * The MS-SSIM value. When a mean of scales 1-4 (or scale 5's SSIM) is negative, the authors'
   * code raises it to a fractional power and returns a complex number; this is its real part.
   */
  score: number;
  /** The imaginary part of that complex number; 0 whenever every term is >= 0. */
  imaginary: number;
  /** The mean SSIM of each scale, finest first (`mssim_array`). */
  ssim: Float64Array;
  /** The mean contrast-structure term of each scale, finest first (`mcs_array`). */
  cs: Float64Array;
}

const K1 = 0.01, K2 = 0.03, L = 255, WIN = 11, SIGMA = 1.5;
const C1 = (K1 * L) ** 2, C2 = (K2 * L) ** 2;
const GAUSS = gaussianWindow();

/**
 * MS-SSIM of two 8-bit RGB images of one size, short side at least 176 px, as `msssim.m` on
 * `rgb2gray`.
 *
 * @example A 4x4 tiling of the paper's 64x64 example patches (MS-SSIM needs 176 px)
 * ```ts
 * import { readImage } from "@perceptual/lpips/bappsloader";
 * import { msssim } from "@perceptual/lpips/baselines";
 * const tile = (img: { data: Uint8Array }) => ({
 *   width: 256,
 *   height: 256,
 *   data: Uint8Array.from({ length: 256 * 256 * 3 }, (_, i) => {
 *     const p = Math.floor(i / 3), x = (p % 256) % 64, y = Math.floor(p / 256) % 64;
 *     return img.data[3 * (64 * y + x) + (i % 3)];
 *   }),
 * });
 * const ref = tile(await readImage("ex_ref.png")), dist = tile(await readImage("ex_p0.png"));
 * console.log(msssim(ref, dist).toFixed(6)); // 0.849600, as msssim.m
 * ```
 */
export function msssim(ref: RGBImage, dist: RGBImage): number {
  return msssimScales(ref, dist).score;
}

/**
 * MS-SSIM and its per-scale SSIM and contrast-structure means.
 *
 * @example
 * ```ts
 * import { msssimScales } from "@perceptual/lpips/baselines";
 * const a = { width: 176, height: 176, data: new Uint8Array(176 * 176 * 3).fill(90) };
 * const r = msssimScales(a, a);
 * console.log(r.score, r.cs.length); // 1 5
 * ```
 */
export function msssimScales(ref: RGBImage, dist: RGBImage): MsssimResult {
  checkRgbPair("msssim", ref, dist);
  if (Math.min(ref.width, ref.height) < MSSSIM_MIN_SIZE) {
    throw new RangeError(
      `msssim: the images are ${ref.width}x${ref.height}; MS-SSIM's 5 scales need a short side ` +
        `of at least ${MSSSIM_MIN_SIZE} px (the 11x11 window at 1/16 scale)`,
    );
  }
  const levels = MSSSIM_WEIGHTS.length;
  const ssim = new Float64Array(levels), cs = new Float64Array(levels);
  let x: Plane = { data: grayPlane(ref), h: ref.height, w: ref.width };
  let y: Plane = { data: grayPlane(dist), h: dist.height, w: dist.width };
  for (let l = 0; l < levels; l++) {
    [ssim[l], cs[l]] = ssimMeans(x, y);
    if (l + 1 < levels) {
      x = symmetricHalve(x);
      y = symmetricHalve(y);
    }
  }
  // prod(mcs(1:4) .^ w(1:4)) * mssim(5) ^ w(5), in complex arithmetic as MATLAB's power is.
  let re = 1, im = 0;
  for (let l = 0; l < levels; l++) {
    const v = l + 1 < levels ? cs[l] : ssim[l], wgt = MSSSIM_WEIGHTS[l];
    const mag = Math.abs(v) ** wgt, arg = v < 0 ? Math.PI * wgt : 0;
    const pr = mag * Math.cos(arg), pi = v < 0 ? mag * Math.sin(arg) : 0;
    [re, im] = [re * pr - im * pi, re * pi + im * pr];
  }
  return { score: re, imaginary: im, ssim, cs };
}

/**
 * MS-SSIM of every pair of two NCHW [-1, 1] batches, each image first rounded back to its 8-bit
 * pixels.
 *
 * @example
 * ```ts
 * import { msssimBatch } from "@perceptual/lpips/baselines";
 * const shape: [number, number, number, number] = [1, 3, 180, 200];
 * const a = { data: new Float32Array(3 * 180 * 200).fill(0.2), shape };
 * console.log(msssimBatch(a, a)); // Float64Array(1) [1]
 * ```
 */
export function msssimBatch(ref: ImageTensor, dist: ImageTensor): Float64Array {
  return scoreBatch("msssim", ref, dist, msssim);
}

/** `fspecial('gaussian', 11, 1.5)` as its separable 1-D factor (normalised to sum 1). */
function gaussianWindow(): Float64Array {
  const g = new Float64Array(WIN), r = (WIN - 1) / 2;
  let s = 0;
  for (let i = 0; i < WIN; i++) s += g[i] = Math.exp(-((i - r) ** 2) / (2 * SIGMA * SIGMA));
  for (let i = 0; i < WIN; i++) g[i] /= s;
  return g;
}

/**
 * Mean SSIM and mean contrast-structure over the 'valid' windows (`ssim_index_new.m`). The five
 * windowed sums are filtered along rows into a ring of 11 rows, then down the columns, so memory
 * is O(11 x width).
 */
function ssimMeans(x: Plane, y: Plane): [number, number] {
  const { h, w } = x, oh = h - WIN + 1, ow = w - WIN + 1;
  const ring = Array.from({ length: 5 }, () => new Float64Array(WIN * ow));
  const [r1, r2, r11, r22, r12] = ring;
  const a = x.data, b = y.data;
  const filterRow = (r: number) => {
    const base = r * w, slot = (r % WIN) * ow;
    for (let c = 0; c < ow; c++) {
      let s1 = 0, s2 = 0, s11 = 0, s22 = 0, s12 = 0;
      for (let k = 0; k < WIN; k++) {
        const g = GAUSS[k], u = a[base + c + k], v = b[base + c + k];
        s1 += g * u;
        s2 += g * v;
        s11 += g * u * u;
        s22 += g * v * v;
        s12 += g * u * v;
      }
      r1[slot + c] = s1;
      r2[slot + c] = s2;
      r11[slot + c] = s11;
      r22[slot + c] = s22;
      r12[slot + c] = s12;
    }
  };
  for (let r = 0; r < WIN - 1; r++) filterRow(r);
  let ssimSum = 0, csSum = 0;
  const slots = new Int32Array(WIN);
  for (let r = 0; r < oh; r++) {
    filterRow(r + WIN - 1);
    for (let k = 0; k < WIN; k++) slots[k] = ((r + k) % WIN) * ow;
    for (let c = 0; c < ow; c++) {
      let m1 = 0, m2 = 0, e11 = 0, e22 = 0, e12 = 0;
      for (let k = 0; k < WIN; k++) {
        const g = GAUSS[k], o = slots[k] + c;
        m1 += g * r1[o];
        m2 += g * r2[o];
        e11 += g * r11[o];
        e22 += g * r22[o];
        e12 += g * r12[o];
      }
      const m11 = m1 * m1, m22 = m2 * m2, m12 = m1 * m2;
      const v1 = e11 - m11, v2 = e22 - m22, v12 = e12 - m12;
      ssimSum += ((2 * m12 + C1) * (2 * v12 + C2)) / ((m11 + m22 + C1) * (v1 + v2 + C2));
      csSum += (2 * v12 + C2) / (v1 + v2 + C2);
    }
  }
  const n = oh * ow;
  return [ssimSum / n, csSum / n];
}
