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
