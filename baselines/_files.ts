/**
 * Image files as baseline inputs: each baseline takes a path or `file:` URL wherever it takes a
 * tensor, reads it with `loadImage` (the reference's `im2tensor(load_image(path))`) and then
 * returns a promise; with two tensors it stays synchronous.
 *
 * @module
 */
import {
  type ImageSource,
  type ImageTensor,
  isImageFile,
  resolveImage,
} from "../bappsloader/image.ts";

/** `f(a, b)` on tensors at once, or, when either is a file, on the loaded images (a promise). */
export function withImages<T>(
  a: ImageSource,
  b: ImageSource,
  f: (a: ImageTensor, b: ImageTensor) => T,
): T | Promise<T> {
  if (!isImageFile(a) && !isImageFile(b)) return f(a, b);
  return Promise.all([resolveImage(a), resolveImage(b)]).then(([x, y]) => f(x, y));
}
