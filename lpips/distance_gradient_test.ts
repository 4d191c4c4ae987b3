import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { needsTestData, testData } from "../_internal/test_data.ts";
import {
  type GradientCase,
  gradientCases,
  lcgImage,
  relativeMaxDiff,
} from "./_gradient_goldens.ts";
import { LPIPS } from "./lpips.ts";
import { InputError } from "./validate.ts";
import type { ImageTensor } from "../bappsloader/image.ts";

/** The golden tolerance of the issue: max |diff| / max |golden gradient|. */
const REL_TOL = 1e-4;

function model(c: Pick<GradientCase, "net" | "version" | "lpips">, engine: "onnx" | "tfjs") {
  return LPIPS.create({
    net: c.net,
    version: c.version,
    lpips: c.lpips,
    engine,
    weightsDir: testData("weights"),
    trunkPath: c.net === "vgg" ? testData("weights", "vgg16-random-seed0.pth") : undefined,
    threads: 2,
    quiet: true,
  });
}

function assertDistances(got: Float32Array, want: Float32Array, what: string) {
  assert.equal(got.length, want.length, `${what}: distances`);
  got.forEach((d, i) =>
    assert.ok(Math.abs(d - want[i]) <= 1e-5, `${what}: distance ${d} vs golden ${want[i]}`)
  );
}

for (const engine of ["onnx", "tfjs"] as const) {
  Deno.test({
    ...needsTestData(
      `${engine}: distanceWithGradient equals the reference's autograd on every golden case`,
    ),
    sanitizeResources: false,
    fn: async () => {
      const cases = await gradientCases();
      assert.ok(cases.length >= 15);
      const models = new Map<string, LPIPS>();
      try {
        for (const c of cases) {
          const key = `${c.net} ${c.version} ${c.lpips}`;
          if (!models.has(key)) models.set(key, await model(c, engine));
          const m = models.get(key)!;
          assert.equal(m.engine, engine);
          const r = await m.distanceWithGradient(c.a, c.b);
          assert.deepEqual(r.gradient.shape, c.shape, c.name);
          assertDistances(r.distance, c.distance, c.name);
          assert.ok(r.gradient.data.every(Number.isFinite), `${c.name}: non-finite gradient`);
          const rel = relativeMaxDiff(r.gradient.data, c.gradient);
          assert.ok(rel <= REL_TOL, `${c.name}: relative max difference ${rel} > ${REL_TOL}`);
        }
        // The zero-norm cases do reach all-zero feature vectors (the reference's NaN trap).
        assert.ok(cases.filter((c) => c.zeroNormPositions > 0).length >= 2);
      } finally {
        for (const m of models.values()) m.dispose();
      }
    },
  });
}

/** [-1, 1] -> [0, 1]. */
const to01 = (x: ImageTensor): ImageTensor => ({
  data: x.data.map((v) => (v + 1) / 2),
  shape: x.shape,
});

Deno.test({
  ...needsTestData(
    "distanceWithGradient: normalize doubles the gradient; tensors in; sizes change; d(x, x)",
  ),
  sanitizeResources: false,
  fn: async () => {
    const c = (await gradientCases()).find((c) => c.name === "alex-0.1-lin")!;
    for (const engine of ["onnx", "tfjs"] as const) {
      const m = await model(c, engine);
      try {
        // Another size first: one graph serves every input size.
        const big = (seed: number): ImageTensor => ({
          data: lcgImage([2, 3, 64, 48], seed),
          shape: [2, 3, 64, 48],
        });
        const rb = await m.distanceWithGradient(big(99), big(98));
        assert.deepEqual(rb.gradient.shape, [2, 3, 64, 48]);
        assert.equal(rb.distance.length, 2);
        const plain = await m.distanceWithGradient(c.a, c.b);
        assert.ok(relativeMaxDiff(plain.gradient.data, c.gradient) <= REL_TOL, engine);
        // [0, 1] inputs: x = 2 u - 1, so d/du = 2 d/dx.
        const n = await m.distanceWithGradient(to01(c.a), to01(c.b), { normalize: true });
        const twice = c.gradient.map((v) => 2 * v);
        const rel = relativeMaxDiff(n.gradient.data, twice);
        assert.ok(rel <= REL_TOL, `${engine} normalize: ${rel}`);
        assertDistances(n.distance, c.distance, `${engine} normalize`);
        // TF.js tensors in.
        const ta = tf.tensor4d(c.a.data, c.a.shape), tb = tf.tensor4d(c.b.data, c.b.shape);
        const t = await m.distanceWithGradient(ta, tb);
        tf.dispose([ta, tb]);
        assert.ok(relativeMaxDiff(t.gradient.data, c.gradient) <= REL_TOL, `${engine} tensors`);
        // The distance of an image to itself is 0, and so is its gradient.
        const same = await m.distanceWithGradient(c.a, c.a);
        assert.equal(same.distance[0], 0);
        assert.ok(same.gradient.data.every((v) => v === 0), `${engine}: d(x, x) gradient`);
        // The same distances as distance().
        assertDistances(plain.distance, await m.distance(c.a, c.b), `${engine} vs distance()`);
      } finally {
        m.dispose();
      }
    }
  },
});

Deno.test({
  ...needsTestData("distanceWithGradient: bad inputs are InputErrors; a disposed model throws"),
  sanitizeResources: false,
  fn: async () => {
    const m = await model({ net: "alex", version: "0.1", lpips: true }, "onnx");
    const img = (shape: [number, number, number, number], v = 0): ImageTensor => ({
      data: new Float32Array(shape.reduce((p, d) => p * d, 1)).fill(v),
      shape,
    });
    const cases: [ImageTensor, ImageTensor, RegExp][] = [
      [img([1, 3, 40, 40]), img([1, 3, 40, 41]), /differ in shape/],
      [img([1, 3, 40, 40], 2), img([1, 3, 40, 40]), /input 0/],
      [img([1, 3, 20, 20]), img([1, 3, 20, 20]), /at least 31/],
      [img([1, 1, 40, 40]), img([1, 1, 40, 40]), /has 1 channels/],
    ];
    for (const [a, b, msg] of cases) {
      await assert.rejects(
        m.distanceWithGradient(a, b),
        (e: Error) => e instanceof InputError && msg.test(e.message),
      );
    }
    await assert.rejects(
      m.distanceWithGradient(img([1, 3, 40, 40], -0.5), img([1, 3, 40, 40]), { normalize: true }),
      (e: Error) => e instanceof InputError && /input 0/.test(e.message),
    );
    m.dispose();
    await assert.rejects(
      m.distanceWithGradient(img([1, 3, 40, 40]), img([1, 3, 40, 40])),
      /disposed/,
    );
  },
});
