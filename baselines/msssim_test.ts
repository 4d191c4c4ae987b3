import assert from "node:assert/strict";
import { randomImage, rgbBatch } from "./_test_data.ts";
import { msssim, MSSSIM_MIN_SIZE, msssimBatch, msssimScales } from "./msssim.ts";

Deno.test("msssim is 1 for identical images, below 1 otherwise, and symmetric", () => {
  const a = randomImage(180, 176, 1), b = randomImage(180, 176, 2);
  assert.equal(msssim(a, a), 1);
  const v = msssim(a, b);
  assert.ok(v < 1, `${v}`);
  assert.ok(Math.abs(msssim(b, a) - v) < 1e-14, "symmetric up to rounding");
});

Deno.test("msssimScales: the score is prod(cs[0..3] ^ w) * ssim[4] ^ w[4]", () => {
  const a = randomImage(177, 190, 3);
  const b = { ...a, data: a.data.map((v, i) => (i % 5 === 0 ? v >> 1 : v)) };
  const r = msssimScales(a, b);
  const w = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];
  const want = w.reduce((p, wi, l) => p * (l < 4 ? r.cs[l] : r.ssim[l]) ** wi, 1);
  assert.ok(r.cs.every((v) => v > 0) && r.imaginary === 0);
  assert.ok(Math.abs(r.score - want) < 1e-15, `${r.score} ${want}`);
});

Deno.test("msssimScales returns the complex power's parts when a term is negative", () => {
  const a = randomImage(176, 176, 4);
  const r = msssimScales(a, { ...a, data: a.data.map((v) => 255 - v) });
  assert.ok(r.cs[0] < 0, "an inverted image has negative contrast-structure");
  assert.ok(r.imaginary !== 0 && Number.isFinite(r.score));
});

Deno.test("msssimBatch scores each pair as msssim does on the 8-bit images", () => {
  const refs = [randomImage(176, 178, 5), randomImage(176, 178, 6)];
  const dists = [randomImage(176, 178, 7), refs[1]];
  assert.deepEqual(
    msssimBatch(rgbBatch(refs), rgbBatch(dists)),
    Float64Array.from([msssim(refs[0], dists[0]), 1]),
  );
});

Deno.test("msssim rejects images too small for 5 scales, and sizes that differ, in one line", () => {
  assert.equal(MSSSIM_MIN_SIZE, 176);
  const small = randomImage(300, 175, 1);
  assert.throws(
    () => msssim(small, small),
    /^RangeError: msssim: the images are 300x175; MS-SSIM's 5 scales need a short side of at least 176 px \(the 11x11 window at 1\/16 scale\)$/,
  );
  assert.throws(
    () => msssim(randomImage(176, 176, 1), randomImage(177, 176, 1)),
    /^RangeError: msssim: sizes differ: ref is 176x176, dist is 177x176$/,
  );
});
