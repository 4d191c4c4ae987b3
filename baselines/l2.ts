/**
 * The paper's L2 baseline (`lpips.L2`), in RGB and in Lab, for a whole batch.
 *
 * - RGB: the mean over C, H, W of `(a - b)^2` on the [-1, 1] tensors, float32 elements. This is
 *   4x the mean squared error of the same images scaled to [0, 1].
 * - Lab: `tensor2im` (truncating by default) -> scikit-image `rgb2lab` -> float32, then
 *   `0.5 * mean((lab0 / 100 - lab1 / 100)^2)`, float32 elements (docs/algorithm.md §5).
 *
 * Elements are formed with the reference's float32 operations; the sum is accumulated in float64
 * and the result rounded once to float32 (the reference sums in float32, so expect agreement to
 * about 1e-7 relative, not bit for bit).
 *
 * @module
 */
import type { ImageSource, ImageTensor } from "../bappsloader/image.ts";
import { withImages } from "./_files.ts";
import { checkQuantize, type Quantize, quantizeInto } from "./_quantize.ts";
import { checkColorspace, checkPair, type Colorspace, COLORSPACES } from "./_validate.ts";
import { labInto } from "./lab.ts";

export { type Colorspace, COLORSPACES };

/** Options of {@linkcode l2}. */
export interface L2Options {
  /** Default `"Lab"`, the reference's default. */
  colorspace?: Colorspace;
  /** Lab only: how the tensors become uint8 first; default `"truncate"` (the reference). */
  quantize?: Quantize;
}

/**
 * The L2 distance of every image pair of two NCHW float32 batches in [-1, 1]. Either side may
 * be an image file (a path or `file:` URL, read with `loadImage`): the result is then a promise.
 *
 * @returns one float32 value per batch item
 * @example
 * ```ts
 * import { l2 } from "@perceptual/lpips/baselines";
 * const a = { data: new Float32Array(12).fill(0.5), shape: [1, 3, 2, 2] as [1, 3, 2, 2] };
 * const b = { data: new Float32Array(12).fill(-0.5), shape: [1, 3, 2, 2] as [1, 3, 2, 2] };
 * console.log(l2(a, b, { colorspace: "RGB" })); // Float32Array [1]
 * console.log(l2(a, b, { colorspace: "Lab" })); // Float32Array [0.04282...]: grey 191 vs grey 63
 * console.log(await l2("ex_ref.png", "ex_p0.png")); // Float32Array [0.004374...]: files
 * ```
 */
export function l2(a: ImageTensor, b: ImageTensor, options?: L2Options): Float32Array;
/** {@linkcode l2} of image files (paths or `file:` URLs) or tensors, once the files are read. */
export function l2(a: ImageSource, b: ImageSource, options?: L2Options): Promise<Float32Array>;
export function l2(
  a: ImageSource,
  b: ImageSource,
  options: L2Options = {},
): Float32Array | Promise<Float32Array> {
  return withImages(a, b, (x, y) => l2Tensors(x, y, options));
}

function l2Tensors(a: ImageTensor, b: ImageTensor, options: L2Options): Float32Array {
  checkPair("l2", a, b);
  const colorspace = checkColorspace("l2", options.colorspace);
  const quantize = checkQuantize("l2", options.quantize);
  const [n, c, h, w] = a.shape;
  const per = c * h * w;
  const out = new Float32Array(n);
  if (colorspace === "RGB") {
    const f = Math.fround;
    const x = a.data, y = b.data;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = i * per, end = k + per; k < end; k++) {
        const d = f(x[k] - y[k]);
        s += f(d * d);
      }
      out[i] = s / per;
    }
    return out;
  }
  const plane = h * w;
  const u8 = new Uint8Array(per);
  const lab0 = new Float32Array(per);
  const lab1 = new Float32Array(per);
  for (let i = 0; i < n; i++) {
    quantizeInto(a.data, i * per, per, u8, 0, quantize);
    labInto(u8, 0, 1, plane, plane, lab0, 0, 1, plane);
    quantizeInto(b.data, i * per, per, u8, 0, quantize);
    labInto(u8, 0, 1, plane, plane, lab1, 0, 1, plane);
    out[i] = 0.5 * labSquaredSum(lab0, lab1) / per;
  }
  return out;
}

/** `sum(f32(f32(f32(p / 100) - f32(q / 100))^2))` accumulated in float64. */
function labSquaredSum(p: Float32Array, q: Float32Array): number {
  const f = Math.fround;
  let s = 0;
  for (let k = 0; k < p.length; k++) {
    const d = f(f(p[k] / 100) - f(q[k] / 100));
    s += f(d * d);
  }
  return s;
}
