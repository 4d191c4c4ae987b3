/**
 * FSIM and FSIMc, the feature similarity index of Zhang, Zhang, Mou and Zhang (2011), as the
 * authors' `FeatureSIM.m` computes it (docs/algorithm.md §12.4): the images are converted to YIQ,
 * averaged and subsampled by `F = max(1, round(min(h, w) / 256))`, phase congruency (Kovesi's
 * `phasecong2`: log-Gabor filters at 4 scales and 4 orientations, applied in the Fourier domain)
 * and Scharr gradient magnitudes of Y are compared, weighted by the larger phase congruency;
 * FSIMc adds the I and Q chroma similarity. Higher is better; 1 for identical images.
 *
 * @module
 */
import type { ImageTensor, RGBImage } from "../bappsloader/image.ts";
import { checkRgbPair, scoreBatch } from "./_classic_input.ts";
import { fft2 } from "./_fft.ts";
import { boxAverageDecimate, conv2Same3x3Separable, type Plane } from "./_matlab_filters.ts";

/** FSIM, FSIMc and the maps they pool. */
export interface FsimResult {
  /** FSIM: luma only. */
  fsim: number;
  /** FSIMc: luma and chroma. */
  fsimc: number;
  /**
   * Local similarity `S_PC * S_G` per pixel of the subsampled image, row-major; FSIM is its mean
   * weighted by {@linkcode FsimResult.weight}.
   */
  similarity: Float64Array;
  /** The colour version `S_PC * S_G * Re((S_I * S_Q) ^ 0.03)`, pooled the same way into FSIMc. */
  similarityC: Float64Array;
  /** The pooling weight: the larger of the two images' phase congruency (`PCm`). */
  weight: Float64Array;
  /** Width of the maps: `ceil(width / F)`. */
  width: number;
  /** Height of the maps: `ceil(height / F)`. */
  height: number;
  /** The subsampling factor `F = max(1, round(min(width, height) / 256))`. */
  factor: number;
}

const T1 = 0.85, T2 = 160, T3 = 200, T4 = 200, LAMBDA = 0.03;
/** Scharr / 16, `[3 0 -3; 10 0 -10; 3 0 -3] / 16` (x) and its transpose (y): smooth x diff. */
const SMOOTH = [3 / 16, 10 / 16, 3 / 16] as const, DIFF = [1, 0, -1] as const;

/**
 * FSIM of two 8-bit RGB images of one size, luma only.
 *
 * @example The paper's example patches (the authors' code gives 0.6475)
 * ```ts
 * import { readImage } from "@perceptual/lpips/bappsloader";
 * import { fsim } from "@perceptual/lpips/baselines";
 * const ref = await readImage("ex_ref.png"), dist = await readImage("ex_p0.png");
 * console.log(fsim(ref, dist).toFixed(4)); // 0.6475
 * ```
 */
export function fsim(ref: RGBImage, dist: RGBImage): number {
  return compute("fsim", ref, dist).fsim;
}

/**
 * FSIMc of two 8-bit RGB images of one size: FSIM with chroma, the variant in the
 * LPIPS paper's Fig. 4.
 *
 * @example The paper's example patches (the authors' code gives 0.6452; 0.6890 on TID2013's I03)
 * ```ts
 * import { readImage } from "@perceptual/lpips/bappsloader";
 * import { fsimc } from "@perceptual/lpips/baselines";
 * const ref = await readImage("ex_ref.png"), dist = await readImage("ex_p0.png");
 * console.log(fsimc(ref, dist).toFixed(4)); // 0.6452
 * ```
 */
export function fsimc(ref: RGBImage, dist: RGBImage): number {
  return compute("fsimc", ref, dist).fsimc;
}

/**
 * FSIM, FSIMc and their similarity and weight maps (`[FSIM, FSIMc] = FeatureSIM(ref, dist)`).
 * Any size is accepted. Where the authors' code gives NaN, so does this: phase congruency is
 * `0 / 0` in images without any structure (a single colour) and in some images of a few pixels
 * (1x1, 2x2, 5x3, ...; docs/algorithm.md §12.4).
 *
 * @example
 * ```ts
 * import { featureSimilarity } from "@perceptual/lpips/baselines";
 * const a = { width: 8, height: 8, data: new Uint8Array(192).map((_, i) => (i * 37) % 256) };
 * const r = featureSimilarity(a, a);
 * console.log(r.fsim, r.fsimc, r.factor, r.similarity.length); // 1 1 1 64
 * ```
 */
export function featureSimilarity(ref: RGBImage, dist: RGBImage): FsimResult {
  return compute("featureSimilarity", ref, dist);
}

