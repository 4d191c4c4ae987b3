import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { firstMaxGrad, maxPoolFirstMax, tieRule } from "./_max_pool.ts";
import { type BackendName, useBackend } from "./backend.ts";
import { registerGradients } from "./_gradients.ts";

registerGradients();

/**
 * PyTorch's max-pool backward, written out: each window's gradient goes to the first input in
 * row-major order that holds the window's maximum (NHWC, valid windows).
 */
function firstMaxReference(
  x: Float32Array,
  [n, h, w, c]: number[],
  dy: Float32Array,
  k: number,
  s: number,
): Float32Array {
  const oh = Math.floor((h - k) / s) + 1, ow = Math.floor((w - k) / s) + 1;
  const dx = new Float32Array(x.length);
  const at = (b: number, y: number, xx: number, ch: number) => ((b * h + y) * w + xx) * c + ch;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity, arg = -1;
          for (let ky = 0; ky < k; ky++) {
            for (let kx = 0; kx < k; kx++) {
              const v = x[at(b, i * s + ky, j * s + kx, ch)];
              if (v > best) [best, arg] = [v, at(b, i * s + ky, j * s + kx, ch)];
            }
          }
          dx[arg] += dy[((b * oh + i) * ow + j) * c + ch];
        }
      }
    }
  }
  return dx;
}

/** Values on a coarse grid (many exact ties), seeded. */
function tiedValues(size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * 3); // 0, 1 or 2
  });
}

// (shape, kernel, stride): SqueezeNet's and AlexNet's 3x3/2 (overlapping windows; sizes where
// the last window ends before the input does), VGG's 2x2/2, and a 3x3/1.
const SHAPES: [number[], number, number][] = [
  [[2, 9, 9, 3], 3, 2],
  [[1, 8, 10, 2], 3, 2],
  [[1, 7, 6, 4], 2, 2],
  [[1, 5, 6, 2], 3, 1],
];

const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
const BACKENDS: BackendName[] = ["wasm", "cpu"];
if (await gpu?.requestAdapter()) BACKENDS.push("webgpu");
else console.warn("maxPoolFirstMax on webgpu skipped: no WebGPU adapter on this machine");

for (const backend of BACKENDS) {
  Deno.test(`maxPoolFirstMax on ${backend}: tf.maxPool's values; ties send the gradient to the first maximum, as PyTorch`, async () => {
    await useBackend(backend);
    for (const [shape, k, s] of SHAPES) {
      const size = shape.reduce((p, d) => p * d, 1);
      const xv = tiedValues(size, size + k);
      const x = tf.tensor4d(xv, shape as [number, number, number, number]);
      const before = tf.memory().numTensors;
      const want = tf.maxPool(x, k, s, "valid");
      const got = maxPoolFirstMax(x, k, s);
      assert.deepEqual(got.shape, want.shape);
      assert.deepEqual(await got.data(), await want.data(), `${shape} ${k}/${s}: values`);
      const dyv = Float32Array.from({ length: want.size }, (_, i) => 1 + (i % 7)); // tells windows apart
      const dy = tf.tensor(dyv, want.shape);
      const dx = tf.grad((t: tf.Tensor) =>
        tf.sum(tf.mul(maxPoolFirstMax(t as tf.Tensor4D, k, s), dy))
      )(x);
      const expected = firstMaxReference(xv, shape, dyv, k, s);
      assert.deepEqual(Array.from(await dx.data()), Array.from(expected), `${shape} ${k}/${s}`);
      // The construction from strided slices (what backends without a probed rule use).
      const built = firstMaxGrad(x, want, dy as tf.Tensor4D, k, s);
      assert.deepEqual(Array.from(await built.data()), Array.from(expected), `${shape} built`);
      tf.dispose([want, got, dy, dx, built]);
      assert.equal(tf.memory().numTensors, before, "tensors leaked");
      x.dispose();
    }
  });
}

Deno.test("maxPoolFirstMax: the probed tie rules of the backends' MaxPoolGrad (cpu first, wasm last)", async () => {
  await useBackend("cpu");
  assert.equal(tieRule(), "first");
  await useBackend("wasm");
  assert.equal(tieRule(), "last");
});

Deno.test("maxPoolFirstMax: the wasm backend's own MaxPoolGrad sends a tie to the last maximum (why it exists)", async () => {
  await useBackend("wasm");
  const x = tf.ones([1, 3, 3, 1]) as tf.Tensor4D;
  const own = tf.grad((t: tf.Tensor) => tf.sum(tf.maxPool(t as tf.Tensor4D, 3, 2, "valid")))(x);
  assert.deepEqual(Array.from(await own.data()), [0, 0, 0, 0, 0, 0, 0, 0, 1]);
  const ours = tf.grad((t: tf.Tensor) => tf.sum(maxPoolFirstMax(t as tf.Tensor4D, 3, 2)))(x);
  assert.deepEqual(Array.from(await ours.data()), [1, 0, 0, 0, 0, 0, 0, 0, 0]);
  tf.dispose([x, own, ours]);
});
