import assert from "node:assert/strict";
import type { ImageTensor } from "../bappsloader/image.ts";
import { needsTestData } from "../_internal/test_data.ts";
import { baselineCases, imagePair, loadInput, relErr } from "./_test_data.ts";
import { l2 } from "./l2.ts";
import { srgbToLab } from "./lab.ts";

/** docs/algorithm.md §10: 1e-6 relative for baselines. */
const REL = 1e-6;

type Shape = [number, number, number, number];

/** A seeded pseudo-random tensor in [-1, 1] (xorshift32, reproducible). */
function randomTensor(shape: Shape, seed: number): ImageTensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b));
  let s = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = ((s >>> 0) / 2 ** 32) * 2 - 1;
  }
  return { data, shape };
}

Deno.test(needsTestData("l2 matches every golden case of the reference"), async () => {
  const cases = await baselineCases("l2");
  assert.equal(cases.length, 44);
  let worst = 0;
  for (const c of cases) {
    const a = await loadInput(c.inputs.in0, c.config.batch_item);
    const b = await loadInput(c.inputs.in1, c.config.batch_item);
    const got = l2(a, b, { colorspace: c.config.colorspace });
    assert.equal(got.length, 1);
    const err = relErr(got[0], c.expected.value);
    assert.ok(err <= REL, `${c.id}: got ${got[0]}, want ${c.expected.value} (rel ${err})`);
    worst = Math.max(worst, err);
  }
  // Measured: 2.0e-7 (two float32 ulps; the reference sums in float32).
  console.log(`l2: worst relative deviation over 44 golden cases ${worst.toExponential(2)}`);
});

Deno.test(needsTestData("l2 reproduces the docs/algorithm.md §2 baseline table"), async () => {
  // [pair, path, RGB, Lab]; docs/algorithm.md §2, "Baseline values recomputed with numpy/scikit-image".
  const table: [string, "A" | "B", number, number][] = [
    ["ex_p0.png", "A", 0.0627344168, 0.00437430463],
    ["ex_p1.png", "A", 0.1641757430, 0.0118608444],
    ["ex_p0.png", "B", 0.0627344168, 0.00435167425],
    ["ex_p1.png", "B", 0.1641757426, 0.0117947400],
  ];
  for (const [p, path, rgb, lab] of table) {
    const [a, b] = await imagePair("ex_ref.png", p, path);
    const gotRgb = l2(a, b, { colorspace: "RGB" })[0];
    const gotLab = l2(a, b, { colorspace: "Lab" })[0];
    assert.ok(relErr(gotRgb, rgb) <= REL, `${p} ${path} RGB: ${gotRgb} vs ${rgb}`);
    assert.ok(relErr(gotLab, lab) <= REL, `${p} ${path} Lab: ${gotLab} vs ${lab}`);
  }
});

Deno.test("l2: identical images give exactly 0; the distance is symmetric", () => {
  const a = randomTensor([2, 3, 9, 11], 1);
  const b = randomTensor([2, 3, 9, 11], 2);
  for (const colorspace of ["RGB", "Lab"] as const) {
    assert.deepEqual([...l2(a, a, { colorspace })], [0, 0]);
    assert.deepEqual([...l2(a, b, { colorspace })], [...l2(b, a, { colorspace })]);
  }
});

Deno.test("l2 RGB is exactly 4x the MSE of the same images in [0, 1]", () => {
  // Pixels on a 1/256 grid: 2x - 1, the differences and the squares are exact in float32,
  // so the reference's value is 4 * mse up to the final rounding, which commutes with *4.
  const shape: Shape = [3, 3, 7, 5];
  const n = 3 * 7 * 5;
  const x = new Float64Array(3 * n), y = new Float64Array(3 * n);
  let s = 12345;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    x[i] = (s % 257) / 256;
    y[i] = ((s >> 9) % 257) / 256;
  }
  const a = { data: Float32Array.from(x, (v) => 2 * v - 1), shape };
  const b = { data: Float32Array.from(y, (v) => 2 * v - 1), shape };
  const got = l2(a, b, { colorspace: "RGB" });
  for (let i = 0; i < 3; i++) {
    let mse = 0;
    for (let k = i * n; k < (i + 1) * n; k++) mse += (x[k] - y[k]) ** 2;
    mse /= n;
    assert.ok(mse > 0);
    assert.equal(got[i], Math.fround(4 * mse));
  }
});

