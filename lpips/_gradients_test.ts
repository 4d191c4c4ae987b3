import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { GRADIENTS, registerGradients } from "./_gradients.ts";
import { useBackend } from "./backend.ts";
import { LPIPS } from "./lpips.ts";
import { needsTestData, testData } from "../_internal/test_data.ts";

registerGradients();

/** A small seeded generator (mulberry32): inputs differ per case but never between runs. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * How an input's values are drawn: `signed` stays 0.05 away from 0 (the kinks of relu and leaky
 * relu), `positive` is in [0.5, 2] (log, sqrt, a divisor), `distinct` puts every value on its own
 * step of 0.1 (offset by `shift`), so max and maxPool never tie within the finite-difference step.
 */
type Kind = "signed" | "positive" | { distinct: number };

interface Input {
  shape: number[];
  kind: Kind;
}

interface Case {
  kernel: string;
  what: string;
  inputs: Input[];
  f: (xs: tf.Tensor[]) => tf.Tensor;
}

const sig = (...shape: number[]): Input => ({ shape, kind: "signed" });
const pos = (...shape: number[]): Input => ({ shape, kind: "positive" });
const distinct = (shift: number, ...shape: number[]): Input => ({
  shape,
  kind: { distinct: shift },
});

// The binary ops broadcast both operands: (2, 1, 4) with (3, 1) gives (2, 3, 4).
const CASES: Case[] = [
  {
    kernel: tf.Add,
    what: "broadcast",
    inputs: [sig(2, 1, 4), sig(3, 1)],
    f: ([a, b]) => tf.add(a, b),
  },
  {
    kernel: tf.Sub,
    what: "broadcast",
    inputs: [sig(2, 1, 4), sig(3, 1)],
    f: ([a, b]) => tf.sub(a, b),
  },
  {
    kernel: tf.Multiply,
    what: "broadcast",
    inputs: [sig(2, 1, 4), sig(3, 1)],
    f: ([a, b]) => tf.mul(a, b),
  },
  {
    kernel: tf.RealDiv,
    what: "broadcast",
    inputs: [sig(2, 1, 4), pos(3, 1)],
    f: ([a, b]) => tf.div(a, b),
  },
  {
    kernel: tf.Maximum,
    what: "broadcast",
    inputs: [distinct(0.05, 2, 1, 4), distinct(0, 3, 1)],
    f: ([a, b]) => tf.maximum(a, b),
  },
  {
    kernel: tf.SquaredDifference,
    what: "broadcast",
    inputs: [sig(2, 1, 4), sig(3, 1)],
    f: ([a, b]) => tf.squaredDifference(a, b),
  },
  { kernel: tf.Neg, what: "", inputs: [sig(2, 3)], f: ([x]) => tf.neg(x) },
  { kernel: tf.Square, what: "", inputs: [sig(2, 3)], f: ([x]) => tf.square(x) },
  { kernel: tf.Sqrt, what: "", inputs: [pos(2, 3)], f: ([x]) => tf.sqrt(x) },
  { kernel: tf.Log, what: "", inputs: [pos(2, 3)], f: ([x]) => tf.log(x) },
  { kernel: tf.Relu, what: "", inputs: [sig(3, 4)], f: ([x]) => tf.relu(x) },
  {
    kernel: tf.LeakyRelu,
    what: "alpha 0.2",
    inputs: [sig(3, 4)],
    f: ([x]) => tf.leakyRelu(x, 0.2),
  },
  { kernel: tf.Sigmoid, what: "", inputs: [sig(3, 4)], f: ([x]) => tf.sigmoid(x) },
  { kernel: tf.Reshape, what: "", inputs: [sig(2, 3, 4)], f: ([x]) => tf.reshape(x, [6, 4]) },
  {
    kernel: tf.Transpose,
    what: "a permutation that is not its own inverse",
    inputs: [sig(2, 3, 4)],
    f: ([x]) => tf.transpose(x, [2, 0, 1]),
  },
  { kernel: tf.Sum, what: "two axes", inputs: [sig(2, 3, 4)], f: ([x]) => tf.sum(x, [0, 2]) },
  { kernel: tf.Sum, what: "keepDims", inputs: [sig(2, 3, 4)], f: ([x]) => tf.sum(x, -1, true) },
  { kernel: tf.Mean, what: "", inputs: [sig(2, 3, 4)], f: ([x]) => tf.mean(x, [1, 2]) },
  {
    kernel: tf.PadV2,
    what: "uneven padding",
    inputs: [sig(2, 3)],
    f: ([x]) => tf.pad(x, [[1, 0], [0, 2]], -5),
  },
  {
    kernel: tf.Concat,
    what: "axis 1",
    inputs: [sig(2, 2, 3), sig(2, 1, 3)],
    f: (xs) => tf.concat(xs, 1),
  },
  { kernel: tf.Pack, what: "axis 1", inputs: [sig(2, 3), sig(2, 3)], f: (xs) => tf.stack(xs, 1) },
  ...[false, true].flatMap((ta) =>
    [false, true].map((tb): Case => ({
      kernel: tf.BatchMatMul,
      what: `transposeA ${ta}, transposeB ${tb}, broadcast batch`,
      inputs: [sig(2, ...(ta ? [4, 3] : [3, 4])), sig(1, ...(tb ? [5, 4] : [4, 5]))],
      f: ([a, b]) => tf.matMul(a, b, ta, tb),
    }))
  ),
  {
    kernel: tf.Conv2D,
    what: "stride 2, explicit padding",
    inputs: [sig(2, 5, 5, 2), sig(3, 3, 2, 3)],
    f: ([x, w]) =>
      tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]),
  },
  {
    kernel: tf.Conv2D,
    what: "stride 1, valid",
    inputs: [sig(1, 4, 4, 2), sig(2, 2, 2, 1)],
    f: ([x, w]) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "valid"),
  },
  {
    kernel: tf.MaxPool,
    what: "3x3 windows, stride 2",
    inputs: [distinct(0, 1, 5, 5, 2)],
    f: ([x]) => tf.maxPool(x as tf.Tensor4D, 3, 2, "valid"),
  },
];

