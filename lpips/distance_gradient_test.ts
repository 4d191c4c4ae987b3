import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
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
import { type ImageTensor, loadImage } from "../bappsloader/image.ts";

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
      [img([1, 3, 40, 40]), img([1, 3, 40, 41]), /differ in size/],
      [img([1, 3, 40, 40], 2), img([1, 3, 40, 40]), /input 0/],
      [img([1, 3, 20, 20]), img([1, 3, 20, 20]), /at least 31/],
      [img([1, 2, 40, 40]), img([1, 2, 40, 40]), /has 2 channels/],
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

Deno.test({
  ...needsTestData("distanceWithGradient: files, grey batches and a batch of 1 against N"),
  sanitizeResources: false,
  fn: async () => {
    const m = await model({ net: "alex", version: "0.1", lpips: true }, "onnx");
    try {
      const ref = testData("images", "ex_ref.png"), p0 = testData("images", "ex_p0.png");
      const a = await loadImage(ref), b = await loadImage(p0);
      const byFile = await m.distanceWithGradient(ref, pathToFileURL(p0));
      const byTensor = await m.distanceWithGradient(a, b);
      assert.deepEqual(byFile.distance, byTensor.distance);
      assert.deepEqual(byFile.gradient.data, byTensor.gradient.data);
      // One grey channel is the same image with the channel repeated.
      const grey = { data: a.data.slice(0, 64 * 64), shape: [1, 1, 64, 64] as Shape4 };
      const rgb = { data: new Float32Array([...grey.data, ...grey.data, ...grey.data]), shape };
      const g1 = await m.distanceWithGradient(grey, b), g3 = await m.distanceWithGradient(rgb, b);
      assert.deepEqual(g1.distance, g3.distance);
      assert.deepEqual(g1.gradient.shape, [1, 3, 64, 64]);
      // N against 1: N distances and N gradients, those of N separate pairs.
      const c = await loadImage(testData("images", "ex_p1.png"));
      const two = {
        data: new Float32Array([...a.data, ...c.data]),
        shape: [2, 3, 64, 64] as Shape4,
      };
      const nv1 = await m.distanceWithGradient(two, b);
      const ac = await m.distanceWithGradient(c, b);
      assert.deepEqual(nv1.gradient.shape, [2, 3, 64, 64]);
      assertDistances(
        nv1.distance,
        new Float32Array([byTensor.distance[0], ac.distance[0]]),
        "N v 1",
      );
      const size = 3 * 64 * 64;
      assert.ok(relativeMaxDiff(nv1.gradient.data.slice(size), ac.gradient.data) <= 1e-6, "N v 1");
      // 1 against N: N distances, and one gradient: the sum of the N pairs' gradients.
      const oneVn = await m.distanceWithGradient(b, two);
      const ba = await m.distanceWithGradient(b, a), bc = await m.distanceWithGradient(b, c);
      assert.deepEqual(oneVn.gradient.shape, [1, 3, 64, 64]);
      assertDistances(oneVn.distance, new Float32Array([ba.distance[0], bc.distance[0]]), "1 v N");
      const sum = ba.gradient.data.map((v, i) => v + bc.gradient.data[i]);
      assert.ok(relativeMaxDiff(oneVn.gradient.data, sum) <= 1e-6, "1 v N: summed gradient");
    } finally {
      m.dispose();
    }
  },
});

type Shape4 = [number, number, number, number];
const shape: Shape4 = [1, 3, 64, 64];
