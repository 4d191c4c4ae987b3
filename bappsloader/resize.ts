/**
 * Pillow's `Image.resize(size, BILINEAR)` and `Image.resize(size, BICUBIC)` on 8-bit RGB images,
 * bit for bit, BICUBIC on float planes as Pillow's `"F"` mode does it, and torchvision's
 * `Resize(n)` size rule on top of bilinear (docs/algorithm.md §3). Bilinear is what the BAPPS
 * loader uses; bicubic is what `distance(a, b, { resize: "reference" })` uses for pairs of
 * different sizes.
 *
 * Pillow resamples separably: a horizontal pass, then a vertical pass, each producing an 8-bit
 * image. For every output index it takes the input span `center ± support` (`support` = the scale
 * factor when shrinking, 1 when enlarging; twice that for bicubic), weights it with the filter
 * (triangle, or the cubic kernel with a = -0.5) stretched by the scale factor, normalises the
 * weights to sum 1 and converts them to 22-bit fixed point; a pixel is
 * `clip((2^21 + Σ k_i · in_i) >> 22)`. Non-integer factors (252 -> 64, 256 -> 65) take the same
 * path. Pillow runs the horizontal pass only over the input rows that the vertical pass reads;
 * that saves work but cannot change a pixel, so every row is filtered here.
 *
 * @module
 */
import type { ImageTensor, RGBImage } from "./image.ts";

const PRECISION_BITS = 22; // Pillow: 32 - 8 (bits per sample) - 2 (headroom)
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Fixed-point filter taps for one axis: output `o` reads `size[o]` inputs from `start[o]`. */
interface Taps {
  start: Int32Array;
  size: Int32Array;
  /** `ksize` coefficients per output (zero beyond `size[o]`). */
  coeffs: Int32Array;
  ksize: number;
}

/** One of Pillow's resampling filters: its kernel and support (in input pixels at scale 1). */
interface Filter {
  name: "bilinear" | "bicubic";
  support: number;
  kernel: (x: number) => number;
}

/** Triangle filter of Pillow's BILINEAR (support 1). */
const BILINEAR: Filter = {
  name: "bilinear",
  support: 1,
  kernel: (x) => {
    const a = x < 0 ? -x : x;
    return a < 1 ? 1 - a : 0;
  },
};

/** Pillow's BICUBIC: the cubic convolution kernel with a = -0.5 (support 2). */
const BICUBIC: Filter = {
  name: "bicubic",
  support: 2,
  kernel: (x) => {
    const a = -0.5;
    if (x < 0) x = -x;
    if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
  },
};

/** Float filter weights for one axis: output `o` reads `size[o]` inputs from `start[o]`. */
interface Weights {
  start: Int32Array;
  size: Int32Array;
  /** `ksize` weights per output, normalised to sum 1 (zero beyond `size[o]`). */
  weights: Float64Array;
  ksize: number;
}

const tapsCache = new Map<string, Taps>();

/** Pillow's coefficient precomputation (`precompute_coeffs`) for `inSize` -> `outSize`. */
function computeWeights(inSize: number, outSize: number, filter: Filter): Weights {
  const scale = inSize / outSize; // the box is the whole image: (in1 - in0) / outSize
  const filterScale = scale < 1 ? 1 : scale;
  const support = filter.support * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const invScale = 1 / filterScale; // Pillow multiplies by the reciprocal; keep that rounding
  const start = new Int32Array(outSize);
  const size = new Int32Array(outSize);
  const weights = new Float64Array(outSize * ksize);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    // C casts truncate toward zero.
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    const n = hi - lo;
    const k = o * ksize;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      weights[k + i] = filter.kernel((i + lo - center + 0.5) * invScale);
      sum += weights[k + i];
    }
    if (sum !== 0) { for (let i = 0; i < n; i++) weights[k + i] /= sum; }
    start[o] = lo;
    size[o] = n;
  }
  return { start, size, weights, ksize };
}

/** The 8-bit path's fixed-point taps (`normalize_coeffs_8bpc`), cached per size pair. */
function computeTaps(inSize: number, outSize: number, filter: Filter): Taps {
  const key = `${filter.name}:${inSize}>${outSize}`;
  const cached = tapsCache.get(key);
  if (cached) return cached;
  const { start, size, weights, ksize } = computeWeights(inSize, outSize, filter);
  const coeffs = new Int32Array(weights.length);
  for (let i = 0; i < weights.length; i++) {
    // Pillow rounds half away from zero.
    const v = weights[i];
    coeffs[i] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
  }
  const taps = { start, size, coeffs, ksize };
  if (tapsCache.size > 256) tapsCache.clear();
  tapsCache.set(key, taps);
  return taps;
}

