import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { LPIPS, type LPIPSOptions } from "./lpips.ts";
import { arch, type NetName } from "./arch.ts";
import { loadLinWeights, loadTrunkWeights } from "./weight_files.ts";
import type { Nchw } from "./engine.ts";
import { loadOrt, OnnxLpips } from "./onnx_engine.ts";
import { GraphBuilder } from "./onnx_proto.ts";
import type { ImageTensor } from "../bappsloader/image.ts";

/** Deterministic inputs in [-1, 1]. */
function noise(shape: [number, number, number, number], seed: number): ImageTensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = Math.fround((s / 2 ** 32) * 2 - 1);
  }
  return { data, shape };
}

function model(net: NetName, engine: "onnx" | "tfjs", extra: LPIPSOptions = {}) {
  return LPIPS.create({
    net,
    engine,
    weightsDir: testData("weights"),
    trunkPath: net === "vgg" ? testData("weights", "vgg16-random-seed0.pth") : undefined,
    quiet: true,
    ...extra,
  });
}

function assertClose(got: Float32Array, want: Float32Array, tol: number, what: string) {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  assert.ok(worst <= tol, `${what}: max |deviation| ${worst} > ${tol}`);
}

Deno.test("the protobuf encoder writes a model ONNX Runtime loads and runs", async () => {
  const ort = await loadOrt();
  const g = new GraphBuilder();
  const x = g.input("x", ["N", 3]);
  const w = g.floats([3, 2], [1, 2, 3, 4, 5, 6]);
  g.output("y", g.node("Relu", [g.node("MatMul", [x, w])]), ["N", 2]);
  const s = await ort.InferenceSession.create(g.model(), { logSeverityLevel: 3 });
  try {
    const out = await s.run({
      x: new ort.Tensor("float32", Float32Array.of(1, 1, 1, -1, 0, 0), [2, 3]),
    });
    assert.deepEqual([...out.y.data as Float32Array], [9, 12, 0, 0]);
    assert.deepEqual(out.y.dims, [2, 2]);
  } finally {
    await s.release();
  }
});

for (const net of ["alex", "squeeze", "vgg"] as const) {
  Deno.test({
    ...needsTestData(
      `onnx and tfjs engines agree on ${net} (scalar, spatial, per layer, baseline)`,
    ),
    sanitizeResources: false,
    fn: async () => {
      const size: [number, number] = net === "vgg" ? [33, 40] : [45, 61];
      const a = noise([2, 3, ...size], 1), b = noise([2, 3, ...size], 2);
      for (const lpips of [true, false]) {
        const mo = await model(net, "onnx", { lpips }), mt = await model(net, "tfjs", { lpips });
        try {
          assert.equal(mo.engine, "onnx");
          assert.equal(mt.engine, "tfjs");
          for (const spatial of [false, true]) {
            const ro = await mo.distance(a, b, { spatial, perLayer: true });
            const rt = await mt.distance(a, b, { spatial, perLayer: true });
            const what = `${net} lpips=${lpips} spatial=${spatial}`;
            assertClose(ro.distance, rt.distance, 1e-5, what);
            ro.layers!.forEach((l, k) => assertClose(l, rt.layers![k], 1e-5, `${what} layer ${k}`));
            if (spatial) {
              assert.deepEqual(ro.map!.shape, [2, 1, ...size]);
              assertClose(ro.map!.data, rt.map!.data, 1e-5, `${what} map`);
            }
          }
        } finally {
          mo.dispose();
          mt.dispose();
        }
      }
    },
  });
}

