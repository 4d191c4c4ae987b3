import assert from "node:assert/strict";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { gradientCases, relativeMaxDiff } from "./_gradient_goldens.ts";
import { arch, convLayers } from "./arch.ts";
import { loadLinWeights, loadTrunkWeights } from "./load_weights.ts";
import { loadOrt } from "./onnx_engine.ts";
import { buildGradientGraph } from "./onnx_backward.ts";

/** Per tensor: sum, sum of |.|, max |.|, then 8 values at index i * 7919 * 104729 mod size. */
async function weightGoldens(): Promise<Map<string, Map<string, Float32Array>>> {
  const path = new URL("../_testing/weight_gradient_goldens.json", import.meta.url);
  const raw = JSON.parse(await Deno.readTextFile(path)) as {
    cases: { name: string; tensors: Record<string, string> }[];
  };
  return new Map(raw.cases.map((c) => [
    c.name,
    new Map(
      Object.entries(c.tensors).map(([k, b64]) => {
        const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
        return [k, new Float32Array(bytes.buffer)];
      }),
    ),
  ]));
}

Deno.test({
  ...needsTestData(
    "onnx backward graph: weight and bias gradients equal the reference's autograd (3 trunks)",
  ),
  sanitizeResources: false,
  fn: async () => {
    const ort = await loadOrt();
    const goldens = await weightGoldens();
    const cases = (await gradientCases()).filter((c) => goldens.has(c.name));
    assert.equal(cases.length, 3);
    for (const c of cases) {
      const a = arch(c.net);
      const w = testData("weights");
      const trunk = await loadTrunkWeights(a, {
        weightsDir: w,
        path: c.net === "vgg" ? testData("weights", "vgg16-random-seed0.pth") : undefined,
        quiet: true,
      });
      const lin = await loadLinWeights(a, c.version, { weightsDir: w, quiet: true });
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
          const g = want.get(key)!;
          let sum = 0, sumAbs = 0, maxAbs = 0;
          for (const v of got) {
            sum += v;
            sumAbs += Math.abs(v);
            maxAbs = Math.max(maxAbs, Math.abs(v));
          }
          const what = `${c.name} ${key}`;
          const tol = 1e-4 * g[2];
          assert.ok(Math.abs(sum - g[0]) <= 1e-4 * g[1], `${what}: sum ${sum} vs ${g[0]}`);
          assert.ok(
            Math.abs(sumAbs - g[1]) <= 1e-4 * g[1],
            `${what}: sum |.| ${sumAbs} vs ${g[1]}`,
          );
          assert.ok(Math.abs(maxAbs - g[2]) <= tol, `${what}: max |.| ${maxAbs} vs ${g[2]}`);
          for (let i = 0; i < 8; i++) {
            const j = Number((BigInt(i) * 7919n * 104729n) % BigInt(got.length));
            assert.ok(
              Math.abs(got[j] - g[3 + i]) <= tol,
              `${what}[${j}]: ${got[j]} vs ${g[3 + i]}`,
            );
          }
        }
      } finally {
        await s.release();
      }
    }
  },
});