function compute(fn: string, ref: RGBImage, dist: RGBImage): FsimResult {
  checkRgbPair(fn, ref, dist);
  const { width: cols, height: rows } = ref;
  const factor = Math.max(1, Math.round(Math.min(rows, cols) / 256));
  const a = yiq(ref, factor), b = yiq(dist, factor);
  const { h, w } = a.y, n = h * w;
  const bank = filterBank(h, w);
  const pc1 = phaseCongruency(a.y, bank), pc2 = phaseCongruency(b.y, bank);
  const g1 = gradientMagnitude(a.y), g2 = gradientMagnitude(b.y);
  const similarity = new Float64Array(n), similarityC = new Float64Array(n);
  const weight = new Float64Array(n);
  const chromaScale = Math.cos(LAMBDA * Math.PI);
  let sum = 0, sumC = 0, sumW = 0;
  for (let i = 0; i < n; i++) {
    const p1 = pc1[i], p2 = pc2[i], m1 = g1[i], m2 = g2[i];
    const sPc = (2 * p1 * p2 + T1) / (p1 * p1 + p2 * p2 + T1);
    const sG = (2 * m1 * m2 + T2) / (m1 * m1 + m2 * m2 + T2);
    // MATLAB's max ignores NaN.
    const pcm = p1 >= p2 || p2 !== p2 ? p1 : p2;
    const i1 = a.i.data[i], i2 = b.i.data[i], q1 = a.q.data[i], q2 = b.q.data[i];
    const sI = (2 * i1 * i2 + T3) / (i1 * i1 + i2 * i2 + T3);
    const sQ = (2 * q1 * q2 + T4) / (q1 * q1 + q2 * q2 + T4);
    // real(x .^ 0.03): a negative x has the complex power |x|^0.03 (cos 0.03 pi + i sin 0.03 pi).
    const iq = sI * sQ, chroma = iq >= 0 ? iq ** LAMBDA : (-iq) ** LAMBDA * chromaScale;
    const s = sG * sPc;
    similarity[i] = s;
    similarityC[i] = s * chroma;
    weight[i] = pcm;
    sum += s * pcm;
    sumC += s * chroma * pcm;
    sumW += pcm;
  }
  return {
    fsim: sum / sumW,
    fsimc: sumC / sumW,
    similarity,
    similarityC,
    weight,
    width: w,
    height: h,
    factor,
  };
}

/**
 * FSIM of every pair of two NCHW [-1, 1] batches, each image first rounded back to its 8-bit
 * pixels.
 *
 * @example
 * ```ts
 * import { fsimBatch } from "@perceptual/lpips/baselines";
 * const shape: [number, number, number, number] = [1, 3, 8, 8];
 * const a = { data: new Float32Array(192).map((_, i) => Math.sin(i)), shape };
 * console.log(fsimBatch(a, a)); // Float64Array(1) [1]
 * ```
 */
export function fsimBatch(ref: ImageTensor, dist: ImageTensor): Float64Array {
  return scoreBatch("fsim", ref, dist, fsim);
}

/**
 * FSIMc of every pair of two NCHW [-1, 1] batches, each image first rounded back to its 8-bit
 * pixels.
 *
 * @example
 * ```ts
 * import { fsimcBatch } from "@perceptual/lpips/baselines";
 * const shape: [number, number, number, number] = [1, 3, 8, 8];
 * const a = { data: new Float32Array(192).map((_, i) => Math.sin(i)), shape };
 * console.log(fsimcBatch(a, a)); // Float64Array(1) [1]
 * ```
 */
export function fsimcBatch(ref: ImageTensor, dist: ImageTensor): Float64Array {
  return scoreBatch("fsimc", ref, dist, fsimc);
}

/** Y, I, Q planes (float64, MATLAB's order of operations), averaged and subsampled by `f`. */
function yiq(img: RGBImage, f: number): { y: Plane; i: Plane; q: Plane } {
  const { width: w, height: h, data } = img, n = w * h;
  const y = new Float64Array(n), i = new Float64Array(n), q = new Float64Array(n);
  for (let p = 0, j = 0; p < n; p++, j += 3) {
    const r = data[j], g = data[j + 1], b = data[j + 2];
    y[p] = 0.299 * r + 0.587 * g + 0.114 * b;
    i[p] = 0.596 * r - 0.274 * g - 0.322 * b;
    q[p] = 0.211 * r - 0.523 * g + 0.312 * b;
  }
  const down = (data: Float64Array) => boxAverageDecimate({ data, h, w }, f);
  return { y: down(y), i: down(i), q: down(q) };
}

function gradientMagnitude(y: Plane): Float64Array {
  const ix = conv2Same3x3Separable(y, SMOOTH, DIFF), iy = conv2Same3x3Separable(y, DIFF, SMOOTH);
  for (let k = 0; k < ix.length; k++) ix[k] = Math.sqrt(ix[k] * ix[k] + iy[k] * iy[k]);
  return ix;
}

