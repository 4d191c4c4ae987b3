/**
 * The image forms every metric of the registry accepts (files, decoded 8-bit images, NCHW
 * tensors in [-1, 1]) and the conversions between them.
 *
 * @module
 */
import {
  im2tensor,
  type ImageTensor,
  isImageFile,
  loadImage,
  type RGBImage,
} from "../bappsloader/image.ts";
import type { MetricImage } from "./contract.ts";

/**
 * The NCHW [-1, 1] tensor of an image in any accepted form: a file is read with `loadImage`, an
 * {@linkcode RGBImage} is converted with `im2tensor`, a tensor is returned as it is.
 *
 * @example
 * ```ts
 * import { metricTensor } from "@perceptual/lpips/metrics";
 * const t = await metricTensor({ width: 1, height: 1, data: Uint8Array.of(255, 0, 255) });
 * console.log(t.shape, t.data); // [1, 3, 1, 1] Float32Array [1, -1, 1]
 * ```
 */
export async function metricTensor(x: MetricImage): Promise<ImageTensor> {
  if (isImageFile(x)) return await loadImage(x);
  if (isRgbImage(x)) return im2tensor(x);
  return x;
}

/** Whether `x` is a decoded 8-bit image (`{ width, height, data: Uint8Array }`). */
function isRgbImage(x: MetricImage): x is RGBImage {
  return typeof x === "object" && x !== null && "width" in x && x.data instanceof Uint8Array;
}

/**
 * Image `i` of an NCHW [-1, 1] batch as the 8-bit RGB image it stands for
 * (`round((x + 1) * 127.5)`, clamped to 0..255: this undoes `im2tensor` exactly).
 *
 * @example
 * ```ts
 * import { tensorRgbImage } from "@perceptual/lpips/metrics";
 * const t = { data: Float32Array.of(1, -1, 0), shape: [1, 3, 1, 1] as [1, 3, 1, 1] };
 * console.log(tensorRgbImage(t, 0).data); // Uint8Array [255, 0, 128]
 * ```
 */
export function tensorRgbImage(t: ImageTensor, i: number): RGBImage {
  const [, c, height, width] = t.shape, plane = height * width;
  if (c !== 3) throw new RangeError(`expected 3 channels (RGB), got ${c}`);
  const data = new Uint8Array(plane * 3);
  const base = i * plane * 3;
  for (let ch = 0; ch < 3; ch++) {
    for (let p = 0; p < plane; p++) {
      const v = Math.round((t.data[base + ch * plane + p] + 1) * 127.5);
      data[3 * p + ch] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { width, height, data };
}
