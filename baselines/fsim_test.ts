import assert from "node:assert/strict";
import { randomImage, rgbBatch } from "./_test_data.ts";
import { featureSimilarity, fsim, fsimBatch, fsimc, fsimcBatch } from "./fsim.ts";

/** A smooth test image with edges in several directions (no randomness needed). */
function pattern(width: number, height: number, shift = 0) {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = 128 + 100 * Math.sin((x + shift) / 5) * Math.cos(y / 7);
      const o = 3 * (y * width + x);
      data[o] = Math.round(v);
      data[o + 1] = (x * 3 + y) & 255;
      data[o + 2] = x + y > 40 ? 200 : 30;
    }
  }
  return { width, height, data };
}

Deno.test("fsim and fsimc are 1 for identical images and below 1 otherwise", () => {
  const a = pattern(40, 30), b = pattern(40, 30, 3);
  const same = featureSimilarity(a, a);
  assert.deepEqual([same.fsim, same.fsimc], [1, 1]);
  const r = featureSimilarity(a, b);
  assert.ok(r.fsim < 1 && r.fsimc < 1 && r.fsimc <= r.fsim + 1e-12, `${r.fsim} ${r.fsimc}`);
  assert.equal(fsim(a, b), r.fsim);
  assert.equal(fsimc(a, b), r.fsimc);
});

Deno.test("featureSimilarity's maps pool into the scores", () => {
  const r = featureSimilarity(pattern(33, 21), pattern(33, 21, 2));
  assert.deepEqual([r.width, r.height, r.factor, r.similarity.length], [33, 21, 1, 33 * 21]);
  let s = 0, sc = 0, sw = 0;
  for (let i = 0; i < r.weight.length; i++) {
    s += r.similarity[i] * r.weight[i];
    sc += r.similarityC[i] * r.weight[i];
    sw += r.weight[i];
  }
  assert.ok(Math.abs(s / sw - r.fsim) < 1e-14 && Math.abs(sc / sw - r.fsimc) < 1e-14);
});

Deno.test("fsim subsamples by F = max(1, round(min(h, w) / 256))", () => {
  assert.equal(featureSimilarity(pattern(383, 20), pattern(383, 20)).factor, 1);
  const r = featureSimilarity(pattern(400, 384), pattern(400, 384, 1));
  assert.deepEqual([r.factor, r.width, r.height], [2, 200, 192]);
});

Deno.test("fsim of a single-colour image is NaN, as in the authors' code", () => {
  const flat = { width: 16, height: 12, data: new Uint8Array(16 * 12 * 3).fill(77) };
  assert.ok(Number.isNaN(fsim(flat, flat)) && Number.isNaN(fsimc(flat, pattern(16, 12))));
});

Deno.test("fsimBatch and fsimcBatch score each pair as on the 8-bit images", () => {
  const refs = [randomImage(20, 18, 1), randomImage(20, 18, 2)];
  const dists = [randomImage(20, 18, 3), refs[1]];
  const [ta, tb] = [rgbBatch(refs), rgbBatch(dists)];
  assert.deepEqual(fsimBatch(ta, tb), Float64Array.from([fsim(refs[0], dists[0]), 1]));
  assert.deepEqual(fsimcBatch(ta, tb), Float64Array.from([fsimc(refs[0], dists[0]), 1]));
});

Deno.test("fsim rejects sizes that differ and malformed images in one line", () => {
  assert.throws(
    () => fsim(pattern(10, 10), pattern(10, 11)),
    /^RangeError: fsim: sizes differ: ref is 10x10, dist is 10x11$/,
  );
  assert.throws(
    () => fsimc(pattern(4, 4), { width: 4, height: 4, data: new Uint8Array(47) }),
    /^RangeError: fsimc: dist has 47 bytes but 4x4 RGB needs 48$/,
  );
  assert.throws(
    () => featureSimilarity(pattern(4, 4), { width: 4, height: 4, data: new Uint8Array(16) }),
    /^RangeError: featureSimilarity: dist has 16 bytes but 4x4 RGB needs 48; it looks like a grey image: repeat each value as R, G, B$/,
  );
  const t = rgbBatch([pattern(4, 4)]);
  assert.throws(
    () => fsimBatch({ data: t.data.subarray(0, 16), shape: [1, 1, 4, 4] }, t),
    /^RangeError: fsim: a has 1 channels \(shape \[1,1,4,4\]\); RGB tensors need 3$/,
  );
});
