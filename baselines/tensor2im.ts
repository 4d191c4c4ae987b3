/**
 * The reference's `lpips.tensor2im`: a [-1, 1] float tensor back to 8-bit pixels, as the L2-Lab,
 * SSIM and PSNR baselines see them.
 *
 * The reference computes `(t + 1) * 127.5` in float32 and **truncates** to uint8, so the round
 * trip uint8 -> tensor -> uint8 is not the identity: values 1..95 come back one lower after
 * `im2tensor` (script path), values 1..63 after `ToTensor + Normalize` (dataset path), docs/algorithm.md
 * §1.8. `quantize: "round"` gives the exact inverse of both conversions instead.
 *
 * @module
 */
import type { ImageTensor } from "../bappsloader/image.ts";
import { checkTensor } from "./_validate.ts";
import { checkQuantize, type Quantize, quantizeInto } from "./_quantize.ts";

export type { Quantize };

/** A batch of 8-bit RGB images in NCHW (planar) layout: `data.length === n * 3 * h * w`. */
export interface Uint8Tensor {
  /** The pixel values, channel planes in order (C order). */
  data: Uint8Array;
  /** `[N, 3, H, W]`. */
  shape: [number, number, number, number];
}

/** Options of {@linkcode tensor2im}. */
export interface Tensor2imOptions {
  /** Default `"truncate"` (the reference). */
  quantize?: Quantize;
}

/**
 * Converts every image of an NCHW float32 tensor in [-1, 1] to uint8, keeping the NCHW layout
 * (the reference returns the first batch item only, as HxWx3).
 *
 * @example
 * ```ts
 * import { tensor2im } from "@perceptual/lpips/baselines";
 * const t = { data: new Float32Array([-1, 2 / 255 - 1, 1]), shape: [1, 3, 1, 1] as [1, 3, 1, 1] };
 * console.log(tensor2im(t).data); // Uint8Array [0, 0, 255]: 1 came back as 0
 * console.log(tensor2im(t, { quantize: "round" }).data); // Uint8Array [0, 1, 255]
 * ```
 */
export function tensor2im(t: ImageTensor, options: Tensor2imOptions = {}): Uint8Tensor {
  checkTensor("tensor2im", "t", t);
  const quantize = checkQuantize("tensor2im", options.quantize);
  const data = new Uint8Array(t.data.length);
  quantizeInto(t.data, 0, t.data.length, data, 0, quantize);
  return { data, shape: [...t.shape] };
}
