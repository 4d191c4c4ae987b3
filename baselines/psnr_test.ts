import assert from "node:assert/strict";
import { needsTestData } from "../_internal/test_data.ts";
import { imagePair, relErr } from "./_test_data.ts";
import { psnr } from "./psnr.ts";

type Shape = [number, number, number, number];

// The reference's helper on its tensor2im images, by /usr/bin/python3 (numpy 1.24.2):
//   def psnr(p0, p1, peak=255.): return 10*np.log10(peak**2/np.mean((1.*p0-1.*p1)**2))
//   t = (u / 127.5 - 1).astype(np.float32)                                   # im2tensor
//   im = ((t + np.float32(1)) * np.float32(127.5)).astype(np.uint8)          # tensor2im
//   print(repr(psnr(im(ex_ref), im(ex_pX))))
const REFERENCE: [string, number][] = [
  ["ex_p0.png", 18.000656340387422],
  ["ex_p1.png", 13.822623077114976],
];

Deno.test(needsTestData("psnr matches the reference helper on the example images"), async () => {
  for (const [p, want] of REFERENCE) {
    const [a, b] = await imagePair("ex_ref.png", p, "A");
    const got = psnr(a, b)[0];
    assert.ok(relErr(got, want) <= 1e-12, `${p}: ${got} vs ${want}`);
  }
});

Deno.test("psnr: analytic values, identical images, symmetry, peak", () => {
  const shape: Shape = [2, 3, 4, 4];
  const level = (u: number) => u / 127.5 - 1;
  const a = { data: new Float32Array(96).fill(level(200)), shape };
  // Item 0 differs by 10 levels everywhere, item 1 by 5 levels in one value out of 48.
  const b = { data: new Float32Array(96).fill(level(210)), shape };
  b.data.fill(level(200), 48);
  b.data[50] = level(205);
  const got = psnr(a, b, { quantize: "round" });
  assert.ok(relErr(got[0], 20 * Math.log10(255 / 10)) <= 1e-14);
  assert.ok(relErr(got[1], 10 * Math.log10(255 ** 2 / (25 / 48))) <= 1e-14);
  assert.deepEqual([...psnr(b, a, { quantize: "round" })], [...got]);
  assert.deepEqual([...psnr(a, a)], [Infinity, Infinity]);
  const p1 = psnr(a, b, { quantize: "round", peak: 1 })[0];
  assert.ok(Math.abs(p1 - (got[0] - 20 * Math.log10(255))) < 1e-12);
});

Deno.test("psnr: clear errors for bad inputs", () => {
  const t = (shape: Shape) => ({ data: new Float32Array(shape.reduce((p, q) => p * q)), shape });
  assert.throws(() => psnr(t([1, 3, 2, 2]), t([2, 3, 2, 2])), /shapes differ/);
  assert.throws(
    () => psnr(t([1, 3, 2, 2]), t([1, 3, 2, 2]), { peak: 0 }),
    (e: Error) => e instanceof RangeError && /peak must be/.test(e.message),
  );
});
