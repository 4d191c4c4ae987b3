/**
 * GIF to 8-bit RGB as Pillow 9.4 gives it for `Image.open(p).convert("RGB")`: the first image of
 * the file, on a canvas of the logical screen's size, with the palette applied and nothing
 * composited.
 *
 * - Canvas pixels outside the first image take the transparent colour index when the image has
 *   one, else index 0 (not the background index).
 * - Transparent pixels keep their palette colour (alpha is dropped, never composited).
 * - The image's own colour table wins over the global one; an index past the end of the table
 *   (or with no table at all) is grey `(i, i, i)`, the entries of Pillow's default palette.
 * - An image reaching past the logical screen grows the canvas, as Pillow does.
 * - A canvas over the pixel limit (`MAX_PIXELS`, Pillow's own) is refused, as Pillow refuses it:
 *   the screen size costs a GIF four bytes, and the fill outside the image nothing.
 * - A file cut before the end of the first image's data is refused, as Pillow refuses it ("image
 *   file is truncated"); an LZW stream that ends (end code) early leaves the rest as the canvas
 *   fill. An LZW code that is not in the table yet is an error ("broken data stream").
 *
 * The npm GIF readers fit badly here: omggif prints a warning on standard output and keeps going
 * when the data runs short, and gifuct-js fills a cut file in silently; the format (a block
 * structure and one LZW variant) is small and frozen, so this decoder is ours.
 *
 * @module
 */
import { checkSize, endsEarly } from "./_image_header.ts";
import type { RGBImage } from "./image.ts";

/** The LZW string table's size limit (12-bit codes). */
const MAX_CODES = 4096;

/** Decodes the first image of a GIF file (see the module doc). */
export function decodeGif(bytes: Uint8Array): RGBImage {
  const u16 = (at: number) => bytes[at] | (bytes[at + 1] << 8);
  if (bytes.length < 13) throw endsEarly("inside the GIF header");
  let width = u16(6), height = u16(8);
  const flags = bytes[10];
  let at = 13;
  let palette: Uint8Array | undefined;
  if (flags & 0x80) {
    const size = 3 << ((flags & 7) + 1);
    if (at + size > bytes.length) throw endsEarly("inside the global colour table");
    palette = bytes.subarray(at, at + size);
    at += size;
  }
  let transparent: number | undefined;
  for (;;) {
    if (at >= bytes.length) throw endsEarly("before the first image");
    const block = bytes[at++];
    if (block === 0x2c) break;
    if (block === 0x3b) throw new Error("no image before the GIF trailer");
    if (block !== 0x21) {
      throw new Error(`unknown GIF block 0x${block.toString(16)} at byte ${at - 1}`);
    }
    const label = bytes[at++];
    if (label === 0xf9 && bytes[at] >= 4 && at + 5 <= bytes.length && bytes[at + 1] & 1) {
      transparent = bytes[at + 4];
    } else if (label === 0xf9) {
      transparent = undefined;
    }
    at = skipSubBlocks(bytes, at, "inside an extension block");
  }
  if (at + 9 > bytes.length) throw endsEarly("inside the image descriptor");
  const x = u16(at), y = u16(at + 2), w = u16(at + 4), h = u16(at + 6);
  const imageFlags = bytes[at + 8];
  at += 9;
  if (imageFlags & 0x80) {
    const size = 3 << ((imageFlags & 7) + 1);
    if (at + size > bytes.length) throw endsEarly("inside the local colour table");
    palette = bytes.subarray(at, at + size);
    at += size;
  }
  width = Math.max(width, x + w);
  height = Math.max(height, y + h);
  checkSize(width, height);
  checkSize(w, h);
  if (at >= bytes.length) throw endsEarly("before the image data");
  const minCodeSize = bytes[at++];
  if (minCodeSize < 1 || minCodeSize > 11) throw new Error(`bad LZW code size ${minCodeSize}`);
  const data = gatherSubBlocks(bytes, at);
  const indices = new Uint8Array(w * h).fill(transparent ?? 0);
  lzwDecode(data, minCodeSize, indices);

  const colours = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) colours.fill(i, 3 * i, 3 * i + 3);
  if (palette) colours.set(palette.subarray(0, Math.min(palette.length, 768)));
  const out = new Uint8Array(width * height * 3);
  const fill = transparent ?? 0;
  fillRGB(out, colours[3 * fill], colours[3 * fill + 1], colours[3 * fill + 2]);
  const rows = imageFlags & 0x40 ? interlacedRows(h) : undefined;
  for (let r = 0; r < h; r++) {
    const row = rows ? rows[r] : r;
    let o = ((y + row) * width + x) * 3;
    for (let c = 0, i = r * w; c < w; c++, i++, o += 3) {
      const k = 3 * indices[i];
      out[o] = colours[k];
      out[o + 1] = colours[k + 1];
      out[o + 2] = colours[k + 2];
    }
  }
  return { width, height, data: out };
}

