import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { lpipsCases } from "./conformance.ts";
import { ENGINE_NAMES, type Features, LPIPS, VERSIONS } from "./lpips.ts";
import { InputError } from "./validate.ts";
import { type ImageTensor, loadImage, readImage, stack } from "../bappsloader/image.ts";

const weightsDir = () => testData("weights");
const image = (name: string) => loadImage(testData("images", `${name}.png`));

async function golden(id: string) {
  const c = (await lpipsCases()).find((c) => c.id === id);
  if (!c) throw new Error(`no case ${id}`);
  return c.expected;
}

const close = (got: number, want: number, tol = 1e-5) =>
  assert.ok(Math.abs(got - want) <= tol, `got ${got}, want ${want}`);

Deno.test({
  ...needsTestData("distance() reproduces the reference on the README example (scalar and map)"),
  fn: async () => {
    const m = await LPIPS.create({ weightsDir: weightsDir(), quiet: true });
    try {
      const [ref, p0, p1] = await Promise.all(["ex_ref", "ex_p0", "ex_p1"].map(image));
      const d = await m.distance(ref, p0);
      assert.ok(d instanceof Float32Array && d.length === 1);
      close(d[0], (await golden("lpips.ex_p0.alex.v0.1.lin.scalar")).distance![0]);
      const s = await m.distance(ref, p1, { spatial: true });
      assert.deepEqual(s.map!.shape, [1, 1, 64, 64]);
      close(s.distance[0], (await golden("lpips.ex_p1.alex.v0.1.lin.spatial")).map_mean![0]);
      assert.equal(s.layers, undefined);
      // The published values (issue #120): 0.722 and 0.138.
      assert.equal(d[0].toFixed(3), "0.722");
      assert.equal(s.distance[0].toFixed(3), "0.138");
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  ...needsTestData(
    "a batch gives the same distances as its items one by one; d(x,x) = 0; symmetry",
  ),
  fn: async () => {
    const m = await LPIPS.create({ net: "squeeze", weightsDir: weightsDir(), quiet: true });
    try {
      const [ref, p0, p1] = await Promise.all(["ex_ref", "ex_p0", "ex_p1"].map(image));
      const batch = await m.distance(stack([ref, ref, p1]), stack([p0, p1, p0]));
      const single = [
        (await m.distance(ref, p0))[0],
        (await m.distance(ref, p1))[0],
        (await m.distance(p1, p0))[0],
      ];
      single.forEach((v, i) => close(batch[i], v, 1e-6));
      assert.equal((await m.distance(p1, p1))[0], 0);
      close((await m.distance(p0, ref))[0], single[0], 1e-6);
      assert.notEqual(single[0], single[1]);
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  ...needsTestData("inputs: decoded images, tensors and { data, shape } give the same distance"),
  fn: async () => {
    const m = await LPIPS.create({ weightsDir: weightsDir(), quiet: true });
    try {
      const refImg = await readImage(testData("images", "ex_ref.png"));
      const p0 = await image("ex_p0");
      const fromImage = (await m.distance(refImg, p0))[0];
      const ref = await image("ex_ref");
      const t0 = tf.tensor4d(ref.data, ref.shape);
      const t1 = tf.tensor4d(p0.data, p0.shape);
      const fromTensor = (await m.distance(t0, t1))[0];
      const before = tf.memory().numTensors;
      const viaTensor = tf.tidy(() => m.distanceTensor(t0, t1).dataSync()[0]);
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([t0, t1]);
      assert.equal(fromImage, (await m.distance(ref, p0))[0]);
      assert.equal(fromTensor, fromImage);
      close(viaTensor, fromImage, 1e-6);
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  ...needsTestData("no tensor leaks: every call, including failing ones, frees what it made"),
  fn: async () => {
    const before = tf.memory().numTensors;
    const m = await LPIPS.create({ weightsDir: weightsDir(), quiet: true });
    const [ref, p0] = await Promise.all(["ex_ref", "ex_p0"].map(image));
    const held = tf.memory().numTensors;
    await m.distance(ref, p0);
    await m.distance(ref, p0, { spatial: true, perLayer: true });
    await m.distance(ref, p0, { perLayer: true });
    const f = await m.features(ref);
    const g = await m.features(p0);
    await m.compare(f, g, { spatial: true });
    f.dispose();
    g.dispose();
    await assert.rejects(m.distance(ref, nanCopy(p0)), InputError);
    await assert.rejects(
      m.distance(ref, { data: new Float32Array(3 * 40 * 40), shape: [1, 3, 40, 40] }),
    );
    assert.equal(tf.memory().numTensors, held);
    m.dispose();
    assert.equal(tf.memory().numTensors, before);
  },
});

function nanCopy(t: ImageTensor): ImageTensor {
  const data = t.data.slice();
  data[100] = NaN;
  return { data, shape: t.shape };
}

Deno.test({
  ...needsTestData("bad inputs give InputErrors that say what was probably passed"),
  fn: async () => {
    const m = await LPIPS.create({ weightsDir: weightsDir(), quiet: true });
    try {
      const ref = await image("ex_ref");
      const t = (shape: number[], fill = 0) => ({
        data: new Float32Array(shape.reduce((a, b) => a * b)).fill(fill),
        shape: shape as ImageTensor["shape"],
      });
      const cases: [ImageTensor, RegExp, { normalize?: boolean }?][] = [
        [t([1, 3, 64, 32]), /differ in size.*resize: "reference"/],
        [t([1, 4, 64, 64]), /4 channels; expected 3/],
        [t([1, 64, 64, 3]), /looks like NHWC/],
        [t([1, 3, 30, 64]), /needs at least 31 px/],
        [{ data: ref.data.map((v) => (v + 1) * 127.5), shape: ref.shape }, /\[0, 255\]/],
        [nanCopy(ref), /NaN/],
        [{ data: ref.data.map((v, i) => (i === 7 ? Infinity : v)), shape: ref.shape }, /infinite/],
        [ref, /looks like \[-1, 1\]: drop normalize/, { normalize: true }],
        [
          { data: new Float32Array(5), shape: [1, 3, 64, 64] },
          /needs 12288 values but has 5 values/,
        ],
      ];
      for (const [bad, msg, opts] of cases) {
        const other = bad.shape[2] === 30 ? t([1, 3, 30, 64]) : ref;
        await assert.rejects(
          opts ? m.distance(other, bad, opts) : m.distance(other, bad),
          (e: Error) => e instanceof InputError && msg.test(e.message),
          String(msg),
        );
      }
      await assert.rejects(LPIPS.create({ net: "resnet" as never }), /unknown net/);
      await assert.rejects(LPIPS.create({ version: "0.2" as never }), /unknown version/);
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  ...needsTestData("features are reusable across heads of one trunk and refused by another trunk"),
  fn: async () => {
    const [lin, base, sq] = await Promise.all([
      LPIPS.create({ weightsDir: weightsDir(), quiet: true }),
      LPIPS.create({ lpips: false, weightsDir: weightsDir(), quiet: true }),
      LPIPS.create({ net: "squeeze", weightsDir: weightsDir(), quiet: true }),
    ]);
    try {
      const [ref, p0] = await Promise.all(["ex_ref", "ex_p0"].map(image));
      const f0 = await lin.features(ref);
      const f1 = await lin.features(p0);
      close(
        (await base.compare(f0, f1))[0],
        (await golden("lpips.ex_p0.alex.v0.1.nolin.scalar")).distance![0],
      );
      await assert.rejects(sq.compare(f0, f1), /cannot be compared by a squeeze/);
      f0.dispose();
      await assert.rejects(lin.compare(f0, f1), /already disposed/);
      f1.dispose();
    } finally {
      [lin, base, sq].forEach((m) => m.dispose());
    }
  },
});

Deno.test({
  ...needsTestData("LPIPS is differentiable: a gradient step on the input lowers the distance"),
  fn: async () => {
    const m = await LPIPS.create({ weightsDir: weightsDir(), quiet: true });
    try {
      const [ref, p1] = await Promise.all(["ex_ref", "ex_p1"].map(image));
      const target = tf.tensor4d(ref.data, ref.shape);
      const x = tf.tensor4d(p1.data, p1.shape);
      const before = tf.memory().numTensors;
      const loss = (v: tf.Tensor) =>
        tf.sum(m.distanceTensor(v as tf.Tensor4D, target)) as tf.Scalar;
      const [d0, d1, gnorm] = tf.tidy(() => {
        const g = tf.grad(loss)(x);
        const step = tf.clipByValue(
          tf.sub(x, tf.mul(g, 1e-2 / tf.max(tf.abs(g)).dataSync()[0])),
          -1,
          1,
        );
        return [loss(x).dataSync()[0], loss(step).dataSync()[0], tf.norm(g).dataSync()[0]];
      });
      assert.equal(tf.memory().numTensors, before);
      assert.ok(Number.isFinite(gnorm) && gnorm > 0, `gradient norm ${gnorm}`);
      assert.ok(d1 < d0, `a step against the gradient should lower the distance: ${d0} -> ${d1}`);
      tf.dispose([target, x]);
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  ...needsTestData("a second backend while models are open is a clear error, not a crash"),
  async fn() {
    const a = await LPIPS.create({ weightsDir: weightsDir(), quiet: true, engine: "tfjs" });
    try {
      await assert.rejects(
        LPIPS.create({ weightsDir: weightsDir(), quiet: true, backend: "cpu" }),
        /process-wide: 1 model\(s\) on "wasm" are still open/,
      );
    } finally {
      a.dispose();
    }
    const b = await LPIPS.create({ weightsDir: weightsDir(), quiet: true, backend: "cpu" });
    assert.equal(b.backend, "cpu");
    b.dispose();
  },
});

/** The exact error of every call on a disposed model. */
const DISPOSED = {
  name: "Error",
  message: "this LPIPS model was disposed; create a new one with LPIPS.create()",
};

for (const engine of ["onnx", "tfjs"] as const) {
  Deno.test({
    ...needsTestData(`${engine}: a disposed model refuses every call; dispose() twice is harmless`),
    sanitizeResources: false,
    fn: async () => {
      const before = tf.memory().numTensors;
      const m = await LPIPS.create({ engine, weightsDir: weightsDir(), quiet: true });
      assert.equal(m.engine, engine);
      const [ref, p0] = await Promise.all(["ex_ref", "ex_p0"].map(image));
      const f = await m.features(ref), g = await m.features(p0);
      m.dispose();
      m.dispose();
      await assert.rejects(m.distance(ref, p0), DISPOSED);
      await assert.rejects(m.distance(ref, p0, { spatial: true, perLayer: true }), DISPOSED);
      await assert.rejects(m.distance(ref, p0, { tile: 32 }), DISPOSED);
      await assert.rejects(m.features(ref), DISPOSED);
      await assert.rejects(m.compare(f, g), DISPOSED);
      const t = tf.tensor4d(ref.data, ref.shape);
      assert.throws(() => m.distanceTensor(t, t), DISPOSED);
      t.dispose();
      // Features outlive their model until disposed themselves (once or twice).
      assert.ok(!f.disposed);
      f.dispose();
      f.dispose();
      g.dispose();
      assert.equal(tf.memory().numTensors, before);
      // Another model is unaffected.
      const m2 = await LPIPS.create({ engine, weightsDir: weightsDir(), quiet: true });
      try {
        close(
          (await m2.distance(ref, p0))[0],
          (await golden("lpips.ex_p0.alex.v0.1.lin.scalar")).distance![0],
        );
      } finally {
        m2.dispose();
      }
    },
  });
}

for (const engine of ["onnx", "tfjs"] as const) {
  Deno.test({
    ...needsTestData(`${engine}: dispose() while calls run ends them with the disposed error`),
    sanitizeResources: false,
    fn: async () => {
      const before = tf.memory().numTensors;
      const m = await LPIPS.create({ engine, weightsDir: weightsDir(), quiet: true });
      const [ref, p0] = await Promise.all(["ex_ref", "ex_p0"].map(image));
      const f = await m.features(ref);
      // Started, not finished: each call is inside the engine when dispose() runs.
      const running = [
        m.distance(ref, p0),
        m.distance(ref, p0, { spatial: true, perLayer: true }),
        m.distance(ref, p0, { tile: 32 }),
        m.features(p0),
        m.compare(f, f),
      ];
      m.dispose();
      await Promise.all(running.map((call) => assert.rejects(call, DISPOSED)));
      f.dispose();
      // Freed once the last call ended: nothing is left behind.
      assert.equal(tf.memory().numTensors, before);
    },
  });
}

Deno.test({
  ...needsTestData("using: models and features are disposed at the end of their scope"),
  sanitizeResources: false,
  fn: async () => {
    const before = tf.memory().numTensors;
    const [ref, p0] = await Promise.all(["ex_ref", "ex_p0"].map(image));
    const want = (await golden("lpips.ex_p0.alex.v0.1.lin.scalar")).distance![0];
    let model: LPIPS, kept: Features[];
    {
      using m = await LPIPS.create({ engine: "tfjs", weightsDir: weightsDir(), quiet: true });
      model = m;
      close((await m.distance(ref, p0))[0], want);
      {
        using f = await m.features(ref);
        using g = await m.features(p0);
        kept = [f, g];
        close((await m.compare(f, g))[0], want);
      }
      assert.ok(kept.every((f) => f.disposed));
      await assert.rejects(m.compare(kept[0], kept[1]), /already disposed/);
    }
    await assert.rejects(model.distance(ref, p0), DISPOSED);
    assert.equal(tf.memory().numTensors, before);
    {
      using m = await LPIPS.create({ engine: "onnx", weightsDir: weightsDir(), quiet: true });
      model = m;
      using f = await m.features(ref), g = await m.features(p0);
      close((await m.compare(f, g))[0], want);
    }
    await assert.rejects(model.features(ref), DISPOSED);
    assert.equal(tf.memory().numTensors, before);
  },
});

Deno.test("create: an unknown version or engine is refused, naming VERSIONS / ENGINE_NAMES", async () => {
  assert.deepEqual(VERSIONS, ["0.1", "0.0"]);
  assert.deepEqual(ENGINE_NAMES, ["auto", "onnx", "tfjs"]);
  await assert.rejects(LPIPS.create({ version: "x" as never }), {
    name: "RangeError",
    message: 'unknown version "x" (expected "0.1" or "0.0")',
  });
  await assert.rejects(LPIPS.create({ engine: "x" as never }), {
    name: "RangeError",
    message: 'unknown engine "x" (expected "auto", "onnx" or "tfjs")',
  });
});