function draw(input: Input, next: () => number): Float32Array {
  const n = input.shape.reduce((a, b) => a * b, 1);
  const { kind } = input;
  if (kind === "signed") {
    return Float32Array.from({ length: n }, () => (next() < 0.5 ? -1 : 1) * (0.05 + next()));
  }
  if (kind === "positive") return Float32Array.from({ length: n }, () => 0.5 + 1.5 * next());
  // A shuffled ladder of steps 0.1 apart (Fisher-Yates), near 0, plus the shift.
  const steps = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [steps[i], steps[j]] = [steps[j], steps[i]];
  }
  return Float32Array.from(steps, (s) => 0.1 * (s - Math.floor(n / 2)) + kind.distinct);
}

/** The finite-difference step; the inputs keep every kink at least 2.5 steps away. */
const H = 0.02;
/**
 * The allowed |analytic - central difference| per element, relative to max(1, |gradient|). The
 * loss is read back and weighted in float64, so float32 rounding adds about 1e-6; the truncation
 * error h^2 f'''/6 of the smooth ops is at most 5e-4 on these inputs (log at 0.5). A wrong
 * formula, axis, slice or transpose is off by O(1).
 */
const TOL = 1e-3;

Deno.test("every registered gradient matches central differences on the cpu backend", async () => {
  await useBackend("cpu");
  assert.deepEqual(
    new Set(CASES.map((c) => c.kernel)),
    new Set(GRADIENTS.map((g) => g.kernelName)),
    "each registered gradient has a case and each case a registered gradient",
  );
  const before = tf.memory().numTensors;
  let seed = 1;
  for (const c of CASES) {
    const label = `${c.kernel}${c.what ? ` (${c.what})` : ""}`;
    const next = rng(seed++);
    const xs = c.inputs.map((inp) => draw(inp, next));
    const outShape = tf.tidy(() => c.f(xs.map((x, i) => tf.tensor(x, c.inputs[i].shape))).shape);
    const weights = Float64Array.from(
      { length: outShape.reduce((a, b) => a * b, 1) },
      () => next() * 2 - 1,
    );
    const loss = (values: Float32Array[]): number => {
      const y = tf.tidy(() => c.f(values.map((x, i) => tf.tensor(x, c.inputs[i].shape))));
      const data = y.dataSync() as Float32Array;
      y.dispose();
      return data.reduce((s, v, i) => s + v * weights[i], 0);
    };
    // The case must run through this kernel's gradient: a counting wrapper stands in for it.
    const ours = tf.getGradient(c.kernel)!;
    let calls = 0;
    tf.registerGradient({
      ...ours,
      gradFunc: (...args) => {
        calls++;
        return ours.gradFunc(...args);
      },
    });
    let grads: Float32Array[];
    try {
      grads = tf.tidy(() => {
        const inputs = xs.map((x, i) => tf.tensor(x, c.inputs[i].shape));
        const w = tf.tensor(Float32Array.from(weights), outShape);
        return tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(c.f(t), w)))(inputs)
          .map((g) => g.dataSync().slice() as Float32Array);
      });
    } finally {
      tf.registerGradient(ours);
    }
    assert.ok(calls > 0, `${label}: the case never used the ${c.kernel} gradient`);
    xs.forEach((x, i) => {
      for (let j = 0; j < x.length; j++) {
        const up = xs.map((v) => v.slice()), down = xs.map((v) => v.slice());
        up[i][j] += H;
        down[i][j] -= H;
        const fd = (loss(up) - loss(down)) / (2 * H);
        const g = grads[i][j];
        assert.ok(
          Math.abs(g - fd) <= TOL * Math.max(1, Math.abs(g)),
          `${label}: input ${i} element ${j}: gradient ${g}, central difference ${fd}`,
        );
      }
    });
  }
  assert.equal(tf.memory().numTensors, before, "tensor leak");
  await useBackend("wasm");
});

