/**
 * 8-bit RGB pictures for the notebook displays: from tensors, resized for the screen, a distance
 * map laid over an image, and the PNG that carries them. The labelled figures around them are
 * composed by `../lpips/figure.ts`.
 *
 * @module
 */
import { encode } from "fast-png";
import type { ImageTensor, RGBImage } from "../bappsloader/image.ts";
import { tensor2im } from "../baselines/tensor2im.ts";
import { viridis } from "../lpips/heatmap.ts";
import { resizeValues } from "../lpips/figure.ts";

export { resizeValues, screenSize } from "../lpips/figure.ts";

/**
 * Item `index` of an NCHW batch in [-1, 1] as interleaved RGB8, rounded to the nearest level (the
 * exact inverse of `loadImage`, so a file shows with its own pixels).
 */
export function rgbOf(t: ImageTensor, index = 0): RGBImage {
  const [n, c, h, w] = t.shape;
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new RangeError(`index ${index} is outside the batch of ${n}`);
  }
  const plane = h * w;
  const one = {
    data: t.data.subarray(index * c * plane, (index + 1) * c * plane),
    shape: [1, c, h, w],
  };
  const planar = tensor2im(one as ImageTensor, { quantize: "round" }).data;
  const data = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    data[3 * i] = planar[i];
    data[3 * i + 1] = planar[plane + i];
    data[3 * i + 2] = planar[2 * plane + i];
  }
  return { width: w, height: h, data };
}

/** An RGB8 picture resized to `w2` x `h2` with {@link resizeValues}. */
export function resizeRgb(img: RGBImage, w2: number, h2: number): RGBImage {
  if (img.width === w2 && img.height === h2) return img;
  const v = resizeValues(img.data, img.width, img.height, 3, w2, h2);
  return { width: w2, height: h2, data: Uint8Array.from(v, (x) => Math.round(x)) };
}

/**
 * A distance map (`w` x `h` values) in viridis, 0 to `max`, laid over a grey copy of `base` (of the
 * same size) with opacity `alpha`: the colour says how different, the picture says where.
 */
export function heatOver(
  base: RGBImage,
  map: ArrayLike<number>,
  max: number,
  alpha: number,
): RGBImage {
  const n = base.width * base.height;
  if (map.length !== n) throw new RangeError(`a map of ${map.length} values over ${n} pixels`);
  const data = new Uint8Array(n * 3);
  const top = max > 0 ? max : 1;
  for (let i = 0; i < n; i++) {
    const [r, g, b] = [base.data[3 * i], base.data[3 * i + 1], base.data[3 * i + 2]];
    const grey = 0.299 * r + 0.587 * g + 0.114 * b;
    const heat = viridis(map[i] / top);
    for (let c = 0; c < 3; c++) {
      data[3 * i + c] = Math.round(alpha * heat[c] + (1 - alpha) * grey);
    }
  }
  return { width: base.width, height: base.height, data };
}

/** The largest value (0 for none). */
export function maxOf(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) if (v[i] > m) m = v[i];
  return m;
}

/** The smallest value (a similarity map's farthest point). */
export function minOf(v: ArrayLike<number>): number {
  let m = Infinity;
  for (let i = 0; i < v.length; i++) if (v[i] < m) m = v[i];
  return m;
}

/** A picture as a base64 PNG, the form `image/png` takes in a MIME bundle. */
export function pngBase64(img: RGBImage): string {
  return encode({ width: img.width, height: img.height, data: img.data, channels: 3, depth: 8 })
    .toBase64();
}
