/**
 * Image decoding to 8-bit RGB (PNG and JPEG) and the reference's two uint8 -> tensor conversions.
 *
 * Decoding is done by well-kept libraries (`fast-png`, `jpeg-js`); this module only normalises
 * their output the way the reference's loaders do: alpha dropped (not composited), grey expanded
 * to three channels, palettes applied, 16-bit samples reduced to their high byte (libpng's
 * `png_set_strip_16`, which OpenCV's `imread` and Pillow's `convert("RGB")` both use for RGB).
 *
 * @module
 */
import { readFailure } from "../_internal/fs_errors.ts";
import { decode as decodePng, hasPngSignature } from "fast-png";
import jpeg from "jpeg-js";

/** An 8-bit RGB image, row-major, interleaved (`data.length === height * width * 3`). */
export interface RGBImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** R, G, B of every pixel, row by row. */
  data: Uint8Array;
}

/** A batch of images as a float32 NCHW array, the form every metric in this package takes. */
export interface ImageTensor {
  /** The values in C order: image by image, channel plane by plane, row by row. */
  data: Float32Array;
  /** `[N, C, H, W]`: images, channels (3 for RGB), height, width. */
  shape: [number, number, number, number];
}

/** Largest image accepted by the decoders, in pixels (guards against decompression bombs). */
export const MAX_PIXELS = 1 << 28;

/** Thrown for files that are not a decodable PNG or JPEG; the message names the file. */
export class ImageDecodeError extends Error {
  /** Always `"ImageDecodeError"`. */
  override name = "ImageDecodeError";
}

/**
 * Decodes PNG or JPEG bytes to 8-bit RGB.
 *
 * @example
 * ```ts
 * import { decodeImage } from "@perceptual/lpips/bappsloader";
 * const img = decodeImage(await Deno.readFile("ex_ref.png"));
 * console.log(img.width, img.height);
 * ```
 */
export function decodeImage(bytes: Uint8Array, name = "<bytes>"): RGBImage {
  const png = hasPngSignature(bytes);
  try {
    if (png) return pngToRGB(bytes);
    if (bytes.length > 2 && bytes[0] === 0xff && bytes[1] === 0xd8) return jpegToRGB(bytes);
  } catch (e) {
    throw new ImageDecodeError(
      `${name}: corrupt or truncated image (${png ? "PNG" : "JPEG"}: ${decodeFailure(e, png)})`,
    );
  }
  throw new ImageDecodeError(
    bytes.length === 0 ? `${name}: empty file, not an image` : `${name}: not a PNG or JPEG file`,
  );
}

/** Reads and decodes an image file to 8-bit RGB. */
export async function readImage(path: string): Promise<RGBImage> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new ImageDecodeError(`${path}: cannot read (${readFailure(e)})`);
  }
  return decodeImage(bytes, path);
}

/**
 * The script path of the reference (`lpips.im2tensor(lpips.load_image(path))`, docs/algorithm.md §1.8):
 * `u / 127.5 - 1` in float64, rounded once to float32, as a 1x3xHxW tensor.
 *
 * @example
 * ```ts
 * import { loadImage } from "@perceptual/lpips/bappsloader";
 * const t = await loadImage("ex_ref.png"); // { data, shape: [1, 3, 64, 64] }
 * ```
 */
export async function loadImage(path: string): Promise<ImageTensor> {
  return im2tensor(await readImage(path));
}

/** `u / 127.5 - 1` (float64, one rounding to float32), HWC uint8 -> 1x3xHxW. */
export function im2tensor(img: RGBImage): ImageTensor {
  return toCHW(img, (u) => u / 127.5 - 1);
}

/**
 * The BAPPS dataset conversion `ToTensor()` + `Normalize(0.5, 0.5)` with every step rounded to
 * float32: `f32(f32(f32(u / 255) - 0.5) / 0.5)` (docs/algorithm.md §3, §9).
 */
export function toTensorNormalize(img: RGBImage): ImageTensor {
  const f = Math.fround;
  return toCHW(img, (u) => f(f(f(u / 255) - 0.5) / 0.5));
}

/** `ToTensor()` alone: `f32(u / 255)` in [0, 1] (for `normalize: true` inputs). */
export function toTensor01(img: RGBImage): ImageTensor {
  return toCHW(img, (u) => u / 255);
}

