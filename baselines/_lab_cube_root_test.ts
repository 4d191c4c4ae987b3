import assert from "node:assert/strict";
import { labCubeRoot } from "./_lab_cube_root.ts";

const f = Math.fround, P = f(1 / 3);
const FLOAT = new Float32Array(1), BITS = new Int32Array(FLOAT.buffer);

/** The float32 whose bits are `b`. */
function fromBits(b: number): number {
  BITS[0] = b;
  return FLOAT[0];
}

Deno.test("labCubeRoot: Math.pow's float32 for every 61st float32 of FLIP's range and beyond", () => {
  // All 65,987,928 values of ((6/29)^3, 2) were checked once (docs/algorithm.md §11); here every
  // 61st of [2^-8, 4), which crosses the table's ends, so about 1.1 million values.
  FLOAT[0] = 2 ** -8;
  const lo = BITS[0];
  FLOAT[0] = 4;
  const hi = BITS[0];
  let checked = 0;
  for (let b = lo; b < hi; b += 61) {
    const t = fromBits(b);
    const want = f(Math.pow(t, P)), got = labCubeRoot(t);
    if (got !== want) assert.fail(`t = ${t}: ${got} vs Math.pow's ${want}`);
    checked++;
  }
  assert.ok(checked > 1_000_000, `${checked}`);
});

Deno.test("labCubeRoot: the table's edges, zero and non-finite values as Math.pow", () => {
  const cases = [
    0,
    -0,
    1e-30,
    2 ** -7,
    f(2 ** -7 - 2 ** -32),
    f(2 - 2 ** -23),
    2,
    1,
    1e30,
    Infinity,
    -1,
    NaN,
  ];
  for (const t of cases) assert.ok(Object.is(labCubeRoot(t), f(Math.pow(t, P))), `t = ${t}`);
});
