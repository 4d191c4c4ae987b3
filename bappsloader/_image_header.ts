/**
 * What an image file's first bytes say, read before any decoder allocates for it: the format (by
 * its signature, never by the file name) and the pixel size, checked against {@link MAX_PIXELS}
 * and, where the format makes it a hard bound, against the bytes the file holds (a 100-byte file
 * that claims 16000x16000 is corrupt, and must not cost a gigabyte to find out).
 *
 * @module
 */

/**
 * Largest image accepted by default, in pixels: Pillow's `DecompressionBombError` threshold
 * (`2 * Image.MAX_IMAGE_PIXELS`, 178,956,970), which the reference's loader inherits. A header
 * that declares more is refused before anything is decoded; {@link MAX_PIXELS_ENV} changes it.
 */
export const MAX_PIXELS: number = 2 * Math.floor(1024 ** 3 / 4 / 3);

/** The formats {@link sniffFormat} knows. */
export type ImageFormat = "PNG" | "JPEG" | "BMP" | "TIFF" | "WebP" | "GIF";

/** The format whose signature starts `bytes`, or `undefined`. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  const ascii = (at: number, text: string) =>
    bytes.length >= at + text.length &&
    [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0));
  if (ascii(0, "\x89PNG\r\n\x1a\n")) return "PNG";
  if (bytes.length > 2 && bytes[0] === 0xff && bytes[1] === 0xd8) return "JPEG";
  if (ascii(0, "BM")) return "BMP";
  if (ascii(0, "II*\0") || ascii(0, "MM\0*")) return "TIFF";
  if (ascii(0, "RIFF") && ascii(8, "WEBP")) return "WebP";
  if (ascii(0, "GIF87a") || ascii(0, "GIF89a")) return "GIF";
  return undefined;
}

/** The environment variable that sets the pixel limit (a positive integer). */
export const MAX_PIXELS_ENV = "LPIPS_MAX_IMAGE_PIXELS";

/** The pixel limit in force: {@link MAX_PIXELS_ENV} when set (and readable), else {@link MAX_PIXELS}. */
export function maxImagePixels(): number {
  let text: string | undefined;
  try {
    text = Deno.env.get(MAX_PIXELS_ENV);
  } catch {
    return MAX_PIXELS; // no --allow-env: the default
  }
  if (text === undefined || text === "") return MAX_PIXELS;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(
      `${MAX_PIXELS_ENV} must be a positive integer (got ${JSON.stringify(text)})`,
    );
  }
  return n;
}

/** An image whose header declares more pixels than {@link maxImagePixels} allows. */
export class ImageTooLargeError extends Error {
  /** Always `"ImageTooLargeError"`. */
  override name = "ImageTooLargeError";
}

/** Throws unless `width` x `height` is a non-empty size within {@link maxImagePixels}. */
export function checkSize(width: number, height: number): void {
  if (!(width > 0 && height > 0)) throw new Error(`unsupported image size ${width}x${height}`);
  const limit = maxImagePixels();
  if (width * height > limit) {
    const source = limit === MAX_PIXELS
      ? `, Pillow's default; ${MAX_PIXELS_ENV}=N changes it`
      : ` set by ${MAX_PIXELS_ENV}`;
    throw new ImageTooLargeError(
      `${width}x${height} is ${width * height} pixels, over the limit of ${limit}${source}`,
    );
  }
}

/**
 * The most bytes an image file may hold: its pixels at 8 bytes each (16-bit RGBA, uncompressed)
 * plus 64 MiB of metadata, so a file is never read whole when no image within the limit needs it.
 */
export function maxImageFileBytes(): number {
  return maxImagePixels() * 8 + (1 << 26);
}

/**
 * Checks what the first bytes of a file (`head`, up to 64 KiB) can tell before the rest is read:
 * the format's signature, and for PNG the size in IHDR. Returns the format, or `undefined`.
 */
export function checkImageHead(head: Uint8Array): ImageFormat | undefined {
  const format = sniffFormat(head);
  if (format === "PNG" && head.length >= 24) {
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    if (String.fromCharCode(...head.subarray(12, 16)) === "IHDR") {
      const width = view.getUint32(16), height = view.getUint32(20);
      if (width > 0 && height > 0) checkSize(width, height);
    }
  }
  return format;
}

