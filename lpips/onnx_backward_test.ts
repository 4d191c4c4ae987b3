import assert from "node:assert/strict";
import { needsTestData } from "../_internal/test_data.ts";
import {
  caseWeights,
  gradientCases,
  relativeMaxDiff,
  weightGradientGoldens,
  weightGradientMismatch,
} from "./_gradient_goldens.ts";
import { convLayers } from "./arch.ts";
import { loadOrt } from "./onnx_engine.ts";
import { buildGradientGraph } from "./onnx_backward.ts";

Deno.test({
  ...needsTestData(
    "onnx backward graph: weight and bias gradients equal the reference's autograd (3 trunks)",
  ),
  sanitizeResources: false,
  fn: async () => {
    const ort = await loadOrt();
    const goldens = await weightGradientGoldens();
    const cases = (await gradientCases()).filter((c) => goldens.has(c.name));
    assert.equal(cases.length, 3);
    for (const c of cases) {
      const { arch: a, trunk, lin } = await caseWeights(c);
      const model = buildGradientGraph(a, { version: c.version, lpips: true }, trunk, lin, {
        normalize: false,
        weightGradients: true,
      });
      const s = await ort.InferenceSession.create(model, {
        intraOpNumThreads: 2,
        logSeverityLevel: 3,
      });
      try {
        const out = await s.run({
          x0: new ort.Tensor("float32", c.a.data, c.shape),
          x1: new ort.Tensor("float32", c.b.data, c.shape),
        });
        // The input gradient is unchanged by the extra outputs.
        const inputRel = relativeMaxDiff(out.grad.data as Float32Array, c.gradient);
        assert.ok(inputRel <= 1e-4, `${c.name} input gradient: ${inputRel}`);
        const want = goldens.get(c.name)!;
        const keys = [
          ...convLayers(a).flatMap((l) => [`${l.key}.weight`, `${l.key}.bias`]),
          ...a.channels.map((_, k) => `lin${k}.model.1.weight`),
        ];
        assert.deepEqual(new Set(want.keys()), new Set(keys));
        for (const key of keys) {
          const name = key.startsWith("lin") ? `grad.${key.split(".")[0]}` : `grad.${key}`;
          const t = out[name];
          assert.ok(t, `${c.name}: no output ${name}`);
          const got = t.data as Float32Array;
          const spec = key.startsWith("lin")
            ? [1, a.channels[Number(key[3])], 1, 1]
            : [...(trunk.get(key)!.length === got.length ? [got.length] : [])];
          assert.equal(got.length, key.startsWith("lin") ? spec[1] : trunk.get(key)!.length, key);
          const bad = weightGradientMismatch(`${c.name} ${key}`, got, want.get(key)!);
          assert.equal(bad, undefined, bad);
        }
      } finally {
        await s.release();
      }
    }
  },
});
