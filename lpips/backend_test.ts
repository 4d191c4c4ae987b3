import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { useBackend } from "./backend.ts";

Deno.test("unknown backends and a missing native binding are clear errors", async () => {
  await assert.rejects(useBackend("webgl" as never), /unknown backend "webgl"/);
  // @tensorflow/tfjs-node(-gpu) is not a dependency of this package: the error says what to install.
  await assert.rejects(
    useBackend("tensorflow"),
    /needs @tensorflow\/tfjs-node-gpu \(CUDA\) or @tensorflow\/tfjs-node/,
  );
});

Deno.test("wasm and cpu backends initialise and compute", async () => {
  for (const name of ["wasm", "cpu"] as const) {
    await useBackend(name);
    assert.equal(tf.getBackend(), name);
    const s = tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3.5])).dataSync()[0]);
    assert.equal(s, 6.5);
  }
});