// ---- Phase congruency (Kovesi's phasecong2 with FSIM's parameters) ----

const NSCALE = 4, NORIENT = 4, MIN_WAVELENGTH = 6, MULT = 2, SIGMA_ON_F = 0.55;
const D_THETA_ON_SIGMA = 1.2, K = 2, EPSILON = 1e-4;

/** The filters of one image size and the noise constants that depend only on them. */
interface FilterBank {
  h: number;
  w: number;
  /** `filters[o][s]`: log-Gabor radial part times the angular spread, zero frequency at [0]. */
  filters: Float64Array[][];
  /** Per orientation: the sum of squares of the smallest-scale filter (`EM_n`). */
  emN: Float64Array;
  /** Per orientation: `2 sum(An^2) + 4 sum(Ai Aj)` of the filters' spatial responses. */
  noiseGain: Float64Array;
}

let lastBank: FilterBank | undefined;

function filterBank(h: number, w: number): FilterBank {
  if (lastBank && lastBank.h === h && lastBank.w === w) return lastBank;
  const n = h * w;
  const xr = freqRange(w), yr = freqRange(h);
  const radius = new Float64Array(n), sinT = new Float64Array(n), cosT = new Float64Array(n);
  const lp = new Float64Array(n);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const k = r * w + c, x = xr[c], y = yr[r];
      const rad = Math.sqrt(x * x + y * y), theta = Math.atan2(-y, x);
      // lowpassfilter([rows cols], 0.45, 15): 1 / (1 + (radius / 0.45)^(2 * 15)).
      lp[k] = 1 / (1 + (rad / 0.45) ** 30);
      radius[k] = rad;
      sinT[k] = Math.sin(theta);
      cosT[k] = Math.cos(theta);
    }
  }
  radius[0] = 1;
  const logGabor: Float64Array[] = [];
  const denom = 2 * Math.log(SIGMA_ON_F) ** 2;
  for (let s = 0; s < NSCALE; s++) {
    const fo = 1 / (MIN_WAVELENGTH * MULT ** s), g = new Float64Array(n);
    for (let k = 0; k < n; k++) g[k] = Math.exp(-(Math.log(radius[k] / fo) ** 2) / denom) * lp[k];
    g[0] = 0;
    logGabor.push(g);
  }
  const thetaSigma = Math.PI / NORIENT / D_THETA_ON_SIGMA;
  const filters: Float64Array[][] = [];
  const emN = new Float64Array(NORIENT), noiseGain = new Float64Array(NORIENT);
  for (let o = 0; o < NORIENT; o++) {
    const angl = (o * Math.PI) / NORIENT, ca = Math.cos(angl), sa = Math.sin(angl);
    const spread = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const ds = sinT[k] * ca - cosT[k] * sa, dc = cosT[k] * ca + sinT[k] * sa;
      const dtheta = Math.abs(Math.atan2(ds, dc));
      spread[k] = Math.exp(-(dtheta * dtheta) / (2 * thetaSigma * thetaSigma));
    }
    const fs = logGabor.map((g) => g.map((v, k) => v * spread[k]));
    filters.push(fs);
    let em = 0;
    for (let k = 0; k < n; k++) em += fs[0][k] * fs[0][k];
    emN[o] = em;
    noiseGain[o] = spatialNoiseGain(fs, h, w);
  }
  return lastBank = { h, w, filters, emN, noiseGain };
}

/**
 * MATLAB's normalised frequency axis of `phasecong2`/`lowpassfilter`, quadrant-shifted
 * (`ifftshift`) so that zero frequency comes first: odd sizes step by `1 / (n - 1)`, even ones
 * by `1 / n`.
 */
function freqRange(n: number): Float64Array {
  const centred = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    centred[j] = n % 2 ? (j - (n - 1) / 2) / (n - 1) : (j - n / 2) / n;
  }
  const out = new Float64Array(n), shift = Math.floor(n / 2);
  for (let i = 0; i < n; i++) out[i] = centred[(i + shift) % n];
  return out;
}

/**
 * `2 sum_s sum_x a_s^2 + 4 sum_{s<t} sum_x a_s a_t`, where `a_s = real(ifft2(filter_s)) *
 * sqrt(h w)`, by Parseval's theorem: `sum_x a_s a_t = sum_k E_s(k) E_t(k)` with `E` the even
 * part `(F(k) + F(-k)) / 2` of each (real) filter, so no inverse transform is needed.
 */
