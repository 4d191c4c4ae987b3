/**
 * The pure-JS decoders, used only where the native one cannot load (see `_native_decoder.ts`):
 * PNG with `fast-png`, JPEG with `jpeg-js`, their output reduced to RGB8 as the native path does
 * (alpha dropped, grey expanded, palettes applied, 16-bit samples to their high byte, 1/2/4-bit
 * grey scaled to 8 bits). `jpeg-js` upsamples chroma without libjpeg's smoothing, so its JPEG
 * pixels are further from Pillow's than the native decoder's (see image_test.ts).
 *
 * @module
 */
import { decode as decodePng } from "fast-png";
import jpeg from "jpeg-js";
import { checkSize, maxImagePixels } from "./_image_header.ts";
import type { RGBImage } from "./image.ts";

/** Decodes a PNG whose chunks (and CRCs) were checked. */
export function pngToRGB(bytes: Uint8Array): RGBImage {
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

/** Decodes a JPEG whose header was checked. */
export function jpegToRGB(bytes: Uint8Array): RGBImage {
  const img = jpeg.decode(bytes, {
    useTArray: true,
    formatAsRGBA: true,
    maxResolutionInMP: maxImagePixels() / 1e6,
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
