/**
 * Masked distances: `distance(a, b, { mask })` is the mask-weighted mean of the distance map
 * (the map upsampled to the input size, as `spatial: true` returns it), per image:
 * `Σ mask · map / Σ mask`. An all-ones mask gives exactly the map's mean, `spatial: true`'s
 * `distance` (what the reference's test_network prints). That mean is not the plain distance
 * (each layer averaged at its own resolution): bilinear upsampling (align_corners false) weighs
 * border pixels differently, and on the paper's 64x64 examples the two differ by 5e-6 to 2.5e-5
 * with alex and squeeze heads, up to 2.5e-4 uncalibrated, and below 1e-7 with vgg, whose first
 * tap is at full resolution (the reference's own numbers, `cases.json`).
 *
 * @module
 */
import { InputError } from "./validate.ts";

/** Per-pixel weights >= 0, NCHW `[N or 1, 1, H, W]`, H and W those of the (first) input. */
export interface DistanceMask {
  /** The weights in C order (row-major); 0 ignores a pixel. */
  data: Float32Array;
  /** `[N, 1, H, W]`, or `[1, 1, H, W]` for one mask applied to every pair. */
  shape: [number, number, number, number];
}

/** Checks a mask against a batch of `n` images of `h` x `w` px; returns the per-image weight sums. */
export function checkMask(mask: DistanceMask, n: number, h: number, w: number): Float64Array {
  const want = `[${n === 1 ? 1 : `${n} or 1`}, 1, ${h}, ${w}]`;
  if (mask === null || typeof mask !== "object" || !(mask.data instanceof Float32Array)) {
    throw new InputError(`mask must be { data: Float32Array, shape: ${want} }`);
  }
  const s = mask.shape;
  if (
    !Array.isArray(s) || s.length !== 4 || (s[0] !== n && s[0] !== 1) || s[1] !== 1 ||
    s[2] !== h || s[3] !== w
  ) {
    throw new InputError(
      `mask has shape ${
        Array.isArray(s) ? `[${s}]` : String(s)
      }; expected ${want}, the inputs' size`,
    );
  }
  const plane = h * w;
  if (mask.data.length !== s[0] * plane) {
    throw new InputError(
      `mask: shape [${s}] needs ${s[0] * plane} values but has ${mask.data.length} values`,
    );
  }
  const sums = new Float64Array(s[0]);
  for (let i = 0; i < mask.data.length; i++) {
    const v = mask.data[i];
    if (!(v >= 0) || v === Infinity) {
      throw new InputError(
        `mask has ${v} at index ${i}; weights must be finite and >= 0`,
      );
    }
    sums[Math.floor(i / plane)] += v;
  }
  const empty = sums.findIndex((t) => t === 0);
  if (empty >= 0) {
    throw new InputError(
      s[0] === 1
        ? "mask is all zero: no pixel to average over"
        : `mask of image ${empty} is all zero: no pixel to average over`,
    );
  }
  return sums;
}

/**
 * The mask-weighted mean of each of the `n` maps of `h` x `w` px in `maps` (float64 sums, one
 * rounding to float32; an all-ones mask gives the plain mean to the last bit).
 */
export function maskedMeans(
  maps: Float32Array,
  mask: DistanceMask,
  sums: Float64Array,
  n: number,
): Float32Array {
  const plane = maps.length / n;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const k = mask.shape[0] === 1 ? 0 : i;
    const m = mask.data.subarray(k * plane, (k + 1) * plane);
    let s = 0;
    for (let j = 0, at = i * plane; j < plane; j++, at++) s += maps[at] * m[j];
    out[i] = s / sums[k];
  }
  return out;
}
