import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { needsTestData } from "../_internal/test_data.ts";
import {
  caseWeights,
  gradientCases,
  weightGradientGoldens,
  weightGradientMismatch,
} from "./_gradient_goldens.ts";
import { convLayers } from "./arch.ts";
import { type BackendName, useBackend } from "./backend.ts";
import { TfjsLpips } from "./tfjs_engine.ts";

// What `Trainer` with engine "tfjs" differentiates in `tune`/`scratch`: the trunk's weights and
// biases and the heads, through the features (`portableGrad` as the trainer picks it per backend)
// and the training heads (matrix products). Its gradients of the sum of the distances must be the
// reference's autograd's, at the tolerance of the ONNX graphs' tests (onnx_backward_test.ts).
// TF.js's own filter gradient (the trainer's choice on webgpu and tensorflow) runs here on cpu
// for alex and squeeze only: its cpu kernel takes 45 s on the vgg case, whose 3x3/1 convolutions
// squeeze's expand3x3 layers already cover.
const RUNS: { backend: BackendName; portableGrad: boolean; nets: string[] }[] = [
  { backend: "wasm", portableGrad: true, nets: ["alex", "squeeze", "vgg"] }, // no Conv2DBackpropFilter
  { backend: "cpu", portableGrad: true, nets: ["alex", "squeeze", "vgg"] }, // the trainer's cpu choice
  { backend: "cpu", portableGrad: false, nets: ["alex", "squeeze"] },
];

for (const { backend, portableGrad, nets } of RUNS) {
  Deno.test({
    ...needsTestData(
      `tfjs ${backend}${
        portableGrad ? " (portable conv gradient)" : ""
      }: trunk weight, bias and head gradients equal the reference's autograd (${nets.join(", ")})`,
    ),
    sanitizeResources: false,
    fn: async () => {
      await useBackend(backend);
      const goldens = await weightGradientGoldens();
      const cases = (await gradientCases()).filter((c) => goldens.has(c.name));
      assert.deepEqual(cases.map((c) => c.net).sort(), ["alex", "squeeze", "vgg"]);
      for (const c of cases.filter((c) => nets.includes(c.net))) {
        const { arch: a, trunk, lin } = await caseWeights(c);
        const net = new TfjsLpips(a, { version: c.version, lpips: c.lpips }, trunk, lin);
        const before = tf.memory().numTensors;
        try {
          const vars = [...net.trunkVariables.values(), ...net.linVariables];
          for (const v of vars) v.trainable = true;
          const got = new Map<string, Float32Array>();
          tf.tidy(() => {
            const x0 = tf.tensor4d(c.a.data, c.shape), x1 = tf.tensor4d(c.b.data, c.shape);
            const { value, grads } = tf.variableGrads(() => {
              const f0 = net.features(x0, false, { portableGrad });
              const f1 = net.features(x1, false, { portableGrad });
              const [, , h, wd] = c.shape;
              return tf.sum(net.compareFeatures(f0, f1, [h, wd], false, {}).total) as tf.Scalar;
            }, vars);
            // The distances are the golden ones (the same forward pass as inference).
            const total = c.distance.reduce((s, d) => s + d, 0);
            assert.ok(Math.abs(value.dataSync()[0] - total) <= 1e-5, `${c.name}: distance sum`);
            for (const [key, v] of net.trunkVariables) {
              // HWIO -> PyTorch's OIHW for the weights.
              const g = key.endsWith(".weight")
                ? tf.transpose(grads[v.name], [3, 2, 0, 1])
                : grads[v.name];
              got.set(key, g.dataSync() as Float32Array);
            }
            net.linVariables.forEach((v, k) =>
              got.set(`lin${k}.model.1.weight`, grads[v.name].dataSync() as Float32Array)
            );
          });
          const want = goldens.get(c.name)!;
          const keys = [
            ...convLayers(a).flatMap((l) => [`${l.key}.weight`, `${l.key}.bias`]),
            ...a.channels.map((_, k) => `lin${k}.model.1.weight`),
          ];
          assert.deepEqual(new Set(want.keys()), new Set(keys));
          assert.deepEqual(new Set(got.keys()), new Set(keys));
          for (const key of keys) {
            const g = got.get(key)!;
            const size = key.startsWith("lin")
              ? a.channels[Number(key[3])]
              : trunk.get(key)!.length;
            assert.equal(g.length, size, `${c.name} ${key}: size`);
            const bad = weightGradientMismatch(`${backend} ${c.name} ${key}`, g, want.get(key)!);
            assert.equal(bad, undefined, bad);
          }
          assert.equal(tf.memory().numTensors, before, `${c.name}: tensors leaked`);
        } finally {
          net.dispose();
        }
      }
    },
  });
}
