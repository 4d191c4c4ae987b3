/**
 * Tests only: small image files made in memory, in the formats the test data may lack. GIF is
 * written here (uncompressed LZW: literal 9-bit codes, a clear code before the table would make
 * them wider); BMP, TIFF and WebP are encoded by the native addon.
 *
 * @module
 */
import { Transformer } from "@napi-rs/image";

/** What {@link encodeGif} writes: one image on a logical screen. */
export interface GifSpec {
  screen: readonly [number, number];
  /** The image's position and size on the screen. */
  frame: readonly [number, number, number, number];
  /** Colour indices, row by row (`frame` width x height of them). */
  indices: Uint8Array;
  /** RGB triplets; a power-of-two count from 2 to 256 (padded with black if not). */
  palette: readonly (readonly [number, number, number])[];
  /** Put the palette in the image's own colour table instead of the global one. */
  local?: boolean;
  transparent?: number;
  interlaced?: boolean;
}

/** A GIF89a file with one image (see {@link GifSpec}); rows are stored interlaced if asked. */
export function encodeGif(spec: GifSpec): Uint8Array {
  const [sw, sh] = spec.screen, [x, y, w, h] = spec.frame;
  let bits = 1;
  while (1 << bits < spec.palette.length) bits++;
  const table = new Uint8Array(3 << bits);
  spec.palette.forEach((c, i) => table.set(c, 3 * i));
  const flags = 0x80 | (bits - 1);
  const out: number[] = [..."GIF89a"].map((c) => c.charCodeAt(0));
  const u16 = (v: number) => out.push(v & 0xff, v >> 8);
  u16(sw);
  u16(sh);
  out.push(spec.local ? 0 : flags, 0, 0);
  if (!spec.local) out.push(...table);
  if (spec.transparent !== undefined) out.push(0x21, 0xf9, 4, 1, 0, 0, spec.transparent, 0);
  out.push(0x2c);
  [x, y, w, h].forEach(u16);
  out.push((spec.local ? flags : 0) | (spec.interlaced ? 0x40 : 0));
  if (spec.local) out.push(...table);
  const order = spec.interlaced ? interlaceOrder(h) : [...Array(h).keys()];
  const stored = order.flatMap((row) => [...spec.indices.subarray(row * w, row * w + w)]);
  out.push(8, ...subBlocks(lzwLiterals(stored)), 0x3b);
  return new Uint8Array(out);
}

function interlaceOrder(h: number): number[] {
  const rows: number[] = [];
  for (const [start, step] of [[0, 8], [4, 8], [2, 4], [1, 2]]) {
    for (let r = start; r < h; r += step) rows.push(r);
  }
  return rows;
}

/** 9-bit literal codes (minimum code size 8), a clear code first and every 254 codes. */
function lzwLiterals(indices: number[]): number[] {
  const bytes: number[] = [];
  let acc = 0, n = 0;
  const put = (code: number) => {
    acc |= code << n;
    n += 9;
    while (n >= 8) {
      bytes.push(acc & 0xff);
      acc >>>= 8;
      n -= 8;
    }
  };
  indices.forEach((v, i) => {
    if (i % 254 === 0) put(256);
    put(v);
  });
  put(257);
  if (n > 0) bytes.push(acc & 0xff);
  return bytes;
}

function subBlocks(data: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < data.length; i += 255) {
    const part = data.slice(i, i + 255);
    out.push(part.length, ...part);
  }
  out.push(0);
  return out;
}

/** A deterministic, opaque RGBA test picture of noise (so that it does not compress much). */
export function rgbaPattern(w: number, h: number): Uint8Array {
  return new Uint8Array(w * h * 4).map((_, i) => {
    if (i % 4 === 3) return 255;
    const x = Math.imul(i ^ (i >>> 7), 0x9e3779b1);
    return Math.imul(x ^ (x >>> 15), 0x85ebca6b) >>> 24;
  });
}

/** The same picture as BMP, TIFF and lossless WebP, encoded by the native addon. */
export function nativeEncoded(w: number, h: number): Record<"bmp" | "tiff" | "webp", Uint8Array> {
  const t = () => Transformer.fromRgbaPixels(rgbaPattern(w, h), w, h);
  return {
    bmp: new Uint8Array(t().bmpSync()),
    tiff: new Uint8Array(t().tiffSync()),
    webp: new Uint8Array(t().webpLosslessSync()),
  };
}

/** CRC-32 of PNG chunks (zlib's polynomial). */
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set([...type].map((c) => c.charCodeAt(0)), 4);
  out.set(data, 8);
  let c = 0xffffffff;
  for (let i = 4; i < 8 + data.length; i++) c = CRC_TABLE[(c ^ out[i]) & 0xff] ^ (c >>> 8);
  view.setUint32(8 + data.length, (c ^ 0xffffffff) >>> 0);
  return out;
}

/**
 * A zlib stream of `n` zero bytes, written directly: one fixed-Huffman deflate block of a literal
 * 0 and then matches of 258 bytes at distance 1 (13 bits each), so that 256 MB of zeros cost
 * 1.6 MB and a few milliseconds, where a compressor would have to read them all.
 */
export function zlibZeros(n: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((n / 258) * 13 / 8) + 4096);
  let at = 2, acc = 0, bits = 0;
  out.set([0x78, 0x01]);
  const put = (value: number, count: number) => { // LSB first
    acc |= value << bits;
    bits += count;
    while (bits >= 8) {
      out[at++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  };
  const code = (value: number, count: number) => { // Huffman codes: most significant bit first
    for (let i = count - 1; i >= 0; i--) put((value >> i) & 1, 1);
  };
  put(1, 1); // BFINAL
  put(1, 2); // fixed Huffman codes
  code(0x30, 8); // literal 0
  let left = n - 1;
  for (; left >= 258; left -= 258) {
    code(0xc5, 8); // length 258 (code 285)
    code(0, 5); // distance 1
  }
  for (; left > 0; left--) code(0x30, 8);
  code(0, 7); // end of block
  if (bits > 0) put(0, 8 - bits);
  const adler = (((n % 65521) << 16) >>> 0) | 1; // a = 1 + 0s = 1, b = n * 1
  new DataView(out.buffer).setUint32(at, adler >>> 0);
  return out.slice(0, at + 4);
}

/** A valid all-black 8-bit greyscale PNG of `width` x `height` (see {@link zlibZeros}). */
export function greyPng(width: number, height: number): Uint8Array {
  const idat = zlibZeros(height * (width + 1));
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 0], 8);
  const chunks = [
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", idat),
    pngChunk("IEND", new Uint8Array()),
  ];
  const out = new Uint8Array(8 + chunks.reduce((s, c) => s + c.length, 0));
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  chunks.reduce((at, c) => (out.set(c, at), at + c.length), 8);
  return out;
}