/** The position after a run of data sub-blocks (each a length byte, the last one 0). */
function skipSubBlocks(bytes: Uint8Array, at: number, where: string): number {
  for (;;) {
    if (at >= bytes.length) throw endsEarly(where);
    const size = bytes[at++];
    if (size === 0) return at;
    at += size;
  }
}

/** The image data's sub-blocks, joined; the file must hold them all, terminator included. */
function gatherSubBlocks(bytes: Uint8Array, start: number): Uint8Array {
  let total = 0;
  skipSubBlocks(bytes, start, "inside the image data");
  for (let at = start; bytes[at] !== 0; at += 1 + bytes[at]) total += bytes[at];
  const out = new Uint8Array(total);
  for (let at = start, o = 0; bytes[at] !== 0; at += 1 + bytes[at]) {
    out.set(bytes.subarray(at + 1, at + 1 + bytes[at]), o);
    o += bytes[at];
  }
  return out;
}

/**
 * GIF's LZW: codes of `minCodeSize + 1` bits growing to 12, least significant bit first, a clear
 * code that resets the table and an end code; a full table is kept until the next clear code.
 * Writes at most `out.length` indices; the rest of `out` is left as it was.
 */
function lzwDecode(data: Uint8Array, minCodeSize: number, out: Uint8Array): void {
  const clear = 1 << minCodeSize, eoi = clear + 1;
  const prefix = new Uint16Array(MAX_CODES);
  const suffix = new Uint8Array(MAX_CODES);
  const first = new Uint8Array(MAX_CODES);
  const length = new Uint16Array(MAX_CODES);
  for (let c = 0; c < clear; c++) {
    suffix[c] = first[c] = c;
    length[c] = 1;
  }
  let size = minCodeSize + 1, next = eoi + 1, prev = -1;
  let bits = 0, acc = 0, pos = 0, op = 0;
  while (op < out.length) {
    while (bits < size && pos < data.length) {
      acc |= data[pos++] << bits;
      bits += 8;
    }
    if (bits < size) return; // the data ran out: the rest keeps the canvas fill
    const code = acc & ((1 << size) - 1);
    acc >>>= size;
    bits -= size;
    if (code === clear) {
      size = minCodeSize + 1;
      next = eoi + 1;
      prev = -1;
      continue;
    }
    if (code === eoi) return;
    if (prev < 0) {
      if (code >= clear) throw new Error(`bad LZW code ${code} after a clear code`);
      out[op++] = code;
      prev = code;
      continue;
    }
    if (code > next || (code === next && next >= MAX_CODES)) {
      throw new Error(`bad LZW code ${code} (the table has ${next})`);
    }
    const known = code < next;
    const head = known ? first[code] : first[prev];
    if (next < MAX_CODES) {
      prefix[next] = prev;
      suffix[next] = head;
      first[next] = first[prev];
      length[next] = length[prev] + 1;
      next++;
      if (next === 1 << size && size < 12) size++;
    }
    // Write the string of `code` backwards from its end, clipped to the image.
    const n = length[code];
    let c = code;
    for (let i = op + n - 1; i >= op; i--) {
      if (i < out.length) out[i] = suffix[c];
      c = prefix[c];
    }
    op += n;
    prev = code;
  }
}

/** Row order of an interlaced image: every 8th row from 0, every 8th from 4, 4th from 2, 2nd from 1. */
function interlacedRows(h: number): Uint32Array {
  const rows = new Uint32Array(h);
  let r = 0;
  for (const [start, step] of [[0, 8], [4, 8], [2, 4], [1, 2]]) {
    for (let row = start; row < h; row += step) rows[r++] = row;
  }
  return rows;
}

/** Fills an RGB buffer with one colour (doubling copies: fast for large canvases). */
function fillRGB(out: Uint8Array, r: number, g: number, b: number): void {
  if (out.length === 0) return;
  out[0] = r;
  out[1] = g;
  out[2] = b;
  for (let n = 3; n < out.length; n *= 2) out.copyWithin(n, 0, Math.min(n, out.length - n));
}
