/**
 * 8-bit RGB pictures for the notebook displays: from tensors, resized for the screen, a distance
 * map laid over an image, several pictures in a grid, and the PNG that carries them.
 *
 * @module
 */
import { encode } from "fast-png";
import type { ImageTensor, RGBImage } from "../bappsloader/image.ts";
import { tensor2im } from "../baselines/tensor2im.ts";
import { viridis } from "../lpips/heatmap.ts";

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

/**
 * The on-screen size for a `width` x `height` picture whose longer side should be `size`: larger
 * pictures shrink to it; smaller ones grow by the largest whole factor that stays within it (so
 * their pixels stay sharp squares).
 */
export function screenSize(width: number, height: number, size: number): [number, number] {
  const long = Math.max(width, height);
  if (long > size) {
    const s = size / long;
    return [Math.max(1, Math.round(width * s)), Math.max(1, Math.round(height * s))];
  }
  const k = Math.max(1, Math.floor(size / long));
  return [width * k, height * k];
}

/**
 * Resizes `channels`-interleaved values to `w2` x `h2`: each output pixel is the mean of the input
 * pixels its area covers when shrinking (no aliasing), the nearest input pixel when growing.
 */
export function resizeValues(
  src: ArrayLike<number>,
  w: number,
  h: number,
  channels: number,
  w2: number,
  h2: number,
): Float64Array {
  const out = new Float64Array(w2 * h2 * channels);
  const span = (i: number, n: number, n2: number): [number, number] => {
    const a = Math.floor((i * n) / n2);
    return [a, Math.max(a + 1, Math.floor(((i + 1) * n) / n2))];
  };
  for (let y = 0; y < h2; y++) {
    const [y0, y1] = span(y, h, h2);
    for (let x = 0; x < w2; x++) {
      const [x0, x1] = span(x, w, w2);
      const count = (y1 - y0) * (x1 - x0);
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let yy = y0; yy < y1; yy++) {
          for (let xx = x0; xx < x1; xx++) sum += src[(yy * w + xx) * channels + c];
        }
        out[(y * w2 + x) * channels + c] = sum / count;
      }
    }
  }
  return out;
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

/**
 * Pictures in rows, `gap` white pixels apart, each row as tall as its tallest picture; `null`
 * leaves a cell empty. Every row is laid out on the same column widths.
 */
export function grid(rows: (RGBImage | null)[][], gap = 6): RGBImage {
  const columns = Math.max(...rows.map((r) => r.length));
  const colW = Array.from(
    { length: columns },
    (_, c) => Math.max(0, ...rows.map((r) => r[c]?.width ?? 0)),
  );
  const rowH = rows.map((r) => Math.max(0, ...r.map((p) => p?.height ?? 0)));
  const width = Math.max(1, colW.reduce((s, v) => s + v, 0) + gap * (columns - 1));
  const height = Math.max(1, rowH.reduce((s, v) => s + v, 0) + gap * (rows.length - 1));
  const data = new Uint8Array(width * height * 3).fill(255);
  let top = 0;
  rows.forEach((row, r) => {
    let left = 0;
    for (let c = 0; c < columns; c++) {
      const p = row[c];
      if (p) {
        for (let y = 0; y < p.height; y++) {
          data.set(
            p.data.subarray(y * p.width * 3, (y + 1) * p.width * 3),
            ((top + y) * width + left) * 3,
          );
        }
      }
      left += colW[c] + gap;
    }
    top += rowH[r] + gap;
  });
  return { width, height, data };
}

/** The largest value (0 for none). */
export function maxOf(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) if (v[i] > m) m = v[i];
  return m;
}

/** A picture as a base64 PNG, the form `image/png` takes in a MIME bundle. */
export function pngBase64(img: RGBImage): string {
  return encode({ width: img.width, height: img.height, data: img.data, channels: 3, depth: 8 })
    .toBase64();
}
