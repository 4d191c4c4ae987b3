import assert from "node:assert/strict";
import { decode } from "fast-png";
import { im2tensor, type RGBImage, stack } from "../bappsloader/image.ts";
import { viridis } from "../lpips/heatmap.ts";
import {
  heatOver,
  maxOf,
  pngBase64,
  resizeRgb,
  resizeValues,
  rgbOf,
  screenSize,
} from "./_raster.ts";

function randomRgb(width: number, height: number, seed = 1): RGBImage {
  let s = seed;
  const data = Uint8Array.from({ length: width * height * 3 }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s >>> 24;
  });
  return { width, height, data };
}

Deno.test("rgbOf: the exact inverse of im2tensor, for any item of a batch", () => {
  const a = randomRgb(5, 3, 1), b = randomRgb(5, 3, 2);
  const batch = stack([im2tensor(a), im2tensor(b)]);
  assert.deepEqual(rgbOf(batch, 0), a);
  assert.deepEqual(rgbOf(batch, 1), b);
  assert.throws(() => rgbOf(batch, 2), /index 2 is outside the batch of 2/);
  assert.throws(
    () => rgbOf({ data: new Float32Array(4), shape: [1, 1, 2, 2] }),
    /1 channels .*RGB tensors need 3/,
  );
});

Deno.test("screenSize: shrinks to the size, grows by whole factors within it", () => {
  assert.deepEqual(screenSize(512, 384, 256), [256, 192]);
  assert.deepEqual(screenSize(64, 64, 256), [256, 256]);
  assert.deepEqual(screenSize(100, 50, 256), [200, 100]);
  assert.deepEqual(screenSize(200, 10, 256), [200, 10]);
  assert.deepEqual(screenSize(4000, 1, 100), [100, 1]);
});

Deno.test("resizeValues: block means when shrinking, nearest pixel when growing", () => {
  // 4x2, one channel, shrunk to 2x1: means of the 2x2 blocks.
  assert.deepEqual([...resizeValues([1, 2, 3, 4, 5, 6, 7, 8], 4, 2, 1, 2, 1)], [3.5, 5.5]);
  // Two channels, 2x1 grown to 4x2: each value repeated in its 2x2 block.
  const grown = resizeValues([1, 10, 2, 20], 2, 1, 2, 4, 2);
  assert.deepEqual([...grown], [1, 10, 1, 10, 2, 20, 2, 20, 1, 10, 1, 10, 2, 20, 2, 20]);
  // Shrinking by a non-integer factor keeps a constant picture constant.
  const flat = resizeValues(new Array(7 * 5).fill(0.25), 7, 5, 1, 3, 2);
  assert.ok(flat.every((v) => v === 0.25));
});

Deno.test("resizeRgb: same size is the same picture; otherwise rounded block means", () => {
  const img = randomRgb(4, 4);
  assert.equal(resizeRgb(img, 4, 4), img);
  const small = resizeRgb({ width: 2, height: 1, data: Uint8Array.of(0, 0, 0, 1, 2, 255) }, 1, 1);
  assert.deepEqual([...small.data], [1, 1, 128]);
});

Deno.test("heatOver: alpha 0 is the picture in grey, alpha 1 the viridis map, 0 to max", () => {
  const base = { width: 2, height: 1, data: Uint8Array.of(255, 0, 0, 10, 10, 10) };
  assert.deepEqual([...heatOver(base, [0, 1], 1, 0).data], [76, 76, 76, 10, 10, 10]);
  assert.deepEqual([...heatOver(base, [0, 2], 2, 1).data], [...viridis(0), ...viridis(1)]);
  // Values above max are clamped to the top colour; a zero max does not divide by zero.
  assert.deepEqual([...heatOver(base, [4, 0], 2, 1).data.subarray(0, 3)], viridis(1));
  assert.deepEqual([...heatOver(base, [0, 0], 0, 1).data.subarray(0, 3)], viridis(0));
  assert.throws(() => heatOver(base, [0], 1, 1), /a map of 1 values over 2 pixels/);
});

Deno.test("pngBase64: a PNG that decodes to the same pixels; maxOf", () => {
  const img = randomRgb(6, 4);
  const png = decode(Uint8Array.fromBase64(pngBase64(img)));
  assert.deepEqual([png.width, png.height, png.channels], [6, 4, 3]);
  assert.deepEqual([...png.data], [...img.data]);
  assert.equal(maxOf([0.5, 2, -3]), 2);
  assert.equal(maxOf([]), 0);
});
