/**
 * Input checks and conversions shared by the metrics ported from MATLAB (MS-SSIM, GMSD, FSIM):
 * they take 8-bit RGB images, as their authors' code does, or [-1, 1] batches rounded back to
 * the 8-bit pixels they came from.
 *
 * @module
 */
import type { ImageTensor, RGBImage } from "../bappsloader/image.ts";
import { quantizeInto } from "./_quantize.ts";
import { checkPair } from "./_validate.ts";

/** Checks one {@linkcode RGBImage}: whole positive sizes and `height * width * 3` bytes. */
export function checkRgbImage(fn: string, what: string, img: RGBImage): void {
  if (img === null || typeof img !== "object") {
    throw new TypeError(`${fn}: ${what} must be an RGBImage { width, height, data }, got ${img}`);
  }
  const { width, height, data } = img;
  for (const [name, v] of [["width", width], ["height", height]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`${fn}: ${what} has ${name} ${v}, expected a whole number >= 1`);
    }
  }
  if (!(data instanceof Uint8Array)) {
    const got = data === null || typeof data !== "object"
      ? typeof data
      : (data as object).constructor.name;
    throw new TypeError(`${fn}: ${what}.data must be a Uint8Array of R, G, B bytes, got ${got}`);
  }
  if (data.length !== width * height * 3) {
    const grey = data.length === width * height
      ? "; it looks like a grey image: repeat each value as R, G, B"
      : "";
    throw new RangeError(
      `${fn}: ${what} has ${data.length} bytes but ${width}x${height} RGB needs ${
        width * height * 3
      }${grey}`,
    );
  }
}

/** Checks two images and that their sizes agree. */
export function checkRgbPair(fn: string, a: RGBImage, b: RGBImage): void {
  checkRgbImage(fn, "ref", a);
  checkRgbImage(fn, "dist", b);
  if (a.width !== b.width || a.height !== b.height) {
    throw new RangeError(
      `${fn}: sizes differ: ref is ${a.width}x${a.height}, dist is ${b.width}x${b.height}`,
    );
  }
}

/**
 * Scores every pair of two NCHW [-1, 1] batches with `score`, after rounding each image back to
 * its 8-bit pixels (`round((x + 1) * 127.5)`, which undoes the package's uint8 -> tensor
 * conversions exactly).
 */
export function scoreBatch(
  fn: string,
  a: ImageTensor,
  b: ImageTensor,
  score: (ref: RGBImage, dist: RGBImage) => number,
): Float64Array {
  checkPair(fn, a, b);
  const n = a.shape[0];
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = score(tensorImage(a, i), tensorImage(b, i));
  return out;
}

/** Image `i` of an NCHW [-1, 1] batch as 8-bit interleaved RGB. */
export function tensorImage(t: ImageTensor, i: number): RGBImage {
  const [, , height, width] = t.shape, plane = height * width;
  const planar = new Uint8Array(plane * 3);
  quantizeInto(t.data, i * plane * 3, plane * 3, planar, 0, "round");
  const data = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    data[3 * p] = planar[p];
    data[3 * p + 1] = planar[plane + p];
    data[3 * p + 2] = planar[2 * plane + p];
  }
  return { width, height, data };
}
