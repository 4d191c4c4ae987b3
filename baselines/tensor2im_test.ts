import assert from "node:assert/strict";
import { im2tensor, toTensorNormalize } from "../bappsloader/image.ts";
import { tensor2im } from "./tensor2im.ts";

/** Every uint8 level once per channel: a 1x256 image whose pixel u is (u, 255 - u, u). */
function allLevels() {
  const data = new Uint8Array(256 * 3);
  for (let u = 0; u < 256; u++) data.set([u, 255 - u, u], 3 * u);
  return { width: 256, height: 1, data };
}

Deno.test("tensor2im: script path loses one level for 1..95 (docs/algorithm.md §1.8)", () => {
  const back = tensor2im(im2tensor(allLevels())).data;
  for (let u = 0; u < 256; u++) {
    const want = u >= 1 && u <= 95 ? u - 1 : u;
    assert.equal(back[u], want, `R level ${u}`); // plane 0 is R
    assert.equal(back[512 + u], want, `B level ${u}`);
  }
});

Deno.test("tensor2im: dataset path loses one level for 1..63 (docs/algorithm.md §1.8)", () => {
  const back = tensor2im(toTensorNormalize(allLevels())).data;
  for (let u = 0; u < 256; u++) {
    assert.equal(back[u], u >= 1 && u <= 63 ? u - 1 : u, `level ${u}`);
  }
});

Deno.test("tensor2im: quantize 'round' inverts both conversions exactly", () => {
  const img = allLevels();
  for (const conv of [im2tensor, toTensorNormalize]) {
    const back = tensor2im(conv(img), { quantize: "round" }).data;
    for (let u = 0; u < 256; u++) {
      assert.equal(back[u], u);
      assert.equal(back[256 + u], 255 - u); // G plane
    }
  }
});

Deno.test("tensor2im: float32 arithmetic, clipping, NCHW layout and batches", () => {
  // f32(f32(t + 1) * 127.5): t = 2/255 - 1 in float32 gives 0.99999... -> 0, not 1.
  const data = new Float32Array([2 / 255 - 1, -1.5, 1.25, 0.0039215689, 1, -1]);
  const t = { data, shape: [2, 3, 1, 1] as [number, number, number, number] };
  const u = tensor2im(t);
  assert.deepEqual(u.shape, [2, 3, 1, 1]);
  assert.deepEqual([...u.data], [0, 0, 255, 128, 255, 0]);
  assert.deepEqual([...tensor2im(t, { quantize: "round" }).data], [1, 0, 255, 128, 255, 0]);
});

Deno.test("tensor2im: rejects NaN, wrong shapes and unknown options", () => {
  const ok = { data: new Float32Array(3), shape: [1, 3, 1, 1] as [number, number, number, number] };
  assert.throws(
    () => tensor2im({ ...ok, data: new Float32Array([0, NaN, 0]) }),
    (e: Error) => e instanceof RangeError && /NaN at \[0,1,0,0\]/.test(e.message),
  );
  assert.throws(
    () => tensor2im({ data: new Float32Array(2), shape: [1, 2, 1, 1] }),
    (e: Error) => e instanceof RangeError && /2 channels/.test(e.message),
  );
  assert.throws(
    () => tensor2im({ data: new Float32Array(4), shape: [1, 3, 1, 1] }),
    (e: Error) =>
      e instanceof RangeError && /4 values but shape \[1,3,1,1\] needs 3/.test(e.message),
  );
  assert.throws(
    () => tensor2im({ data: new Float64Array(3) as unknown as Float32Array, shape: [1, 3, 1, 1] }),
    (e: Error) => e instanceof TypeError && /Float32Array, got Float64Array/.test(e.message),
  );
  assert.throws(
    () => tensor2im(ok, { quantize: "floor" as "round" }),
    (e: Error) => e instanceof RangeError && /quantize must be/.test(e.message),
  );
});
