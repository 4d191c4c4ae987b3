import assert from "node:assert/strict";
import { needsTestData } from "../../_internal/test_data.ts";
import {
  caseWeights,
  gradientCases,
  relativeMaxDiff,
  weightGradientGoldens,
  weightGradientMismatch,
} from "../_gradient_goldens.ts";
import { convLayers } from "../arch.ts";
import { loadOrt } from "../onnx_engine.ts";
import { type Feed, OnnxTrainStep } from "./_onnx_step.ts";

// The triplet graphs with g = dL/dd of 1 for one pair and 0 for the other differentiate the sum
// of that pair's distances: the reference's autograd gave the goldens of exactly that.
Deno.test({
  ...needsTestData(
    "onnx training graphs: distances and weight gradients of either pair equal the reference's autograd (3 trunks)",
  ),
  sanitizeResources: false,
  fn: async () => {
    const ort = await loadOrt();
    const goldens = await weightGradientGoldens();
    const cases = (await gradientCases()).filter((c) => goldens.has(c.name));
    assert.equal(cases.length, 3);
    for (const c of cases) {
      const { arch: a, trunk, lin } = await caseWeights(c);
      const weights = new Map<string, Feed>();
      for (const l of convLayers(a)) {
        const shape = [l.outChannels, l.inChannels, l.kernel, l.kernel];
        weights.set(`${l.key}.weight`, { data: trunk.get(`${l.key}.weight`)!, shape });
        weights.set(`${l.key}.bias`, { data: trunk.get(`${l.key}.bias`)!, shape: [l.outChannels] });
      }
      a.channels.forEach((ch, k) =>
        weights.set(`lin${k}`, { data: lin.get(`lin${k}.model.1.weight`)!, shape: [1, ch, 1, 1] })
      );
      const n = c.shape[0];
      const one = new Float32Array(n).fill(1), none = new Float32Array(n);
      const step = new OnnxTrainStep(ort, a, false, 2);
      try {
        for (const pair of [0, 1]) {
          // The compared pair is (a, b); the other one is (a, a), at distance 0.
          const [p0, p1] = pair === 0 ? [c.b, c.a] : [c.a, c.b];
          const feeds = new Map([...weights, ["ref", c.a], ["p0", p0], ["p1", p1]]);
          const d = await step.distances(feeds);
          const what = `${c.name} pair ${pair}`;
          assert.ok(relativeMaxDiff(d[pair], c.distance) <= 1e-5, `${what}: distance`);
          assert.ok(d[1 - pair].every((v) => v === 0), `${what}: identical images`);
          const grads = await step.gradients(feeds, pair ? none : one, pair ? one : none);
          const want = goldens.get(c.name)!;
          assert.equal(grads.size, want.size);
          for (const [key, golden] of want) {
            const got = grads.get(key.replace(".model.1.weight", ""));
            assert.ok(got, `${what}: no gradient of ${key}`);
            const bad = weightGradientMismatch(`${what} ${key}`, got, golden);
            assert.equal(bad, undefined, bad);
          }
        }
      } finally {
        await step.dispose();
      }
    }
  },
});