/** Stacks same-sized single images (1x3xHxW each) into one N x 3 x H x W batch. */
export function stack(items: ImageTensor[]): ImageTensor {
  if (items.length === 0) throw new RangeError("stack: no images");
  const [, c, h, w] = items[0].shape;
  const per = c * h * w;
  const data = new Float32Array(per * items.length);
  items.forEach((t, i) => {
    const [n, c2, h2, w2] = t.shape;
    if (n !== 1 || c2 !== c || h2 !== h || w2 !== w) {
      throw new RangeError(
        `stack: image ${i} has shape [${t.shape}], expected [1,${c},${h},${w}]`,
      );
    }
    data.set(t.data, i * per);
  });
  return { data, shape: [items.length, c, h, w] };
}

function toCHW(img: RGBImage, convert: (u: number) => number): ImageTensor {
  const { width: w, height: h, data } = img;
  const lut = new Float32Array(256);
  for (let u = 0; u < 256; u++) lut[u] = convert(u);
  const plane = w * h;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    out[p] = lut[data[3 * p]];
    out[plane + p] = lut[data[3 * p + 1]];
    out[2 * plane + p] = lut[data[3 * p + 2]];
  }
  return { data: out, shape: [1, 3, h, w] };
}

/** CRC-32 (PNG, zlib polynomial) lookup table. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * Walks the chunks before fast-png does. Checks the CRC of every critical chunk (IHDR, PLTE, IDAT,
 * IEND: upper-case first letter), as libpng does by default; a bad CRC on an ancillary chunk
 * (never used here) is ignored, as libpng only warns. fast-png skips CRCs unless asked, and then
 * checks ancillary chunks too. A file cut short (a chunk running past its end, or no IEND) is
 * reported as such, and the size in IHDR is checked ({@link checkPngHeader}).
 */