Deno.test({
  ...needsTestData("onnx: features + compare equal the fused graph; normalize; tensors in"),
  sanitizeResources: false,
  fn: async () => {
    const m = await model("squeeze", "onnx");
    try {
      const a = noise([3, 3, 50, 50], 3), b = noise([3, 3, 50, 50], 4);
      const fused = await m.distance(a, b, { spatial: true, perLayer: true });
      const fa = await m.features(a), fb = await m.features(b);
      assert.equal(fa.engine, "onnx");
      const split = await m.compare(fa, fb, { spatial: true, perLayer: true });
      assertClose(split.map!.data, fused.map!.data, 1e-6, "map");
      assertClose(await m.compare(fa, fb), await m.distance(a, b), 1e-6, "scalar");
      fa.dispose();
      fb.dispose();
      await assert.rejects(m.compare(fa, fb), /already disposed/);
      // [0, 1] inputs with normalize: the same as mapping them to [-1, 1] first.
      const to01 = (x: ImageTensor): ImageTensor => ({
        data: x.data.map((v) => (v + 1) / 2),
        shape: x.shape,
      });
      const n = await m.distance(to01(a), to01(b), { normalize: true });
      assertClose(n.distance, await m.distance(a, b), 1e-5, "normalize");
      const ta = tf.tensor4d(a.data, a.shape), tb = tf.tensor4d(b.data, b.shape);
      assertClose(await m.distance(ta, tb), await m.distance(a, b), 0, "tensor inputs");
      tf.dispose([ta, tb]);
      // Gradients still run on TF.js.
      const ga = tf.tensor4d(a.data, a.shape), gb = tf.tensor4d(b.data, b.shape);
      const g = tf.grad((x: tf.Tensor) => tf.sum(m.distanceTensor(x as tf.Tensor4D, gb)))(ga);
      assert.deepEqual(g.shape, a.shape);
      assert.ok((await g.data()).some((v) => v !== 0));
      tf.dispose([ga, gb, g]);
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  ...needsTestData("onnx: a triplet graph runs the reference once and equals two pairs"),
  sanitizeResources: false,
  fn: async () => {
    const a = arch("alex");
    const trunk = await loadTrunkWeights(a, { weightsDir: testData("weights"), quiet: true });
    const lin = await loadLinWeights(a, "0.1", { weightsDir: testData("weights"), quiet: true });
    const e = new OnnxLpips(await loadOrt(), a, { version: "0.1", lpips: true }, trunk, lin, {
      threads: 1,
    });
    try {
      const x: Nchw[] = [1, 2, 3].map((s) => noise([4, 3, 64, 64], s));
      const [d0, d1] = await e.distances(x, [[0, 1], [0, 2]]);
      const [p0] = await e.distances([x[0], x[1]]);
      const [p1] = await e.distances([x[0], x[2]]);
      assertClose(d0.total, p0.total, 1e-7, "d0");
      assertClose(d1.total, p1.total, 1e-7, "d1");
    } finally {
      await e.dispose();
    }
  },
});

Deno.test({
  ...needsTestData(
    "auto picks onnx (with --allow-ffi); features of one engine are refused by the other",
  ),
  sanitizeResources: false,
  fn: async () => {
    const auto = await LPIPS.create({ weightsDir: testData("weights"), quiet: true });
    assert.equal(auto.engine, "onnx");
    auto.dispose();
    const mo = await model("alex", "onnx"), mt = await model("alex", "tfjs");
    try {
      const x = noise([1, 3, 64, 64], 5);
      const fo = await mo.features(x), ft = await mt.features(x);
      await assert.rejects(mt.compare(fo, ft), /onnx engine cannot be compared on the tfjs engine/);
      await assert.rejects(mo.compare(ft, fo), /tfjs engine cannot be compared on the onnx engine/);
      fo.dispose();
      ft.dispose();
    } finally {
      mo.dispose();
      mt.dispose();
    }
  },
});

Deno.test({
  ...needsTestData(
    "onnx on webgpu: the CPU's distances on a GPU Dawn supports; elsewhere an error that says so",
  ),
  fn: async () => {
    using cpu = await model("alex", "onnx");
    using gpu = await model("alex", "onnx", { onnxDevice: "webgpu" });
    const a = noise([2, 3, 64, 64], 1), b = noise([2, 3, 64, 64], 2);
    let d: Float32Array;
    try {
      d = await gpu.distance(a, b);
    } catch (e) {
      // Machines without a GPU (CI's lavapipe included: Dawn refuses it).
      assert.match(
        (e as Error).message,
        /^onnx engine on webgpu: ONNX Runtime's WebGPU execution provider \(Dawn\) found no GPU adapter it supports \(.+\)$/,
      );
      return;
    }
    assertClose(d, await cpu.distance(a, b), 1e-4, "webgpu vs cpu");
  },
});
