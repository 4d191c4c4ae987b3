/**
 * Image decoding to 8-bit RGB and the reference's two uint8 -> tensor conversions.
 *
 * Decodes PNG (8/16-bit, grey, palette, alpha), JPEG, BMP, TIFF, WebP and GIF to the RGB8 that
 * the reference's loader gets from Pillow (`Image.open(p).convert("RGB")`): alpha dropped (not
 * composited), grey expanded to three channels, palettes applied, 16-bit samples reduced to
 * their high byte (libpng's `png_set_strip_16`). The format is told by the file's signature, not
 * its name.
 *
 * Decoding is a library's job: the native `@napi-rs/image` (Rust's `image` crate as a Node-API
 * addon) when Deno may load it (`--allow-ffi --allow-env`, as `deno task lpips` runs), for
 * everything but GIF, whose small decoder is ours (`_gif.ts`, Pillow's behaviour exactly).
 * Without those flags, PNG and JPEG fall back to the pure-JS `fast-png` and `jpeg-js`, GIF still
 * works, and BMP, TIFF and WebP give an error naming the flags; {@link imageDecoder} tells which
 * is in use. Every file's header is checked before anything is allocated for it (at most
 * `maxImagePixels()` pixels, Pillow's 178,956,970 unless `LPIPS_MAX_IMAGE_PIXELS` says otherwise,
 * and no more pixels than the file can hold where the format bounds it); {@link readImage} reads
 * only regular files, and looks at a file's first bytes before it reads the rest.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { readFailure } from "../_internal/fs_errors.ts";
import { readRegularFile } from "../_internal/read_file.ts";
import { decodeGif } from "./_gif.ts";
import {
  checkHeader,
  checkImageHead,
  type ImageFormat,
  ImageTooLargeError,
  maxImageFileBytes,
  sniffFormat,
} from "./_image_header.ts";
import { jpegToRGB, pngToRGB } from "./_js_decoder.ts";
import { decodeNative, NATIVE } from "./_native_decoder.ts";

export { MAX_PIXELS, MAX_PIXELS_ENV, maxImagePixels } from "./_image_header.ts";

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

/** Thrown for files that are not a decodable image; the message names the file and format. */
export class ImageDecodeError extends Error {
  /** Always `"ImageDecodeError"`. */
  override name = "ImageDecodeError";
}

/**
 * The file extensions (lower case) of the formats {@link decodeImage} reads, by which the
 * command line lists a folder's images.
 */
export const IMAGE_FILE_EXTENSIONS: readonly string[] = [
  ".png",
  ".jpg",
  ".jpeg",
  ".bmp",
  ".tif",
  ".tiff",
  ".webp",
  ".gif",
];

/**
 * Which decoder this thread uses: `"native"` (`@napi-rs/image`, every format) or `"js"` (the
 * pure-JS fallback: PNG, JPEG and GIF only), with the reason when it is `"js"`.
 *
 * @example
 * ```ts
 * import { imageDecoder } from "@perceptual/lpips/bappsloader";
 * const { decoder, reason } = imageDecoder();
 * console.log(decoder === "native" ? "native decoding" : `pure JS (${reason})`);
 * ```
 */
export function imageDecoder(): { decoder: "native" | "js"; reason?: string } {
  return NATIVE.ok ? { decoder: "native" } : { decoder: "js", reason: NATIVE.reason };
}

const FORMATS = "a PNG, JPEG, BMP, TIFF, WebP or GIF file";

/**
 * Decodes PNG, JPEG, BMP, TIFF, WebP or GIF bytes to 8-bit RGB (see the module doc).
 *
 * @example
 * ```ts
 * import { decodeImage } from "@perceptual/lpips/bappsloader";
 * const img = decodeImage(await Deno.readFile("ex_ref.png"));
 * console.log(img.width, img.height);
 * ```
 */
export function decodeImage(bytes: Uint8Array, name = "<bytes>"): RGBImage {
  const format = sniffFormat(bytes);
  if (format === undefined) {
    throw new ImageDecodeError(
      bytes.length === 0 ? `${name}: empty file, not an image` : `${name}: not ${FORMATS}`,
    );
  }
  if (!NATIVE.ok && (format === "BMP" || format === "TIFF" || format === "WebP")) {
    throw new ImageDecodeError(
      `${name}: ${format} images need the native decoder (@napi-rs/image): ${NATIVE.reason}`,
    );
  }
  const native = NATIVE.ok && format !== "GIF" ? NATIVE.Transformer : undefined;
  try {
    checkHeader(format, bytes, !native);
    if (native) return decodeNative(native, bytes);
    if (format === "GIF") return decodeGif(bytes);
    return format === "PNG" ? pngToRGB(bytes) : jpegToRGB(bytes);
  } catch (e) {
    let cause = e;
    // The native PNG decoder checks CRCs, but it may first trip on the damaged data inside the
    // chunk, and its message does not say where: a bad CRC, if any, is the cause to report.
    if (native && format === "PNG") {
      try {
        checkHeader(format, bytes, true);
      } catch (withCrc) {
        cause = withCrc;
      }
    }
    if (cause instanceof ImageTooLargeError) {
      throw new ImageDecodeError(`${name}: image too large (${format}: ${cause.message})`);
    }
    const failure = decodeFailure(cause, format);
    // A valid file in a variant the decoder lacks (palette TIFF, say) is not called corrupt.
    const what = /does not support|unsupported pixel type/i.test(failure)
      ? "unsupported image"
      : "corrupt or truncated image";
    throw new ImageDecodeError(`${name}: ${what} (${format}: ${failure})`);
  }
}