function checkPngChunks(bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let idatBytes = 0;
  for (let at = 8;;) {
    if (at + 12 > bytes.length) throw new RangeError("outside the bounds: no IEND chunk");
    const length = view.getUint32(at);
    const end = at + 8 + length;
    const type = printable(bytes.subarray(at + 4, at + 8));
    if (end + 4 > bytes.length) {
      throw new RangeError(`outside the bounds: inside the ${type} chunk at byte ${at}`);
    }
    const critical = (bytes[at + 4] & 0x20) === 0;
    if (critical) {
      let c = 0xffffffff;
      for (let i = at + 4; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
      if (((c ^ 0xffffffff) >>> 0) !== view.getUint32(end)) {
        throw new Error(`bad CRC in the ${type} chunk at byte ${at}`);
      }
    }
    if (type === "IDAT") idatBytes += length;
    if (type === "IEND") return checkPngHeader(bytes, idatBytes);
    at = end + 4;
  }
}

/** Bytes as ASCII text, anything unprintable as `\xNN` (chunk names of corrupt files). */
function printable(bytes: Uint8Array): string {
  return [...bytes].map((b) =>
    b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`
  ).join("");
}

/** zlib's best ratio (deflate's 258-byte matches in 2 bits, or so): 1032 to 1. */
const ZLIB_MAX_RATIO = 1032;

/**
 * Checks the size in IHDR before anything is allocated for it: at most {@link MAX_PIXELS}, and no
 * more pixel bytes than the IDAT chunks can inflate to (a 100-byte file that claims 16000x16000
 * is corrupt, and must not cost a gigabyte to find out).
 */
function checkPngHeader(bytes: Uint8Array, idatBytes: number): void {
  if (bytes.length < 33 || String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR") {
    throw new Error("no IHDR chunk first");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16), height = view.getUint32(20);
  checkSize(width, height);
  const depth = bytes[24], colorType = bytes[25];
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colorType] ?? 1;
  const raw = height * (1 + Math.ceil((width * channels * depth) / 8));
  // Half of it, to stay clear of Adam7's different row layout; the bound is still a hard one.
  if (idatBytes * ZLIB_MAX_RATIO + 64 < raw / 2) {
    throw new Error(
      `${width}x${height} image, but its IDAT chunks hold only ${idatBytes} bytes`,
    );
  }
}

function pngToRGB(bytes: Uint8Array): RGBImage {
  checkPngChunks(bytes);
  const png = decodePng(bytes);
  const { width, height, channels, depth } = png;
  checkSize(width, height);
  const n = width * height;
  const out = new Uint8Array(n * 3);
  if (png.palette) {
    const samples = unpackSamples(png.data, depth, n, width);
    const pal = png.palette;
    for (let p = 0; p < n; p++) {
      const entry = pal[samples[p]];
      if (!entry) throw new Error(`palette index ${samples[p]} out of range`);
      out[3 * p] = entry[0];
      out[3 * p + 1] = entry[1];
      out[3 * p + 2] = entry[2];
    }
    return { width, height, data: out };
  }
  const samples = unpackSamples(png.data, depth, n * channels, width * channels);
  // Reduce every sample to 8 bits: high byte of 16-bit, bit replication of 1/2/4-bit grey.
  const to8 = depth === 16
    ? (v: number) => v >> 8
    : depth === 8
    ? (v: number) => v
    : (v: number) => Math.round((v * 255) / ((1 << depth) - 1));
  const colour = channels >= 3;
  for (let p = 0; p < n; p++) {
    const base = p * channels;
    if (colour) {
      out[3 * p] = to8(samples[base]);
      out[3 * p + 1] = to8(samples[base + 1]);
      out[3 * p + 2] = to8(samples[base + 2]);
    } else {
      const g = to8(samples[base]);
      out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = g;
    }
  }
  return { width, height, data: out };
}

/** fast-png leaves sub-byte samples packed (rows padded to a byte); unpack them. */
function unpackSamples(
  data: ArrayLike<number>,
  depth: number,
  count: number,
  rowSamples: number,
): ArrayLike<number> {
  if (depth >= 8) {
    if (data.length < count) throw new Error("pixel data shorter than the header says");
    return data;
  }
  const out = new Uint8Array(count);
  const rowBytes = Math.ceil((rowSamples * depth) / 8);
  const mask = (1 << depth) - 1;
  const rows = count / rowSamples;
  if (data.length < rows * rowBytes) throw new Error("pixel data shorter than the header says");
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < rowSamples; i++) {
      const bit = i * depth;
      const byte = data[r * rowBytes + (bit >> 3)];
      out[r * rowSamples + i] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/**
 * A sequential (baseline or extended) JPEG codes every 8x8 block of every component in at least
 * 2 bits (a DC code and an end-of-block code), so it holds at most 256 pixels per byte; checked
 * before jpeg-js allocates for the size in the frame header. Progressive JPEGs (end-of-band runs
 * can skip many blocks in a few bits) are left to jpeg-js's own resolution and memory limits.
 */
function checkJpegHeader(bytes: Uint8Array): void {
  for (let at = 2; at + 9 < bytes.length;) {
    if (bytes[at] !== 0xff) return;
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    }
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    if (marker === 0xc0 || marker === 0xc1) {
      const height = (bytes[at + 5] << 8) | bytes[at + 6];
      const width = (bytes[at + 7] << 8) | bytes[at + 8];
      checkSize(width, height);
      if (width * height > 256 * bytes.length + 4096) {
        throw new Error(`${width}x${height} image, but the file holds only ${bytes.length} bytes`);
      }
      return;
    }
    if (marker === 0xda) return;
    at += 2 + length;
  }
}

function jpegToRGB(bytes: Uint8Array): RGBImage {
  checkJpegHeader(bytes);
  const img = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: true,
    maxResolutionInMP: MAX_PIXELS / 1e6,
    maxMemoryUsageInMB: 4096,
  });
  checkSize(img.width, img.height);
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    out[3 * p] = img.data[4 * p];
    out[3 * p + 1] = img.data[4 * p + 1];
    out[3 * p + 2] = img.data[4 * p + 2];
  }
  return { width: img.width, height: img.height, data: out };
}

function checkSize(width: number, height: number): void {
  if (!(width > 0 && height > 0) || width * height > MAX_PIXELS) {
    throw new Error(`unsupported image size ${width}x${height}`);
  }
}

/** The decoders' error as a cause a user can act on (their own words where they are clear). */
function decodeFailure(e: unknown, png: boolean): string {
  const text = errorText(e);
  // fast-png reads past the end of its buffer (a DataView RangeError) when the file is cut short.
  if (e instanceof RangeError && /outside the bounds/.test(text)) {
    const where = /: (inside .*|no IEND chunk)$/.exec(text)?.[1];
    return `the file ends too early${where ? `, ${where}` : ""}`;
  }
  if (/decompress/i.test(text)) return "bad zlib-compressed pixel data";
  if (!png && /marker was not found|unknown JPEG marker 0\b/.test(text)) {
    return `the file ends too early or has bad markers: ${text}`;
  }
  return text.replace(/[\s:]+$/, "").replace(/\s*\n\s*/g, " ");
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
