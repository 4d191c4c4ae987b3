/**
 * What the metric displays say about the model: its name line and its tapped layers.
 *
 * @module
 */
import type { LPIPS } from "../lpips/lpips.ts";
import { basename } from "node:path";
import {
  type ImageFile,
  imageFileName,
  type ImageSource,
  type ImageTensor,
  isImageFile,
  loadImage,
} from "../bappsloader/image.ts";

/** "LPIPS (alex, v0.1)", with ", uncalibrated" for the baseline, as `lpips demo` prints it. */
export function modelLabel(m: LPIPS): string {
  return `LPIPS (${m.net}, v${m.version}${m.lpips ? "" : ", uncalibrated"})`;
}

/** Each tapped layer of the model's trunk: its torchvision module and channel count. */
export function tapModules(m: LPIPS): { module: string; channels: number }[] {
  return m.arch.taps.map((index, k) => {
    const op = m.arch.layers[index].op;
    return {
      module: `features.${index} (${op === "relu" ? "ReLU" : op === "fire" ? "Fire" : op})`,
      channels: m.arch.channels[k],
    };
  });
}

/** A distance as the command line prints it (six decimals). */
export function fmtDistance(d: number): string {
  return d.toFixed(6);
}

/**
 * An image given as a file (a path or `file:` URL, loaded with `loadImage`, named by its file
 * name) or a tensor.
 */
export async function namedImage(
  fn: string,
  input: ImageSource,
  fallbackName: string,
): Promise<{ name: string; image: ImageTensor }> {
  if (isImageFile(input)) {
    return { name: basename(fileLabel(input)), image: await loadImage(input) };
  }
  const shape = (input as ImageTensor | null)?.shape;
  if (!Array.isArray(shape) || shape.length !== 4 || !(input.data instanceof Float32Array)) {
    throw new TypeError(
      `${fn}: ${fallbackName} must be an image path or an ImageTensor { data: Float32Array, shape: [1, 3, h, w] }`,
    );
  }
  if (shape[0] !== 1) {
    throw new RangeError(
      `${fn}: ${fallbackName} is a batch of ${shape[0]}; pass one image (shape [1, 3, h, w])`,
    );
  }
  return { name: fallbackName, image: input };
}

/** How an image file appears in messages: its path (also for a `file:` URL), or the URL. */
export function fileLabel(file: ImageFile): string {
  return file instanceof URL && file.protocol === "file:" ? imageFileName(file) : String(file);
}

/** "64x64" for an NCHW tensor. */
export function sizeOf(t: ImageTensor): string {
  return `${t.shape[3]}x${t.shape[2]}`;
}
