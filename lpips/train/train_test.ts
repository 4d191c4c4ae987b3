import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import { needsTestData, testData } from "../../_internal/test_data.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { type MaskSource, Trainer } from "./trainer.ts";
import { Adam } from "./_adam.ts";
import { Prng } from "./_prng.ts";
import { initLinHeads, initTrunk } from "./_init.ts";
import { rankAccuracy } from "./_rank_head.ts";
import { arch } from "../arch.ts";
import { useBackend } from "../backend.ts";
import { conv2dPortableGrad } from "../_conv_grad.ts";
import { LPIPS } from "../lpips.ts";
import { readPth, toFloat32 } from "../pth/pth.ts";
import type { WeightMap } from "../tfjs_engine.ts";
import { listTwoAFC } from "../../bappsloader/layout.ts";
import { type TwoAFCBatch, twoAFCBatches } from "../../bappsloader/dataset.ts";
import { readNpy } from "../../bappsloader/npy.ts";

const TOL = 1e-5;
type Shape = [number, number, number, number];
const trace = (...p: string[]) => testData("bapps-mini", "training_trace", ...p);
const HEADS = [0, 1, 2, 3, 4].map((k) => `lin${k}.model.1.weight`);
const RANK = ["0", "2", "4"].flatMap((i) => [`model.${i}.weight`, `model.${i}.bias`]);

async function f32(path: string): Promise<Float32Array> {
  return (await readNpy(path)).data as Float32Array;
}

async function loadInit(): Promise<{ lin: WeightMap; rank: WeightMap }> {
  const lin: WeightMap = new Map(), rank: WeightMap = new Map();
  for (const k of HEADS) lin.set(k, await f32(trace("init", `${k}.npy`)));
  for (const k of RANK) rank.set(k, await f32(trace("init", `rank.${k}.npy`)));
  return { lin, rank };
}

let cachedBatches: TwoAFCBatch[] | undefined;
async function traceBatches(): Promise<TwoAFCBatch[]> {
  if (cachedBatches) return cachedBatches;
  const list = await listTwoAFC(testData("bapps-mini"), "train/traditional");
  const out: TwoAFCBatch[] = [];
  for await (const b of twoAFCBatches(list, { batchSize: 50 })) out.push(b);
  assert.equal(out.length, 6);
  return (cachedBatches = out);
}

