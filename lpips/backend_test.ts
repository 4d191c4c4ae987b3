import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { NATIVE_PACKAGES, useBackend } from "./backend.ts";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { LPIPS } from "./lpips.ts";

Deno.test("unknown backends and a missing native binding are clear errors", async () => {
  await assert.rejects(useBackend("webgl" as never), /unknown backend "webgl"/);
  // @tensorflow/tfjs-node(-gpu) is not a dependency of this package: the error says what to
  // install.
  const err = await useBackend("tensorflow").then(() => undefined, (e: Error) => e);
  assert.ok(err instanceof Error, "the tensorflow backend loaded without its package");
  assert.match(err.message, /needs @tensorflow\/tfjs-node-gpu \(CUDA\) or @tensorflow\/tfjs-node/);
  assert.match(err.message, /deno install --allow-scripts=npm:@tensorflow\/tfjs-node-gpu@4\.22\.0/);
  assert.match(err.message, /"nodeModulesDir": "auto"/);
  assert.match(err.message, /--allow-ffi/);
  // It says why each package failed, on one line (the CLI prints it as is).
  for (const pkg of NATIVE_PACKAGES) assert.ok(err.message.includes(`${pkg}: `), pkg);
  assert.ok(!err.message.includes("\n"), "the message spans several lines");
  // A failed attempt leaves the backend usable for another try and for other backends.
  await useBackend("cpu");
  assert.equal(tf.getBackend(), "cpu");
});

Deno.test("wasm and cpu backends initialise and compute", async () => {
  for (const name of ["wasm", "cpu"] as const) {
    await useBackend(name);
    assert.equal(tf.getBackend(), name);
    const s = tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3.5])).dataSync()[0]);
    assert.equal(s, 6.5);
  }
});

/** The parts of TF.js's WebGPU backend this test watches (names of tfjs-backend-webgpu 4.22). */
interface WebGpuBackendInternals {
  pipelineCache: Record<string, unknown>;
  getBufferData(buffer: unknown): Promise<ArrayBuffer>;
  readSync(dataId: unknown): unknown;
}

const steady = needsTestData(
  "webgpu: a repeated distance() compiles no shader, downloads only the distances, leaks nothing",
);
Deno.test({
  ...steady,
  sanitizeResources: false,
  fn: async () => {
    const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    if (!(await gpu?.requestAdapter())) {
      if (Deno.env.get("CI")) throw new Error("CI needs a WebGPU adapter (mesa-vulkan-drivers)");
      console.warn(`${steady.name}: skipped, no WebGPU adapter on this machine`);
      return;
    }
    const m = await LPIPS.create({
      net: "alex",
      engine: "tfjs",
      backend: "webgpu",
      weightsDir: testData("weights"),
      quiet: true,
    });
    try {
      const shape: [number, number, number, number] = [2, 3, 64, 64];
      const image = (phase: number) => ({
        data: Float32Array.from({ length: 2 * 3 * 64 * 64 }, (_, i) => Math.sin(i * 0.37 + phase)),
        shape,
      });
      const a = image(0), b = image(1);
      const first = await m.distance(a, b); // warm-up: compiles the shaders
      const backend = tf.backend() as unknown as WebGpuBackendInternals;
      const shaders = Object.keys(backend.pipelineCache).length;
      const tensors = tf.memory().numTensors;
      let downloads = 0, syncReads = 0;
      const { getBufferData, readSync } = backend;
      backend.getBufferData = function (buffer) {
        downloads++;
        return getBufferData.call(this, buffer);
      };
      backend.readSync = function (dataId) {
        syncReads++;
        return readSync.call(this, dataId);
      };
      let again: Float32Array;
      try {
        again = await m.distance(a, b);
      } finally {
        backend.getBufferData = getBufferData;
        backend.readSync = readSync;
      }
      assert.ok(shaders > 0, "no shader was compiled: is this really the webgpu backend?");
      assert.equal(Object.keys(backend.pipelineCache).length, shaders, "new shaders compiled");
      assert.equal(downloads, 1, "GPU -> CPU downloads other than the distances");
      assert.equal(syncReads, 0, "a synchronous read (dataSync) stalls the GPU");
      assert.equal(tf.memory().numTensors, tensors, "tensors leaked");
      assert.deepEqual(again, first);
      assert.ok(first.every((d) => d > 0 && Number.isFinite(d)));
    } finally {
      m.dispose();
    }
  },
});