function spatialNoiseGain(fs: Float64Array[], h: number, w: number): number {
  const n = h * w;
  const even = fs.map((f) => {
    const e = new Float64Array(n);
    for (let r = 0; r < h; r++) {
      const rr = r === 0 ? 0 : h - r;
      for (let c = 0; c < w; c++) {
        const cc = c === 0 ? 0 : w - c;
        e[r * w + c] = (f[r * w + c] + f[rr * w + cc]) / 2;
      }
    }
    return e;
  });
  let sumAn2 = 0, sumAiAj = 0;
  for (let s = 0; s < even.length; s++) {
    for (let t = s; t < even.length; t++) {
      let d = 0;
      for (let k = 0; k < n; k++) d += even[s][k] * even[t][k];
      if (s === t) sumAn2 += d;
      else sumAiAj += d;
    }
  }
  return 2 * sumAn2 + 4 * sumAiAj;
}

/** Phase congruency of one plane (Kovesi's PC_2 measure with noise compensation). */
function phaseCongruency(img: Plane, bank: FilterBank): Float64Array {
  const { h, w } = img, n = h * w;
  // Zero frequency is filtered out, so a constant may be removed first: with the first pixel's
  // value, a flat image transforms to exact zeros (as FFTW gives) and its phase congruency is
  // 0 / 0, as in the authors' code.
  const offset = img.data[0];
  const fRe = img.data.map((v) => v - offset), fIm = new Float64Array(n);
  fft2(fRe, fIm, h, w);
  const energyAll = new Float64Array(n), anAll = new Float64Array(n);
  const eoRe = Array.from({ length: NSCALE }, () => new Float64Array(n));
  const eoIm = Array.from({ length: NSCALE }, () => new Float64Array(n));
  const sumE = new Float64Array(n), sumO = new Float64Array(n), sumAn = new Float64Array(n);
  const energy = new Float64Array(n), e2 = new Float64Array(n);
  for (let o = 0; o < NORIENT; o++) {
    sumE.fill(0);
    sumO.fill(0);
    sumAn.fill(0);
    energy.fill(0);
    for (let s = 0; s < NSCALE; s++) {
      const f = bank.filters[o][s], re = eoRe[s], im = eoIm[s];
      for (let k = 0; k < n; k++) {
        re[k] = fRe[k] * f[k];
        im[k] = fIm[k] * f[k];
      }
      fft2(re, im, h, w, true);
      for (let k = 0; k < n; k++) {
        sumAn[k] += Math.sqrt(re[k] * re[k] + im[k] * im[k]);
        sumE[k] += re[k];
        sumO[k] += im[k];
      }
    }
    for (let k = 0; k < n; k++) {
      const xe = Math.sqrt(sumE[k] * sumE[k] + sumO[k] * sumO[k]) + EPSILON;
      const meanE = sumE[k] / xe, meanO = sumO[k] / xe;
      let en = energy[k];
      for (let s = 0; s < NSCALE; s++) {
        const e = eoRe[s][k], od = eoIm[s][k];
        en = en + e * meanE + od * meanO - Math.abs(e * meanO - od * meanE);
      }
      energy[k] = en;
      e2[k] = eoRe[0][k] * eoRe[0][k] + eoIm[0][k] * eoIm[0][k];
    }
    // Noise: the median squared response at the smallest scale estimates the Rayleigh mean.
    const meanE2n = -median(e2) / Math.log(0.5);
    const noisePower = meanE2n / bank.emN[o];
    const tau = Math.sqrt((noisePower * bank.noiseGain[o]) / 2);
    const estNoiseEnergy = tau * Math.sqrt(Math.PI / 2);
    const estNoiseEnergySigma = Math.sqrt((2 - Math.PI / 2) * tau * tau);
    const t = (estNoiseEnergy + K * estNoiseEnergySigma) / 1.7;
    for (let k = 0; k < n; k++) {
      energyAll[k] += Math.max(energy[k] - t, 0);
      anAll[k] += sumAn[k];
    }
  }
  for (let k = 0; k < n; k++) energyAll[k] /= anAll[k];
  return energyAll;
}

/** MATLAB's median: the middle value, or the mean of the two middle values (v is reordered). */
function median(v: Float64Array): number {
  const m = v.length >> 1, hi = select(v, m);
  if (v.length % 2) return hi;
  // After selection every value left of m is <= v[m]: the lower middle is their maximum.
  let lo = -Infinity;
  for (let i = 0; i < m; i++) if (v[i] > lo) lo = v[i];
  return (lo + hi) / 2;
}

/** Hoare's selection: reorders `v` so that `v[k]` is its k-th smallest value, and returns it. */
function select(v: Float64Array, k: number): number {
  let lo = 0, hi = v.length - 1;
  while (hi > lo) {
    const pivot = v[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        const t = v[i];
        v[i++] = v[j];
        v[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return v[k];
}