function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS; // arithmetic shift: floor, as in Pillow
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Horizontal pass: `src` (w x h) -> `dst` (outW x h). */
function horizontal(
  src: Uint8Array,
  w: number,
  h: number,
  outW: number,
  filter: Filter,
): Uint8Array {
  const { start, size, coeffs, ksize } = computeTaps(w, outW, filter);
  const dst = new Uint8Array(outW * h * 3);
  const stride = w * 3, outStride = outW * 3;
  const same = rowComparer(src, stride);
  for (let y = 0; y < h; y++) {
    const row = y * stride;
    const orow = y * outStride;
    if (y > 0 && same(y - 1, y)) {
      // A repeated input row gives the same output row (BAPPS's patches are enlarged 4x with
      // nearest neighbour, so three rows in four repeat the one above).
      dst.copyWithin(orow, orow - outStride, orow);
      continue;
    }
    for (let o = 0; o < outW; o++) {
      let r = HALF, g = HALF, b = HALF;
      const kb = o * ksize;
      let p = row + start[o] * 3;
      for (let i = 0, n = size[o]; i < n; i++, p += 3) {
        const k = coeffs[kb + i];
        r += src[p] * k;
        g += src[p + 1] * k;
        b += src[p + 2] * k;
      }
      const q = orow + o * 3;
      dst[q] = clip8(r);
      dst[q + 1] = clip8(g);
      dst[q + 2] = clip8(b);
    }
  }
  return dst;
}

/** Compares rows of `stride` bytes of `d` (four bytes at a time where the layout allows). */
function rowComparer(d: Uint8Array, stride: number): (a: number, b: number) => boolean {
  const words = stride % 4 === 0 && d.byteOffset % 4 === 0;
  const v = words ? new Uint32Array(d.buffer, d.byteOffset, d.length >> 2) : d;
  const n = words ? stride >> 2 : stride;
  return (a, b) => {
    for (let i = a * n, j = b * n, end = i + n; i < end; i++, j++) if (v[i] !== v[j]) return false;
    return true;
  };
}

/**
 * Vertical pass: `src` (w x h) -> `dst` (w x outH). Taps that fall on equal consecutive rows are
 * applied once with their weights added: the same integer sum (k1·r + k2·r = (k1 + k2)·r), fewer
 * passes over the rows.
 */
function vertical(
  src: Uint8Array,
  w: number,
  h: number,
  outH: number,
  filter: Filter,
): Uint8Array {
  const { start, size, coeffs, ksize } = computeTaps(h, outH, filter);
  const stride = w * 3;
  const same = rowComparer(src, stride);
  const repeats = new Uint8Array(h);
  for (let y = 1; y < h; y++) repeats[y] = same(y - 1, y) ? 1 : 0;
  const dst = new Uint8Array(outH * stride);
  const acc = new Int32Array(stride);
  for (let o = 0; o < outH; o++) {
    acc.fill(HALF);
    const kb = o * ksize;
    for (let i = 0, n = size[o]; i < n;) {
      const y = start[o] + i;
      let k = coeffs[kb + i++];
      while (i < n && repeats[start[o] + i]) k += coeffs[kb + i++];
      const row = y * stride;
      for (let x = 0; x < stride; x++) acc[x] += src[row + x] * k;
    }
    const orow = o * stride;
    for (let x = 0; x < stride; x++) dst[orow + x] = clip8(acc[x]);
  }
  return dst;
}

/**
 * Resizes an RGB8 image to `width` x `height` exactly as Pillow's `Image.resize` with
 * `Image.BILINEAR` (no `box`, no `reducing_gap`) does.
 *
 * @example
 * ```ts
 * import { resizeBilinear } from "@perceptual/lpips/bappsloader";
 * const img = { width: 4, height: 4, data: new Uint8Array(48).fill(200) };
 * console.log(resizeBilinear(img, 2, 2).data); // twelve 200s
 * ```
 */
export function resizeBilinear(img: RGBImage, width: number, height: number): RGBImage {
  return resample8(img, width, height, BILINEAR, "resizeBilinear");
}

/**
 * Resizes an RGB8 image to `width` x `height` exactly as Pillow's `Image.resize` with
 * `Image.BICUBIC` (its default filter; no `box`, no `reducing_gap`) does: the cubic kernel with
 * a = -0.5, support 2 scaled by the shrink factor, 22-bit fixed-point taps, results clipped to
 * 0..255.
 *
 * @example
 * ```ts
 * import { resizeBicubic } from "@perceptual/lpips/bappsloader";
 * const img = { width: 2, height: 1, data: new Uint8Array([0, 0, 0, 255, 255, 255]) };
 * console.log(resizeBicubic(img, 4, 1).data); // the edge, sharpened: 0 0 0 13 13 13 ...
 * ```
 */
