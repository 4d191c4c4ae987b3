import assert from "node:assert/strict";
import type { RGBImage } from "../bappsloader/image.ts";
import { randomImage, rgbBatch as toTensor } from "./_test_data.ts";
import { gmsd, gmsdBatch, gmsdMap } from "./gmsd.ts";

Deno.test("gmsd is 0 for identical images and grows with distortion", () => {
  const a = randomImage(33, 20, 1);
  assert.equal(gmsd(a, a), 0);
  const b = { ...a, data: a.data.map((v, i) => (i % 7 === 0 ? 255 - v : v)) };
  const c = { ...a, data: a.data.map((v, i) => (i % 2 === 0 ? 255 - v : v)) };
  assert.ok(gmsd(a, b) > 0 && gmsd(a, b) < gmsd(a, c), `${gmsd(a, b)} ${gmsd(a, c)}`);
});

Deno.test("gmsdMap's map is the halved image's similarity, its std (N - 1) the score", () => {
  const a = randomImage(9, 7, 2), b = randomImage(9, 7, 3);
  const r = gmsdMap(a, b);
  assert.deepEqual([r.width, r.height, r.map.length], [5, 4, 20]);
  assert.ok(r.map.every((v) => v > 0 && v <= 1));
  const mean = r.map.reduce((s, v) => s + v, 0) / 20;
  const std = Math.sqrt(r.map.reduce((s, v) => s + (v - mean) ** 2, 0) / 19);
  assert.ok(Math.abs(r.score - std) < 1e-15);
  assert.equal(gmsd(a, b), r.score);
  assert.equal(gmsd(b, a), r.score, "symmetric");
});

Deno.test("gmsd takes a 1x1 image (a one-pixel map has deviation 0, as MATLAB's std)", () => {
  assert.equal(gmsd(randomImage(1, 1, 4), randomImage(1, 1, 5)), 0);
});

Deno.test("gmsdBatch scores each pair of [-1, 1] batches as gmsd does on the 8-bit images", () => {
  const refs = [randomImage(12, 10, 6), randomImage(12, 10, 7)];
  const dists = [randomImage(12, 10, 8), refs[1]];
  const got = gmsdBatch(toTensor(refs), toTensor(dists));
  assert.deepEqual(got, Float64Array.from([gmsd(refs[0], dists[0]), 0]));
});

Deno.test("gmsd rejects sizes that differ and malformed inputs in one line", () => {
  assert.throws(
    () => gmsd(randomImage(8, 8, 1), randomImage(8, 9, 1)),
    /^RangeError: gmsd: sizes differ: ref is 8x8, dist is 8x9$/,
  );
  assert.throws(
    () => gmsd(randomImage(8, 8, 1), { width: 8, height: 8, data: new Uint8Array(3) }),
    /^RangeError: gmsd: dist has 3 bytes but 8x8 RGB needs 192$/,
  );
  assert.throws(
    () => gmsd(null as unknown as RGBImage, randomImage(8, 8, 1)),
    /^TypeError: gmsd: ref must be an RGBImage/,
  );
  const t = toTensor([randomImage(4, 4, 1)]);
  assert.throws(
    () => gmsdBatch(t, { data: t.data, shape: [1, 3, 2, 8] }),
    /^RangeError: gmsd: shapes differ: a is \[1,3,4,4\], b is \[1,3,2,8\]$/,
  );
  assert.throws(
    () => gmsdBatch(t, { data: t.data.map(() => 200), shape: t.shape }),
    /gmsd: b has values in \[200, 200\]; expected \[-1, 1\]; it looks like \[0, 255\]/,
  );
});