/**
 * Checks the header of a file of a known format before it is decoded (see the module doc).
 * `crc`: also check the CRC of every critical PNG chunk (the pure-JS PNG decoder does not).
 */
export function checkHeader(format: ImageFormat, bytes: Uint8Array, crc: boolean): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (format === "PNG") checkPngChunks(bytes, view, crc);
  else if (format === "JPEG") checkJpegHeader(bytes);
  else if (format === "BMP") checkBmpHeader(bytes, view);
  else if (format === "TIFF") checkTiffHeader(bytes, view);
  else if (format === "WebP") checkWebpHeader(bytes, view);
  // GIF: read by our own decoder, which checks the sizes as it parses them.
}

/** Reading past the end of a file: the message the decoders' callers report as a cut file. */
export function endsEarly(where: string): RangeError {
  return new RangeError(`outside the bounds: ${where}`);
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
 * Walks the PNG chunks. A file cut short (a chunk running past its end, or no IEND) is reported
 * as such, and the size in IHDR is checked ({@link checkPngHeader}). With `crc`, checks the CRC
 * of every critical chunk (IHDR, PLTE, IDAT, IEND: upper-case first letter), as libpng does by
 * default; a bad CRC on an ancillary chunk (never used here) is ignored, as libpng only warns.
 */
function checkPngChunks(bytes: Uint8Array, view: DataView, crc: boolean): void {
  let idatBytes = 0;
  for (let at = 8;;) {
    if (at + 12 > bytes.length) throw endsEarly("no IEND chunk");
    const length = view.getUint32(at);
    const end = at + 8 + length;
    const type = printable(bytes.subarray(at + 4, at + 8));
    if (end + 4 > bytes.length) throw endsEarly(`inside the ${type} chunk at byte ${at}`);
    const critical = (bytes[at + 4] & 0x20) === 0;
    if (crc && critical) {
      let c = 0xffffffff;
      for (let i = at + 4; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
      if (((c ^ 0xffffffff) >>> 0) !== view.getUint32(end)) {
        throw new Error(`bad CRC in the ${type} chunk at byte ${at}`);
      }
    }
    if (type === "IDAT") idatBytes += length;
    if (type === "IEND") return checkPngHeader(bytes, view, idatBytes);
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

/** The size in IHDR: at most {@link MAX_PIXELS}, and no more than the IDAT chunks can inflate to. */
function checkPngHeader(bytes: Uint8Array, view: DataView, idatBytes: number): void {
  if (bytes.length < 33 || String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR") {
    throw new Error("no IHDR chunk first");
  }
  const width = view.getUint32(16), height = view.getUint32(20);
  checkSize(width, height);
  const depth = bytes[24], colorType = bytes[25];
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colorType] ?? 1;
  const raw = height * (1 + Math.ceil((width * channels * depth) / 8));
  // Half of it, to stay clear of Adam7's different row layout; the bound is still a hard one.
  if (idatBytes * ZLIB_MAX_RATIO + 64 < raw / 2) {
    throw new Error(`${width}x${height} image, but its IDAT chunks hold only ${idatBytes} bytes`);
  }
}

/**
 * Walks the JPEG markers to the first scan. A sequential (baseline or extended) JPEG codes every
 * 8x8 block of every component in at least 2 bits (a DC code and an end-of-block code), so it
 * holds at most 256 pixels per byte; progressive ones (end-of-band runs can skip many blocks in a
 * few bits) are held to {@link MAX_PIXELS} only. A file without an end-of-image marker after its
 * first scan was cut short: Pillow refuses it ("image file is truncated"), and so do we, although
 * some decoders fill the missing rows in.
 */
function checkJpegHeader(bytes: Uint8Array): void {
  let at = 2;
  for (;;) {
    if (at + 4 > bytes.length) throw endsEarly("before the first scan");
    const marker = bytes[at + 1];
    // Bytes that are not a marker are skipped, as libjpeg does (with a warning only).
    if (bytes[at] !== 0xff || marker === 0xff) {
      at++;
      continue;
    }
    if (marker === 0xda) break;
    const length = (bytes[at + 2] << 8) | bytes[at + 3];
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 &&
      marker !== 0xcc;
    if (sof) {
      if (at + 9 > bytes.length) throw endsEarly("inside the frame header");
      const height = (bytes[at + 5] << 8) | bytes[at + 6];
      const width = (bytes[at + 7] << 8) | bytes[at + 8];
      checkSize(width, height);
      if ((marker === 0xc0 || marker === 0xc1) && width * height > 256 * bytes.length + 4096) {
        throw new Error(`${width}x${height} image, but the file holds only ${bytes.length} bytes`);
      }
    }
    at += 2 + length;
  }
  for (let end = bytes.length - 2; end > at; end--) {
    if (bytes[end] === 0xff && bytes[end + 1] === 0xd9) return;
  }
  throw endsEarly("no end-of-image marker");
}

/**
 * The BMP info header: the size, and for uncompressed pixels (BI_RGB, BI_BITFIELDS) that the file
 * holds every row, padding included, as Pillow requires. Run-length coded pixels (BI_RLE8/4) can
 * skip whole rows in two bytes, so they are held to {@link MAX_PIXELS} only.
 */
function checkBmpHeader(bytes: Uint8Array, view: DataView): void {
  if (bytes.length < 26) throw endsEarly("inside the BMP header");
  const offset = view.getUint32(10, true);
  const infoSize = view.getUint32(14, true);
  let width, height, bits, compression = 0;
  if (infoSize === 12) {
    width = view.getUint16(18, true);
    height = view.getUint16(20, true);
    bits = view.getUint16(24, true);
  } else {
    if (bytes.length < 34) throw endsEarly("inside the BMP info header");
    width = view.getInt32(18, true);
    height = Math.abs(view.getInt32(22, true));
    bits = view.getUint16(28, true);
    compression = view.getUint32(30, true);
  }
  checkSize(width, height);
  if (compression === 0 || compression === 3 || compression === 6) {
    const rowBytes = Math.ceil((width * bits) / 32) * 4;
    const needed = offset + rowBytes * height;
    if (needed > bytes.length) {
      throw endsEarly(
        `${needed} bytes needed for ${width}x${height} ${bits}-bit pixels, the file has ${bytes.length}`,
      );
    }
  }
}

/** The size in the first TIFF directory (tags 256 ImageWidth, 257 ImageLength). */
function checkTiffHeader(bytes: Uint8Array, view: DataView): void {
  const le = bytes[0] === 0x49;
  if (bytes.length < 8) throw endsEarly("inside the TIFF header");
  const ifd = view.getUint32(4, le);
  if (ifd + 2 > bytes.length) throw endsEarly("before the first TIFF directory");
  const count = view.getUint16(ifd, le);
  if (ifd + 2 + 12 * count > bytes.length) throw endsEarly("inside the first TIFF directory");
  let width = 0, height = 0;
  for (let i = 0; i < count; i++) {
    const at = ifd + 2 + 12 * i;
    const tag = view.getUint16(at, le), type = view.getUint16(at + 2, le);
    const value = type === 3 ? view.getUint16(at + 8, le) : view.getUint32(at + 8, le);
    if (tag === 256) width = value;
    if (tag === 257) height = value;
  }
  checkSize(width, height);
}

/** The size in the WebP bitstream header (VP8 lossy, VP8L lossless, or the VP8X canvas). */
function checkWebpHeader(bytes: Uint8Array, view: DataView): void {
  if (bytes.length < 30) throw endsEarly("inside the WebP header");
  const chunk = String.fromCharCode(...bytes.subarray(12, 16));
  let width, height;
  if (chunk === "VP8 ") {
    width = view.getUint16(26, true) & 0x3fff;
    height = view.getUint16(28, true) & 0x3fff;
  } else if (chunk === "VP8L") {
    const bits = view.getUint32(21, true);
    width = (bits & 0x3fff) + 1;
    height = ((bits >>> 14) & 0x3fff) + 1;
  } else if (chunk === "VP8X") {
    width = (bytes[24] | (bytes[25] << 8) | (bytes[26] << 16)) + 1;
    height = (bytes[27] | (bytes[28] << 8) | (bytes[29] << 16)) + 1;
  } else {
    throw new Error(`unknown WebP chunk ${printable(bytes.subarray(12, 16))}`);
  }
  checkSize(width, height);
}