Deno.test("l2: analytic constant images in RGB and Lab", () => {
  const shape: Shape = [1, 3, 4, 6];
  const a = { data: new Float32Array(72).fill(0.5), shape };
  const b = { data: new Float32Array(72).fill(-0.5), shape };
  assert.deepEqual([...l2(a, b, { colorspace: "RGB" })], [1]);
  // White (t = 1 -> 255) vs black (t = -1 -> 0): 0.5 * mean over L, a, b of (lab / 100)^2,
  // with the reference's float32 Lab values.
  const white = { data: new Float32Array(72).fill(1), shape };
  const black = { data: new Float32Array(72).fill(-1), shape };
  const lab = srgbToLab(1, 1, 1).map((v) => Math.fround(Math.fround(v) / 100) ** 2);
  const want = Math.fround((0.5 * (lab[0] + lab[1] + lab[2])) / 3);
  assert.deepEqual([...l2(white, black, { colorspace: "Lab" })], [want]);
  assert.ok(Math.abs(want - 1 / 6) < 1e-8);
});

Deno.test("l2: a batch gives the same values as its items one by one", () => {
  const a = randomTensor([3, 3, 8, 8], 7);
  const b = randomTensor([3, 3, 8, 8], 8);
  for (const colorspace of ["RGB", "Lab"] as const) {
    const batch = l2(a, b, { colorspace });
    for (let i = 0; i < 3; i++) {
      const per = 3 * 64;
      const ai = { data: a.data.slice(i * per, (i + 1) * per), shape: [1, 3, 8, 8] as Shape };
      const bi = { data: b.data.slice(i * per, (i + 1) * per), shape: [1, 3, 8, 8] as Shape };
      assert.equal(batch[i], l2(ai, bi, { colorspace })[0]);
    }
  }
  assert.equal(
    l2({ data: new Float32Array(0), shape: [0, 3, 8, 8] }, {
      data: new Float32Array(0),
      shape: [0, 3, 8, 8],
    }).length,
    0,
  );
});

Deno.test("l2: the Lab default and quantize 'round' differ from truncation as expected", () => {
  // Level 50 is stored as t = 50/127.5 - 1: truncation gives 49, rounding 50.
  const shape: Shape = [1, 3, 1, 1];
  const t = (u: number) => ({ data: new Float32Array(3).fill(u / 127.5 - 1), shape });
  const lab = (u: number) => srgbToLab(u / 255, u / 255, u / 255)[0];
  assert.equal(l2(t(50), t(200))[0], l2(t(50), t(200), { colorspace: "Lab" })[0]);
  const trunc = l2(t(50), t(200))[0];
  const round = l2(t(50), t(200), { quantize: "round" })[0];
  assert.ok(Math.abs(trunc - (0.5 * ((lab(49) - lab(200)) / 100) ** 2) / 3) < 1e-7);
  assert.ok(Math.abs(round - (0.5 * ((lab(50) - lab(200)) / 100) ** 2) / 3) < 1e-7);
  assert.ok(trunc > round);
});

Deno.test("l2: clear errors for bad inputs", () => {
  const t = (shape: Shape, fill = 0) => ({
    data: new Float32Array(shape.reduce((p, q) => p * q)).fill(fill),
    shape,
  });
  const ok = t([1, 3, 4, 4]);
  const cases: [() => unknown, new (...args: never[]) => Error, RegExp][] = [
    [
      () => l2(ok, t([1, 3, 4, 5])),
      RangeError,
      /shapes differ: a is \[1,3,4,4\], b is \[1,3,4,5\]/,
    ],
    [() => l2(t([1, 1, 4, 4]), t([1, 1, 4, 4])), RangeError, /1 channels .* need 3/],
    [() => l2(ok, t([1, 3, 4, 4], NaN)), RangeError, /b has NaN at \[0,0,0,0\]/],
    [() => l2(t([1, 3, 4, 4], -Infinity), ok), RangeError, /a has -Infinity/],
    [
      () => l2(ok, ok, { colorspace: "XYZ" as "RGB" }),
      RangeError,
      /colorspace must be "RGB" or "Lab"/,
    ],
    [
      () => l2(ok, { data: [0] as unknown as Float32Array, shape: [1, 3, 4, 4] }),
      TypeError,
      /Float32Array, got Array/,
    ],
    [
      () => l2(ok, { data: ok.data, shape: [1, 3, 4] as unknown as Shape }),
      TypeError,
      /shape must be/,
    ],
  ];
  for (const [f, type, msg] of cases) {
    assert.throws(f, (e: Error) => e instanceof type && msg.test(e.message), String(msg));
  }
});
