import assert from "node:assert/strict";
import {
  bootstrap,
  bootstrap2AFC,
  bootstrapJND,
  percentileSorted,
  seededRandom,
} from "./bootstrap.ts";
import { score2AFC } from "./twoafc.ts";

Deno.test("seeded PRNG: deterministic, seed-dependent, uniform in [0, 1)", () => {
  const a = seededRandom(1), b = seededRandom(1), c = seededRandom(2);
  const xs = Array.from({ length: 20000 }, () => a());
  assert.deepEqual(xs.slice(0, 50), Array.from({ length: 50 }, () => b()));
  assert.notEqual(xs[0], c());
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
  const bins = new Array(10).fill(0);
  for (const x of xs) bins[Math.floor(x * 10)]++;
  assert.ok(bins.every((k) => Math.abs(k - 2000) < 200), `${bins}`);
});

Deno.test("percentile: NumPy's linear interpolation", () => {
  const s = [1, 2, 3, 4];
  assert.equal(percentileSorted(s, 0), 1);
  assert.equal(percentileSorted(s, 100), 4);
  assert.equal(percentileSorted(s, 50), 2.5);
  assert.equal(percentileSorted(s, 2.5), 1.075);
  assert.ok(Number.isNaN(percentileSorted([], 50)));
});

Deno.test("bootstrap 2AFC: deterministic per seed, brackets the score, narrows with n", () => {
  const rand = seededRandom(99);
  const n = 400;
  const d0 = Array.from({ length: n }, () => rand());
  const d1 = Array.from({ length: n }, () => rand());
  const g = Array.from({ length: n }, () => Math.floor(rand() * 6) / 5);
  const score = score2AFC(d0, d1, g);
  const ci = bootstrap2AFC(d0, d1, g, { seed: 5 });
  assert.deepEqual(ci, bootstrap2AFC(d0, d1, g, { seed: 5 }));
  assert.notDeepEqual(ci, bootstrap2AFC(d0, d1, g, { seed: 6 }));
  assert.ok(ci.low < score && score < ci.high, JSON.stringify({ ci, score }));
  assert.equal(ci.resamples, 1000);
  assert.equal(ci.dropped, 0);
  // Roughly ±1.96 standard errors of a mean of per-item scores in [0, 1].
  assert.ok(ci.high - ci.low < 0.15 && ci.high - ci.low > 0.02, `${ci.high - ci.low}`);
  const small = bootstrap2AFC(d0.slice(0, 40), d1.slice(0, 40), g.slice(0, 40), { seed: 5 });
  assert.ok(small.high - small.low > ci.high - ci.low);
  const wide = bootstrap2AFC(d0, d1, g, { seed: 5, level: 0.99, resamples: 300 });
  assert.ok(wide.low <= ci.low + 0.01 && wide.high >= ci.high - 0.01);
});

Deno.test("bootstrap: constant statistic gives a point; JND drops resamples without positives", () => {
  const ci = bootstrap(10, () => 0.7, { resamples: 50 });
  assert.deepEqual([ci.low, ci.high], [0.7, 0.7]);
  // One positive in 30 pairs: some resamples miss it entirely (mAP NaN) and are dropped.
  const ds = Array.from({ length: 30 }, (_, i) => i / 30);
  const same = ds.map((_, i) => (i === 3 ? 1 : 0));
  const j = bootstrapJND(ds, same, { resamples: 400, seed: 3 });
  assert.ok(j.dropped > 0 && j.dropped < 400, `${j.dropped}`);
  assert.ok(j.low <= j.high);
  assert.throws(() => bootstrap(0, () => 0), RangeError);
  assert.throws(() => bootstrap(3, () => 0, { level: 1 }), RangeError);
  assert.throws(() => bootstrap(3, () => 0, { resamples: 0 }), RangeError);
});