/**
 * An image file: a path, or a `file:` URL (`new URL("./a.png", import.meta.url)`). Every function
 * of the package that takes an image takes one of these too, and reads it with {@link loadImage}.
 */
export type ImageFile = string | URL;

/** An image as a file ({@link ImageFile}) or as the NCHW float32 tensor {@link loadImage} makes. */
export type ImageSource = ImageFile | ImageTensor;

/**
 * Whether `x` names an image file (a path or a URL) rather than holding the pixels.
 *
 * @example
 * ```ts
 * import { isImageFile } from "@perceptual/lpips/bappsloader";
 * console.log(isImageFile("a.png"), isImageFile(new URL("file:///a.png"))); // true true
 * console.log(isImageFile({ data: new Float32Array(3), shape: [1, 3, 1, 1] })); // false
 * ```
 */
export function isImageFile(x: unknown): x is ImageFile {
  return typeof x === "string" || x instanceof URL;
}

/**
 * How an image file is named in messages: the path, or the path of a `file:` URL. Other URLs
 * are refused with an {@link ImageDecodeError} (nothing is downloaded behind the caller's back).
 *
 * @example
 * ```ts
 * import { imageFileName } from "@perceptual/lpips/bappsloader";
 * console.log(imageFileName(new URL("file:///data/a%20b.png"))); // /data/a b.png
 * ```
 */
export function imageFileName(file: ImageFile): string {
  if (typeof file === "string") return file;
  if (file.protocol !== "file:") {
    throw new ImageDecodeError(
      `${file.href}: cannot read (only file: URLs are read; download the image first)`,
    );
  }
  return fileURLToPath(file);
}

/**
 * Reads and decodes an image file (a path or a `file:` URL) to 8-bit RGB. Only a regular file is
 * opened (a folder, FIFO or device is refused at once), and its first bytes are checked (signature,
 * PNG size) before the rest is read, so a huge file that is not an image within the pixel limit is
 * never read whole.
 *
 * @example
 * ```ts
 * import { readImage } from "@perceptual/lpips/bappsloader";
 * const img = await readImage("ex_ref.png");
 * console.log(img.width, img.height, img.data.length); // 64 64 12288
 * await readImage("/dev/zero").catch((e) => console.log(e.message));
 * // /dev/zero: cannot read (it is a character device, not a regular file)
 * ```
 */
export async function readImage(path: ImageFile): Promise<RGBImage> {
  const name = imageFileName(path);
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(name, {
      what: "an image within the pixel limit",
      maxBytes: maxImageFileBytes(),
      checkHead: (head, size) => {
        let format;
        try {
          format = checkImageHead(head);
        } catch (e) {
          if (!(e instanceof ImageTooLargeError)) throw e;
          throw new ImageDecodeError(
            `${name}: image too large (${sniffFormat(head)}: ${e.message})`,
          );
        }
        if (format === undefined && size > head.length) {
          throw new ImageDecodeError(`${name}: not ${FORMATS}`);
        }
      },
    });
  } catch (e) {
    if (e instanceof ImageDecodeError || e instanceof RangeError) throw e;
    throw new ImageDecodeError(`${name}: cannot read (${readFailure(e)})`);
  }
  return decodeImage(bytes, name);
}

/**
 * The script path of the reference (`lpips.im2tensor(lpips.load_image(path))`, docs/algorithm.md §1.8):
 * `u / 127.5 - 1` in float64, rounded once to float32, as a 1x3xHxW tensor. `path` is a file path
 * or a `file:` URL.
 *
 * @example
 * ```ts
 * import { loadImage } from "@perceptual/lpips/bappsloader";
 * const t = await loadImage("ex_ref.png"); // { data, shape: [1, 3, 64, 64] }
 * const u = await loadImage(new URL(`file://${Deno.cwd()}/ex_ref.png`)); // a file: URL too
 * ```
 */
export async function loadImage(path: ImageFile): Promise<ImageTensor> {
  return im2tensor(await readImage(path));
}

/**
 * The tensor of an image source: a file is read with {@link loadImage}, a tensor is returned as
 * it is (checking is the caller's business). This is how the baselines and the notebook
 * displays accept paths.
 *
 * @example
 * ```ts
 * import { resolveImage } from "@perceptual/lpips/bappsloader";
 * const t = await resolveImage("ex_ref.png"); // the same as loadImage("ex_ref.png")
 * console.log((await resolveImage(t)) === t); // true
 * ```
 */
export async function resolveImage(x: ImageSource): Promise<ImageTensor> {
  return isImageFile(x) ? await loadImage(x) : x;
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

/** The decoders' error as a cause a user can act on (their own words where they are clear). */
function decodeFailure(e: unknown, format: ImageFormat): string {
  const text = errorText(e).replace(/^Decode image failed\s*/, "")
    .replace(/^Format error decoding \w+:\s*/, "");
  // Ours (and fast-png's, reading past the end of its buffer) for a file cut short.
  if (e instanceof RangeError && /outside the bounds/.test(text)) {
    const where = /outside the bounds: (.*)$/.exec(text)?.[1];
    return `the file ends too early${where ? `, ${where}` : ""}`;
  }
  // The native decoders' words for a file cut short.
  if (/unexpected end of file|failed to fill whole buffer|not enough bytes/i.test(text)) {
    return "the file ends too early";
  }
  if (format === "PNG" && /decompress|deflate|zlib/i.test(text)) {
    return "bad zlib-compressed pixel data";
  }
  if (format === "JPEG" && /marker was not found|unknown JPEG marker 0\b/.test(text)) {
    return `the file ends too early or has bad markers: ${text}`;
  }
  return text.replace(/[\s:]+$/, "").replace(/\s*\n\s*/g, " ");
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
