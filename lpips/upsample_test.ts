import assert from "node:assert/strict";
import { upsampleMatrix } from "./upsample.ts";

Deno.test("bilinear weights match PyTorch's align_corners=False rule", () => {
  assert.deepEqual([...upsampleMatrix(2, 4)], [1, 0, 0.75, 0.25, 0.25, 0.75, 0, 1]);
  // 3 -> 7: scale 3/7; output 3 samples source 1 exactly.
  const m = upsampleMatrix(3, 7);
  assert.deepEqual([...m.slice(9, 12)], [0, 1, 0]);
  assert.deepEqual([...upsampleMatrix(3, 3)], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
});

Deno.test("every row sums to one and has at most two neighbouring weights", () => {
  for (const [inn, out] of [[15, 64], [7, 64], [3, 512], [31, 37], [64, 64], [1, 9]]) {
    const m = upsampleMatrix(inn, out);
    for (let o = 0; o < out; o++) {
      const row = m.slice(o * inn, (o + 1) * inn);
      const nz = [...row.keys()].filter((i) => row[i] !== 0);
      assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-6, `${inn}->${out} row ${o}`);
      assert.ok(nz.length <= 2 && (nz.length < 2 || nz[1] === nz[0] + 1));
    }
  }
});