Deno.test("the conv2d gradient refuses dilations instead of returning a wrong gradient", async () => {
  await useBackend("cpu");
  try {
    const x = tf.ones([1, 6, 6, 1]), w = tf.ones([2, 2, 1, 1]);
    assert.throws(
      () =>
        tf.grad((t: tf.Tensor) =>
          tf.sum(tf.conv2d(t as tf.Tensor4D, w as tf.Tensor4D, 1, "valid", "NHWC", 2))
        )(x),
      /conv2d gradient: dilations 2 are not supported \(only 1\)/,
    );
    tf.dispose([x, w]);
  } finally {
    await useBackend("wasm");
  }
});

Deno.test("registerGradients keeps a gradient that is already registered (e.g. TF.js's own)", () => {
  const ours = tf.getGradient(tf.Neg)!;
  const theirs: tf.GradConfig = { kernelName: tf.Neg, gradFunc: ours.gradFunc };
  tf.registerGradient(theirs);
  try {
    registerGradients();
    assert.equal(tf.getGradient(tf.Neg), theirs);
  } finally {
    tf.registerGradient(ours);
  }
  registerGradients();
  assert.equal(tf.getGradient(tf.Neg), ours);
});

Deno.test({
  ...needsTestData("the LPIPS input gradient is the same on wasm and webgpu as on cpu"),
  sanitizeResources: false,
  fn: async () => {
    const next = rng(7);
    const shape: [number, number, number, number] = [1, 3, 64, 64];
    const img = () => Float32Array.from({ length: 3 * 64 * 64 }, () => next() * 2 - 1);
    const a = img(), b = img();
    const gradient = async (backend: "cpu" | "wasm" | "webgpu", net: "alex" | "squeeze") => {
      const m = await LPIPS.create({
        net,
        engine: "tfjs",
        backend,
        weightsDir: testData("weights"),
        quiet: true,
      });
      try {
        const g = tf.tidy(() => {
          const target = tf.tensor4d(b, shape);
          return tf.grad((x: tf.Tensor) => tf.sum(m.distanceTensor(x as tf.Tensor4D, target)))(
            tf.tensor4d(a, shape),
          );
        });
        const data = await g.data() as Float32Array;
        g.dispose();
        return data;
      } finally {
        m.dispose();
      }
    };
    const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    const backends: ("wasm" | "webgpu")[] = ["wasm"];
    if (await gpu?.requestAdapter()) backends.push("webgpu");
    else if (Deno.env.get("CI")) throw new Error("CI needs a WebGPU adapter (mesa-vulkan-drivers)");
    else console.warn("webgpu part skipped: no WebGPU adapter on this machine");
    try {
      for (const net of ["alex", "squeeze"] as const) {
        const want = await gradient("cpu", net);
        const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        assert.ok(scale > 0, `${net}: zero gradient`);
        for (const backend of backends) {
          const got = await gradient(backend, net);
          let dev = 0;
          for (let i = 0; i < got.length; i++) dev = Math.max(dev, Math.abs(got[i] - want[i]));
          // The backends sum in different orders (float32); 1e-4 of the largest component.
          assert.ok(dev <= 1e-4 * scale, `${net} on ${backend}: deviates by ${dev} (max ${scale})`);
        }
      }
    } finally {
      await useBackend("wasm");
    }
  },
});
