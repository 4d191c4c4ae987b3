/**
 * sRGB -> CIE Lab exactly as scikit-image's `rgb2lab` computes it (D65 white, 2 degree observer),
 * in float64 like NumPy, and the reference's `tensor2tensorlab` built on it.
 *
 * Per pixel (docs/algorithm.md §5): `c = u * (1/255)`; linearise `c > 0.04045 ? ((c + 0.055) / 1.055)^2.4
 * : c / 12.92`; `XYZ = M rgb`; divide by the white point; `f(t) = t > 0.008856 ? cbrt(t) :
 * 7.787 t + 16/116`; `L = 116 f(Y) - 16`, `a = 500 (f(X) - f(Y))`, `b = 200 (f(Y) - f(Z))`.
 *
 * @module
 */
import type { ImageTensor, RGBImage } from "../bappsloader/image.ts";
import { checkQuantize, type Quantize, quantizeInto } from "./_quantize.ts";
import { checkTensor } from "./_validate.ts";

/** scikit-image's `xyz_from_rgb` (sRGB primaries, D65), row-major. */
export const XYZ_FROM_RGB: readonly (readonly [number, number, number])[] = [
  [0.412453, 0.357580, 0.180423],
  [0.212671, 0.715160, 0.072169],
  [0.019334, 0.119193, 0.950227],
];

/** The D65 white point for the 2 degree observer, as scikit-image's `get_xyz_coords`. */
export const D65_WHITE: readonly [number, number, number] = [0.95047, 1.0, 1.08883];

const [M00, M01, M02] = XYZ_FROM_RGB[0];
const [M10, M11, M12] = XYZ_FROM_RGB[1];
const [M20, M21, M22] = XYZ_FROM_RGB[2];
const [WX, WY, WZ] = D65_WHITE;
const EPS = 0.008856;
const KAPPA = 7.787;
const OFFSET = 16 / 116;

/** The linearised sRGB value of every uint8 level (`img_as_float` is `u * (1/255)`). */
const LINEAR: Float64Array = (() => {
  const lut = new Float64Array(256);
  const scale = 1 / 255;
  for (let u = 0; u < 256; u++) lut[u] = linearise(u * scale);
  return lut;
})();

function linearise(c: number): number {
  return c > 0.04045 ? Math.pow((c + 0.055) / 1.055, 2.4) : c / 12.92;
}

function f(t: number): number {
  return t > EPS ? cbrt(t) : KAPPA * t + OFFSET;
}

/** Samples of cbrt on [0, 1] for the starting guess of {@linkcode cbrt}. */
const CBRT_STEPS = 1024;
const CBRT_LUT: Float64Array = Float64Array.from(
  { length: CBRT_STEPS + 2 },
  (_, i) => Math.cbrt(i / CBRT_STEPS),
);

/**
 * Cube root within one ulp of the correctly rounded value (libm quality; measured on 2e5
 * samples), several times faster than V8's `Math.cbrt`, which is a call into C++. On (0.008856, 1], where every XYZ value of an 8-bit sRGB colour lies:
 * linear interpolation in a table (relative error below 4e-4), one Halley step (cubic
 * convergence, below 1e-10), then one Newton step whose correction is so small that only its
 * final rounding matters. Elsewhere it is `Math.cbrt`.
 */
function cbrt(x: number): number {
  if (!(x > EPS && x <= 1)) return Math.cbrt(x);
  const p = x * CBRT_STEPS;
  const i = p | 0;
  const lo = CBRT_LUT[i];
  let y = lo + (CBRT_LUT[i + 1] - lo) * (p - i);
  const y3 = y * y * y;
  y = y * (y3 + 2 * x) / (2 * y3 + x);
  return y - (y * y * y - x) / (3 * y * y);
}

/**
 * One colour from sRGB in [0, 1] (scikit-image's float input) to `[L, a, b]`.
 *
 * @example
 * ```ts
 * import { srgbToLab } from "@perceptual/lpips/baselines";
 * console.log(srgbToLab(1, 1, 1)); // [100, -0.00245..., 0.00465...]: skimage's white has a, b != 0
 * ```
 */
export function srgbToLab(r: number, g: number, b: number): [number, number, number] {
  for (const v of [r, g, b]) {
    if (!Number.isFinite(v)) throw new RangeError(`srgbToLab: component ${v} is not finite`);
  }
  return xyzToLab(linearise(r), linearise(g), linearise(b));
}