/** Largest |a - b| over two arrays of the same length. */
function maxDev(a: ArrayLike<number>, b: ArrayLike<number>, what: string): number {
  assert.equal(a.length, b.length, `${what}: length`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function maskSource(step: number): Promise<MaskSource> {
  const cache = new Map<string, Uint8Array>();
  for (const pass of ["d0", "d1"]) {
    for (let k = 0; k < 5; k++) {
      const name = `step${String(step).padStart(2, "0")}_${pass}_lin${k}`;
      cache.set(
        `${pass}${k}`,
        (await readNpy(trace("dropout", "masks", `${name}.npy`))).data as Uint8Array,
      );
    }
  }
  return (pass, k, shape) => {
    const packed = cache.get(`${pass}${k}`)!;
    const n = shape.reduce((a, b) => a * b, 1);
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (packed[i >> 3] >> (7 - (i & 7))) & 1;
    return out;
  };
}

async function runTrace(
  variant: "nodropout" | "dropout",
  engine: "onnx" | "tfjs",
): Promise<Record<string, number>> {
  const init = await loadInit();
  const batches = await traceBatches();
  const t = await Trainer.create({
    net: "alex",
    mode: "lin",
    dropout: variant === "dropout",
    weightsDir: testData("weights"),
    quiet: true,
    initial: init,
    engine,
  });
  assert.equal(t.featureEngine, engine);
  const want = JSON.parse(await Deno.readTextFile(trace(variant, "trace.json"))).steps as {
    loss: number;
    acc_r_mean: number;
  }[];
  const d0s = await f32(trace(variant, "d0_per_step.npy"));
  const d1s = await f32(trace(variant, "d1_per_step.npy"));
  const outs = await f32(trace(variant, "rank_output_per_step.npy"));
  const dev: Record<string, number> = { loss: 0, acc: 0, d: 0, output: 0, grads: 0, weights: 0 };
  let tensorsAfterStep2 = 0;
  const up = (k: string, v: number) => (dev[k] = Math.max(dev[k], v));
  try {
    for (let s = 1; s <= 12; s++) {
      const masks = variant === "dropout" ? await maskSource(s) : undefined;
      const r = await t.step(batches[(s - 1) % 6], { masks, grads: s === 1 });
      if (s === 2) tensorsAfterStep2 = tf.memory().numTensors;
      if (s === 12) assert.equal(tf.memory().numTensors, tensorsAfterStep2, "tensor leak");
      up("loss", Math.abs(r.loss - want[s - 1].loss));
      up("acc", Math.abs(r.accuracy - want[s - 1].acc_r_mean));
      up("d", maxDev(r.d0, d0s.subarray((s - 1) * 50, s * 50), "d0"));
      up("d", maxDev(r.d1, d1s.subarray((s - 1) * 50, s * 50), "d1"));
      up("output", maxDev(r.output, outs.subarray((s - 1) * 50, s * 50), "output"));
      if (s === 1) {
        for (const k of HEADS) {
          up(
            "grads",
            maxDev(
              r.grads!.get(`net.${k}`)!,
              await f32(trace(variant, "grads_step01", `${k}.npy`)),
              k,
            ),
          );
        }
        for (const k of RANK) {
          up(
            "grads",
            maxDev(
              r.grads!.get(`rank.${k}`)!,
              await f32(trace(variant, "grads_step01", `rank.${k}.npy`)),
              k,
            ),
          );
        }
      }
      if (s === 1 || s === 6 || s === 12) {
        const dir = `after_step${String(s).padStart(2, "0")}`;
        const net = await t.netState(), rank = await t.rankState();
        for (const k of HEADS) {
          up("weights", maxDev(net.get(k)!.data, await f32(trace(variant, dir, `${k}.npy`)), k));
        }
        for (const k of RANK) {
          up(
            "weights",
            maxDev(rank.get(k)!.data, await f32(trace(variant, dir, `rank.${k}.npy`)), k),
          );
        }
      }
    }
  } finally {
    t.dispose();
  }
  console.log(`trace ${variant} (features on ${engine}): max deviations`, dev);
  return dev;
}

// `lin` takes the frozen trunk's features from ONNX Runtime by default; TF.js is the fallback.
for (const engine of ["onnx", "tfjs"] as const) {
  Deno.test({
    ...needsTestData(`train: 12 steps reproduce the reference trace without dropout (${engine})`),
    fn: async () => {
      const dev = await runTrace("nodropout", engine);
      for (const [k, v] of Object.entries(dev)) assert.ok(v <= TOL, `${k} deviates by ${v}`);
    },
  });

  Deno.test({
    ...needsTestData(
      `train: 12 steps reproduce the reference trace replaying its dropout masks (${engine})`,
    ),
    fn: async () => {
      const dev = await runTrace("dropout", engine);
      for (const [k, v] of Object.entries(dev)) assert.ok(v <= TOL, `${k} deviates by ${v}`);
    },
  });
}

Deno.test("adam: first step moves each parameter by lr against the gradient's sign", () => {
  const opt = new Adam({ lr: 1e-4, beta1: 0.5, beta2: 0.999, eps: 1e-8 });
  const p = new Float32Array([1, -1, 0.5]);
  opt.update("p", p, new Float32Array([0.3, -2, 0]));
  assert.ok(Math.abs(p[0] - (1 - 1e-4)) < 1e-7);
  assert.ok(Math.abs(p[1] - (-1 + 1e-4)) < 1e-7);
  assert.equal(p[2], 0.5);
  assert.equal(opt.state.get("p")!.step, 1);
});

Deno.test("prng: streams are reproducible and permutations complete", () => {
  const a = new Prng(7, 2, 3).permutation(100), b = new Prng(7, 2, 3).permutation(100);
  assert.deepEqual(a, b);
  assert.deepEqual([...a].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
  assert.notDeepEqual(a, new Prng(7, 2, 4).permutation(100));
});

Deno.test({
  ...needsTestData("train: a checkpoint round-trips and LPIPS.create({ linPath }) accepts it"),
  fn: async () => {
    const batches = await traceBatches();
    const dir = await Deno.makeTempDir({ prefix: "lpips_train_test_" });
    const t = await Trainer.create({
      net: "alex",
      seed: 3,
      weightsDir: testData("weights"),
      quiet: true,
    });
    try {
      for (let s = 0; s < 2; s++) await t.step(batches[s]);
      const state = {
        net: "alex" as const,
        mode: "lin" as const,
        seed: 3,
        epoch: 1,
        batch: 2,
        step: t.steps,
        lr: t.lr,
        dropout: true,
        clampTrunk1x1: true,
        batchSize: 50,
      };
      const path = await saveCheckpoint(t, dir, "latest", state);
      const net = await t.netState();
      const file = readPth(await Deno.readFile(path));
      assert.deepEqual([...file.keys()], [...net.keys()]);
      assert.ok(file.has("net.slice1.0.weight") && file.has("net.slice5.10.bias"));
      for (const [k, v] of net) {
        assert.deepEqual(file.get(k)!.shape, v.shape, k);
        assert.deepEqual(toFloat32(file.get(k)!), v.data, k);
      }
      const rank = readPth(await Deno.readFile(join(dir, "latest_net_rank.pth")));
      assert.deepEqual([...rank.keys()], RANK);
      // The metric loads the trained heads from the checkpoint.
      const m = await LPIPS.create({ linPath: path, weightsDir: testData("weights"), quiet: true });
      try {
        const b = batches[5];
        const want = await t.distance(b.ref, b.p0);
        const got = await m.distance(b.ref, b.p0);
        assert.ok(maxDev(got, want, "distances") <= 1e-6);
      } finally {
        m.dispose();
      }
      // Resume gives the same next step as continuing.
      const { trainer: u } = await loadCheckpoint(dir, "latest");
      try {
        const a = await t.step(batches[2]);
        const c = await u.step(batches[2]);
        assert.equal(c.loss, a.loss);
        const [na, nc] = [await t.netState(), await u.netState()];
        for (const k of HEADS) assert.deepEqual(nc.get(k)!.data, na.get(k)!.data, k);
      } finally {
        u.dispose();
      }
    } finally {
      t.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...needsTestData(
    "train: squeeze clamps its 1x1 trunk convs by default, not with clampTrunk1x1 off",
  ),
  fn: async () => {
    const b = (await traceBatches())[0];
    const small = {
      ref: { data: b.ref.data.subarray(0, 4 * 3 * 64 * 64), shape: [4, 3, 64, 64] as Shape },
      p0: { data: b.p0.data.subarray(0, 4 * 3 * 64 * 64), shape: [4, 3, 64, 64] as Shape },
      p1: { data: b.p1.data.subarray(0, 4 * 3 * 64 * 64), shape: [4, 3, 64, 64] as Shape },
      judge: b.judge.subarray(0, 4),
    };
    for (const clampTrunk1x1 of [true, false]) {
      const t = await Trainer.create({
        net: "squeeze",
        weightsDir: testData("weights"),
        quiet: true,
        clampTrunk1x1,
      });
      try {
        const before = await t.netState();
        const isOneByOne = (k: string) => /(squeeze|expand1x1)\.weight$/.test(k);
        assert.ok([...before].some(([k, v]) => isOneByOne(k) && v.data.some((x) => x < 0)));
        await t.step(small);
        for (const [k, v] of await t.netState()) {
          if (!k.startsWith("net.")) continue;
          if (clampTrunk1x1 && isOneByOne(k)) assert.ok(v.data.every((x) => x >= 0), k);
          else assert.deepEqual(v.data, before.get(k)!.data, k);
        }
      } finally {
        t.dispose();
      }
    }
  },
});

Deno.test({
  ...needsTestData(
    "train: lin on onnx uses the clamped squeeze trunk after step 1, as the tfjs engine does",
  ),
  fn: async () => {
    const b = (await traceBatches())[0];
    const n = 4, len = n * 3 * 64 * 64, shape = [n, 3, 64, 64] as Shape;
    const small = {
      ref: { data: b.ref.data.subarray(0, len), shape },
      p0: { data: b.p0.data.subarray(0, len), shape },
      p1: { data: b.p1.data.subarray(0, len), shape },
      judge: b.judge.subarray(0, n),
    };
    const d: Float32Array[][] = [];
    for (const engine of ["onnx", "tfjs"] as const) {
      using t = await Trainer.create({
        net: "squeeze",
        weightsDir: testData("weights"),
        quiet: true,
        dropout: false,
        engine,
      });
      const first = await t.step(small);
      const second = await t.step(small);
      d.push([first.d0, second.d0]);
    }
    // Step 1 runs on the unclamped trunk, step 2 on the clamped one: the distances move by far
    // more than the engines differ, so a stale ONNX trunk would fail the second comparison.
    assert.ok(maxDev(d[0][0], d[1][0], "step 1") <= 1e-5);
    assert.ok(maxDev(d[0][1], d[1][1], "step 2") <= 1e-5);
    assert.ok(maxDev(d[1][0], d[1][1], "steps 1 vs 2") > 1e-3);
  },
});

Deno.test({
  ...needsTestData(
    "train: tune on the tfjs engine (wasm) trains the trunk; without the portable conv grad it refuses",
  ),
  fn: async () => {
    const opts = {
      mode: "tune" as const,
      backend: "wasm" as const,
      quiet: true,
      engine: "tfjs" as const,
    };
    await assert.rejects(
      Trainer.create({ ...opts, weightsDir: testData("weights"), portableConvGrad: false }),
      /convolution gradients.*cpu, webgpu or tensorflow/,
    );
    const b = (await traceBatches())[0];
    const take = (x: { data: Float32Array }) => ({
      data: x.data.subarray(0, 2 * 3 * 64 * 64),
      shape: [2, 3, 64, 64] as Shape,
    });
    const tensors = tf.memory().numTensors;
    let random: Float32Array;
    {
      using scratch = await Trainer.create({ ...opts, mode: "scratch", seed: 4 });
      random = (await scratch.netState()).get("net.slice2.3.weight")!.data;
    }
    assert.equal(tf.memory().numTensors, tensors, "`using` freed the trainer's tensors");
    assert.ok(random.every((x) => Math.abs(x) <= 1 / Math.sqrt(64 * 25)));
    const t = await Trainer.create({ ...opts, weightsDir: testData("weights") });
    try {
      const before = await t.netState();
      assert.notDeepEqual(before.get("net.slice2.3.weight")!.data, random);
      const r = await t.step({
        ref: take(b.ref),
        p0: take(b.p0),
        p1: take(b.p1),
        judge: b.judge.subarray(0, 2),
      }, { grads: true });
      assert.ok(Number.isFinite(r.loss));
      const g = r.grads!.get("net.net.slice1.0.weight")!;
      assert.equal(g.length, 64 * 3 * 11 * 11);
      assert.ok(g.some((x) => x !== 0) && g.every(Number.isFinite));
      const after = await t.netState();
      for (const k of ["net.slice1.0.weight", "net.slice5.10.bias"]) {
        assert.notDeepEqual(after.get(k)!.data, before.get(k)!.data, k);
      }
    } finally {
      t.dispose();
    }
  },
});

Deno.test("conv2dPortableGrad: same value and gradients as conv2d's own kernels (cpu)", async () => {
  await useBackend("cpu");
  try {
    const rng = new Prng(11);
    const rand = (shape: number[]) =>
      tf.tensor(
        Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()),
        shape,
      );
    for (
      const [k, stride, pad, size] of [[11, 4, 2, 31], [3, 1, 1, 7], [1, 1, 0, 5], [3, 2, 0, 9]]
    ) {
      const x = rand([2, size, size, 3]) as tf.Tensor4D;
      const w = rand([k, k, 3, 4]) as tf.Tensor4D;
      const padding = pad === 0 ? "valid" : [[0, 0], [pad, pad], [pad, pad], [0, 0]] as [
        [number, number],
        [number, number],
        [number, number],
        [number, number],
      ];
      const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, y));
      const native = tf.grads((a, b) =>
        loss(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, padding))
      )([x, w]);
      const ours = tf.grads((a, b) =>
        loss(conv2dPortableGrad(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad))
      )([x, w]);
      for (let i = 0; i < 2; i++) {
        const dev = maxDev(await ours[i].data(), await native[i].data(), `grad ${i}`);
        assert.ok(dev <= 1e-5 * Math.max(1, ...await tf.abs(native[i]).data()), `k${k}: ${dev}`);
      }
      tf.dispose([x, w, ...native, ...ours]);
    }
  } finally {
    await useBackend("wasm");
  }
});

Deno.test("init: torchvision-like random trunks and PyTorch's default head init", () => {
  const rng = new Prng(5);
  const alex = initTrunk(arch("alex"), rng);
  const w = alex.get("features.3.weight")!;
  assert.equal(w.length, 192 * 64 * 5 * 5);
  const bound = 1 / Math.sqrt(64 * 25);
  assert.ok(w.every((x) => Math.abs(x) <= bound) && w.some((x) => Math.abs(x) > 0.9 * bound));
  const sq = initTrunk(arch("squeeze"), rng);
  assert.ok(sq.get("features.3.squeeze.bias")!.every((x) => x === 0));
  const heads = initLinHeads(arch("alex"), rng);
  assert.ok(heads.get("lin2.model.1.weight")!.every((x) => Math.abs(x) <= 1 / Math.sqrt(384)));
});

Deno.test("rank accuracy counts ties as choosing p0, as the reference", () => {
  assert.equal(rankAccuracy([0.5, 0.2], [0.5, 0.1], [1, 1]), 0.5);
  assert.equal(rankAccuracy([0.2], [0.3], [0.25]), 0.75);
});

Deno.test("train: an unknown engine is named", async () => {
  await assert.rejects(
    // @ts-expect-error: not an engine name
    () => Trainer.create({ engine: "torch" }),
    /unknown engine "torch" \(expected auto, onnx, tfjs\)/,
  );
});

// tune and scratch run the whole step on ONNX Runtime by default; Adam, the clamps and the
// dropout masks drawn from the seed are the same code on both engines. (onnx_step_test.ts checks the ONNX graphs against the
// reference's autograd, squeeze included.)
for (const mode of ["tune", "scratch"] as const) {
  Deno.test({
    ...needsTestData(
      `train: ${mode} on onnx takes the steps of the tfjs engine (alex, dropout, 3 steps), and its checkpoint reads back`,
    ),
    fn: async () => {
      const batches = await traceBatches();
      const n = 4, len = n * 3 * 64 * 64, shape = [n, 3, 64, 64] as Shape;
      const small = batches.slice(0, 3).map((b) => ({
        ref: { data: b.ref.data.subarray(0, len), shape },
        p0: { data: b.p0.data.subarray(0, len), shape },
        p1: { data: b.p1.data.subarray(0, len), shape },
        judge: b.judge.subarray(0, n),
      }));
      const opts = { net: "alex" as const, mode, seed: 3, weightsDir: testData("weights") };
      const runs = [];
      for (const engine of ["onnx", "tfjs"] as const) {
        using t = await Trainer.create({ ...opts, quiet: true, engine });
        assert.equal(t.featureEngine, engine);
        const steps = [];
        for (const b of small) steps.push(await t.step(b, { grads: true }));
        runs.push({ steps, net: await t.netState(), rank: await t.rankState() });
        if (engine === "onnx") {
          const dir = await Deno.makeTempDir({ prefix: "lpips_train_test_" });
          try {
            const state = {
              net: "alex" as const,
              mode,
              seed: 3,
              epoch: 1,
              batch: 3,
              step: t.steps,
              lr: t.lr,
              dropout: true,
              clampTrunk1x1: true,
              batchSize: n,
            };
            const file = readPth(
              await Deno.readFile(await saveCheckpoint(t, dir, "latest", state)),
            );
            const net = await t.netState();
            assert.deepEqual([...file.keys()], [...net.keys()]);
            for (const [k, v] of net) assert.deepEqual(toFloat32(file.get(k)!), v.data, k);
            // Resuming (Adam's moments included) takes the step that continuing takes.
            const { trainer: u } = await loadCheckpoint(dir, "latest");
            try {
              assert.equal(u.featureEngine, "onnx");
              const [a, c] = [await t.step(small[0]), await u.step(small[0])];
              assert.equal(c.loss, a.loss);
              const [na, nc] = [await t.netState(), await u.netState()];
              for (const [k, v] of na) assert.deepEqual(nc.get(k)!.data, v.data, k);
            } finally {
              u.dispose();
            }
          } finally {
            await Deno.remove(dir, { recursive: true });
          }
        }
      }
      const [onnx, tfjs] = runs;
      for (let s = 0; s < small.length; s++) {
        const [a, b] = [onnx.steps[s], tfjs.steps[s]];
        assert.ok(Math.abs(a.loss - b.loss) <= TOL, `step ${s + 1} loss`);
        assert.ok(maxDev(a.d0, b.d0, "d0") <= TOL && maxDev(a.d1, b.d1, "d1") <= TOL);
        assert.ok(maxDev(a.output, b.output, "output") <= TOL);
        assert.deepEqual([...a.grads!.keys()].sort(), [...b.grads!.keys()].sort());
        // From step 2 on, the engines' weights differ by float rounding (about 1e-6), which can
        // move a max-pool argmax or a ReLU kink: later gradients are checked by their effect on
        // the weights below.
        if (s > 0) continue;
        for (const [k, g] of b.grads!) {
          const rel = maxDev(a.grads!.get(k)!, g, k) /
            g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          assert.ok(rel <= 1e-4, `step ${s + 1} ${k}: relative gradient deviation ${rel}`);
        }
      }
      // Adam moves a weight by about lr times the sign of its gradient's running mean, so where
      // that is near 0 the engines' rounding (and, from step 2, an argmax or ReLU kink moved by it)
      // can make a move of up to 2 lr: measured, 0.18% of alex conv2's weights deviate by more than
      // 1e-5 after 3 tune steps (at most 7.5e-5). A layout error would move most of them.
      for (const [k, v] of tfjs.net) {
        const got = onnx.net.get(k)!.data;
        const off = v.data.filter((x, i) => Math.abs(got[i] - x) > TOL).length / v.data.length;
        assert.ok(off <= 1e-2, `${k}: ${off} of the weights deviate by more than ${TOL}`);
      }
      for (const [k, v] of tfjs.rank) {
        assert.ok(maxDev(onnx.rank.get(k)!.data, v.data, k) <= TOL, k);
      }
    },
  });
}
