/**
 * PSNR of the 8-bit images behind two [-1, 1] tensors, as the reference's `lpips.psnr` helper
 * (`10 log10(peak^2 / mean((p0 - p1)^2))`, peak 255, on `tensor2im` images; docs/algorithm.md §5).
 *
 * @module
 */
import type { ImageSource, ImageTensor } from "../bappsloader/image.ts";
import { withImages } from "./_files.ts";
import { checkQuantize, type Quantize, quantizeInto } from "./_quantize.ts";
import { checkPair } from "./_validate.ts";

/** Options of {@linkcode psnr}. */
export interface PsnrOptions {
  /** The peak value (default 255). */
  peak?: number;
  /** How the tensors become uint8 first; default `"truncate"` (the reference's `tensor2im`). */
  quantize?: Quantize;
}

/**
 * PSNR in dB of every image pair of two NCHW float32 batches in [-1, 1]; `Infinity` for
 * identical images. Either side may be an image file (a path or `file:` URL, read with
 * `loadImage`): the result is then a promise.
 *
 * @returns one float64 value per batch item
 * @example
 * ```ts
 * import { psnr } from "@perceptual/lpips/baselines";
 * const a = { data: new Float32Array(12).fill(1), shape: [1, 3, 2, 2] as [1, 3, 2, 2] };
 * const b = { data: new Float32Array(12).fill(-1), shape: [1, 3, 2, 2] as [1, 3, 2, 2] };
 * console.log(psnr(a, b)); // Float64Array [0]: every pixel 255 apart
 * console.log(await psnr("ex_ref.png", "ex_p0.png")); // files: a promise
 * ```
 */
export function psnr(a: ImageTensor, b: ImageTensor, options?: PsnrOptions): Float64Array;
/** {@linkcode psnr} of image files (paths or `file:` URLs) or tensors, once the files are read. */
export function psnr(a: ImageSource, b: ImageSource, options?: PsnrOptions): Promise<Float64Array>;
export function psnr(
  a: ImageSource,
  b: ImageSource,
  options: PsnrOptions = {},
): Float64Array | Promise<Float64Array> {
  return withImages(a, b, (x, y) => psnrTensors(x, y, options));
}

function psnrTensors(a: ImageTensor, b: ImageTensor, options: PsnrOptions): Float64Array {
  checkPair("psnr", a, b);
  const quantize = checkQuantize("psnr", options.quantize);
  const peak = options.peak ?? 255;
  if (typeof peak !== "number" || !(Number.isFinite(peak) && peak > 0)) {
    throw new RangeError(`psnr: peak must be a finite number > 0, got ${peak}`);
  }
  const [n, c, h, w] = a.shape;
  const per = c * h * w;
  const u0 = new Uint8Array(per);
  const u1 = new Uint8Array(per);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    quantizeInto(a.data, i * per, per, u0, 0, quantize);
    quantizeInto(b.data, i * per, per, u1, 0, quantize);
    let s = 0;
    for (let k = 0; k < per; k++) {
      const d = u0[k] - u1[k];
      s += d * d;
    }
    out[i] = 10 * Math.log10((peak * peak) / (s / per));
  }
  return out;
}