function xyzToLab(lr: number, lg: number, lb: number): [number, number, number] {
  const fx = f((lr * M00 + lg * M01 + lb * M02) / WX);
  const fy = f((lr * M10 + lg * M11 + lb * M12) / WY);
  const fz = f((lr * M20 + lg * M21 + lb * M22) / WZ);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/**
 * An 8-bit RGB image to Lab, float64, interleaved H x W x 3 like scikit-image's
 * `rgb2lab(image)` on a uint8 array.
 *
 * @example
 * ```ts
 * import { rgb2lab } from "@perceptual/lpips/baselines";
 * const lab = rgb2lab({ width: 1, height: 1, data: new Uint8Array([255, 0, 0]) });
 * console.log(lab); // Float64Array [53.24..., 80.09..., 67.20...]
 * ```
 */
export function rgb2lab(img: RGBImage): Float64Array {
  const n = img.width * img.height;
  if (!(img.data instanceof Uint8Array) || img.data.length !== 3 * n) {
    throw new RangeError(
      `rgb2lab: a ${img.width}x${img.height} RGB image needs ${
        3 * n
      } bytes, got ${img.data?.length}`,
    );
  }
  const out = new Float64Array(3 * n);
  labInto(img.data, 0, 3, 1, n, out, 0, 3, 1);
  return out;
}

/** Options of {@linkcode tensor2tensorlab}. */
export interface TensorLabOptions {
  /** How the tensor becomes uint8 first; default `"truncate"` (the reference's `tensor2im`). */
  quantize?: Quantize;
}

/**
 * The reference's `tensor2tensorlab(t, to_norm=False)` for every image of a batch:
 * `tensor2im` (truncating, by default) -> `rgb2lab` (float64) -> float32, in NCHW layout
 * (channels L, a, b). This is what the Lab baselines compare.
 *
 * @example
 * ```ts
 * import { tensor2tensorlab } from "@perceptual/lpips/baselines";
 * const t = { data: new Float32Array([1, 1, 1]), shape: [1, 3, 1, 1] as [1, 3, 1, 1] };
 * console.log(tensor2tensorlab(t).data); // Float32Array [100, -0.00245..., 0.00465...]
 * ```
 */
export function tensor2tensorlab(t: ImageTensor, options: TensorLabOptions = {}): ImageTensor {
  checkTensor("tensor2tensorlab", "t", t);
  const quantize = checkQuantize("tensor2tensorlab", options.quantize);
  const [n, , h, w] = t.shape;
  const plane = h * w;
  const out = new Float32Array(t.data.length);
  const u8 = new Uint8Array(3 * plane);
  for (let i = 0; i < n; i++) {
    quantizeInto(t.data, i * 3 * plane, 3 * plane, u8, 0, quantize);
    labInto(u8, 0, 1, plane, plane, out, i * 3 * plane, 1, plane);
  }
  return { data: out, shape: [...t.shape] };
}

/**
 * Converts `count` pixels of uint8 RGB to Lab. Pixel `p`'s channel `c` is read from
 * `src[srcOff + p * srcPix + c * srcChan]` and written likewise, so one loop serves interleaved
 * (pix 3, chan 1) and planar (pix 1, chan plane) layouts; a Float32Array destination rounds once.
 */
export function labInto(
  src: Uint8Array,
  srcOff: number,
  srcPix: number,
  srcChan: number,
  count: number,
  dst: Float32Array | Float64Array,
  dstOff: number,
  dstPix: number,
  dstChan: number,
): void {
  const lin = LINEAR;
  for (let p = 0; p < count; p++) {
    const s = srcOff + p * srcPix;
    const lr = lin[src[s]];
    const lg = lin[src[s + srcChan]];
    const lb = lin[src[s + 2 * srcChan]];
    const x = (lr * M00 + lg * M01 + lb * M02) / WX;
    const y = (lr * M10 + lg * M11 + lb * M12) / WY;
    const z = (lr * M20 + lg * M21 + lb * M22) / WZ;
    const fx = x > EPS ? cbrt(x) : KAPPA * x + OFFSET;
    const fy = y > EPS ? cbrt(y) : KAPPA * y + OFFSET;
    const fz = z > EPS ? cbrt(z) : KAPPA * z + OFFSET;
    const d = dstOff + p * dstPix;
    dst[d] = 116 * fy - 16;
    dst[d + dstChan] = 500 * (fx - fy);
    dst[d + 2 * dstChan] = 200 * (fy - fz);
  }
}