export function resizeBicubic(img: RGBImage, width: number, height: number): RGBImage {
  return resample8(img, width, height, BICUBIC, "resizeBicubic");
}

function resample8(
  img: RGBImage,
  width: number,
  height: number,
  filter: Filter,
  fn: string,
): RGBImage {
  checkSize(fn, width, height);
  if (img.data.length !== img.width * img.height * 3) {
    throw new RangeError(
      `${fn}: ${img.width}x${img.height} RGB needs ${
        img.width * img.height * 3
      } bytes, got ${img.data.length}`,
    );
  }
  let data = img.data;
  let w = img.width;
  if (width !== w) {
    data = horizontal(data, w, img.height, width, filter);
    w = width;
  }
  if (height !== img.height) data = vertical(data, w, img.height, height, filter);
  if (data === img.data) data = data.slice();
  return { width, height, data };
}

function checkSize(fn: string, width: number, height: number): void {
  for (const [what, v] of [["width", width], ["height", height]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${fn}: bad ${what} ${v}`);
  }
}

/**
 * Resizes every plane of a float32 NCHW batch to `height` x `width` as Pillow resizes a float
 * (`"F"` mode) image with `Image.BICUBIC`: the same taps as {@link resizeBicubic}, in float64,
 * no rounding to 8 bits and no clipping (bicubic overshoots a little at sharp edges), a horizontal
 * then a vertical pass, each stored as float32.
 *
 * @example
 * ```ts
 * import { resizeBicubicPlanes } from "@perceptual/lpips/bappsloader";
 * const t = { data: new Float32Array(12).fill(0.5), shape: [1, 3, 2, 2] as [1, 3, 2, 2] };
 * console.log(resizeBicubicPlanes(t, 4, 4).shape); // [1, 3, 4, 4], every value 0.5
 * ```
 */
export function resizeBicubicPlanes(t: ImageTensor, height: number, width: number): ImageTensor {
  checkSize("resizeBicubicPlanes", width, height);
  const [n, c, h, w] = t.shape;
  const out = new Float32Array(n * c * height * width);
  const x = computeWeights(w, width, BICUBIC);
  const y = computeWeights(h, height, BICUBIC);
  const mid = new Float32Array(h * width);
  for (let p = 0; p < n * c; p++) {
    const src = t.data.subarray(p * h * w, (p + 1) * h * w);
    for (let r = 0; r < h; r++) {
      for (let o = 0; o < width; o++) {
        let s = 0;
        const k = o * x.ksize, at = r * w + x.start[o];
        for (let i = 0; i < x.size[o]; i++) s += src[at + i] * x.weights[k + i];
        mid[r * width + o] = s;
      }
    }
    const dst = out.subarray(p * height * width, (p + 1) * height * width);
    for (let o = 0; o < height; o++) {
      const k = o * y.ksize;
      for (let col = 0; col < width; col++) {
        let s = 0;
        for (let i = 0; i < y.size[o]; i++) {
          s += mid[(y.start[o] + i) * width + col] * y.weights[k + i];
        }
        dst[o * width + col] = s;
      }
    }
  }
  return { data: out, shape: [n, c, height, width] };
}

/**
 * torchvision's `Resize(size)` output size for a `width` x `height` image: the shorter side
 * becomes `size`, the longer `int(size * long / short)` (torchvision 0.14).
 *
 * @example
 * ```ts
 * import { resizedSize } from "@perceptual/lpips/bappsloader";
 * console.log(resizedSize(252, 256, 64)); // [64, 65]
 * ```
 */
export function resizedSize(width: number, height: number, size: number): [number, number] {
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newLong = Math.trunc((size * long) / short);
  return width <= height ? [size, newLong] : [newLong, size];
}

/**
 * torchvision's `transforms.Resize(size)` on a PIL RGB image with the default BILINEAR
 * interpolation: the shorter side becomes `size` (aspect kept); an image whose size would not
 * change is returned as is. This is what the BAPPS loader does with `load_size = 64`.
 *
 * @example
 * ```ts
 * import { readImage, resizeShorterSide } from "@perceptual/lpips/bappsloader";
 * const img = await readImage("dataset/2afc/val/cnn/p0/000000.png");
 * const small = resizeShorterSide(img, 64);
 * console.log(img.width, img.height, "->", small.width, small.height); // 256 256 -> 64 64
 * ```
 */
export function resizeShorterSide(img: RGBImage, size = 64): RGBImage {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`resizeShorterSide: bad size ${size}`);
  }
  const [w, h] = resizedSize(img.width, img.height, size);
  if (w === img.width && h === img.height) return img;
  return resizeBilinear(img, w, h);
}
