/**
 * LPIPS as a loss, side by side with PyTorch: `deno run -A bench/gradient_bench.ts [options]`.
 *
 * Each workload is an Adam step on an image toward a target (forward, backward of the summed
 * distances, Adam update, clamp to [-1, 1]): ours with `LPIPS.distanceWithGradient` on the onnx
 * engine and the update in plain TypeScript; PyTorch with the reference implementation's own
 * LPIPS (`bench/gradient_torch.py`, 2 threads, `torch.optim.Adam`). Rounds alternate between the
 * two sides (A B A B) and the table gives each side's steps/s range over the rounds and the range
 * (and median) of the per-round ratios.
 *
 * Options: `--workloads alex64x8,alex256x1,squeeze64x8,vgg64x8` (net, side, batch),
 * `--rounds R` (default 3), `--seconds S` per side and round (default 2), `--threads N` (ONNX
 * Runtime's intra-op threads, default 2; `TORCH_THREADS` sets PyTorch's, default 2: on a loaded
 * machine 1 and 1 compare the two without OpenMP's spinning), `--python PATH`, `--tfjs` (also time the TF.js path
 * that `distanceTensor` users take: `tf.grad` over it on the wasm backend, one thread).
 * `--layers`: instead, time each stride-1 convolution's input gradient both ways, `ConvTranspose`
 * with the forward weights and `Conv` with the flipped ones, at 64x64 batch 8 and 256x256
 * batch 1 (what `flippedConv` in lpips/onnx_backward.ts is chosen from).
 * Weights: `LPIPS_WEIGHTS_DIR`, else the test data's `weights/` (`LPIPS_TEST_DATA`, `../shared`);
 * VGG runs on the test data's random-weight trunk (same speed).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { LPIPS } from "../lpips/lpips.ts";
import { arch, convLayers, layerSizes, type NetName } from "../lpips/arch.ts";
import { loadOrt } from "../lpips/onnx_engine.ts";
import { GraphBuilder } from "../lpips/onnx_proto.ts";
import { TorchWorker } from "./_torch_worker.ts";
import * as tf from "@tensorflow/tfjs-core";

const args = parseArgs({
  args: Deno.args,
  options: {
    workloads: { type: "string", default: "alex64x8,alex256x1,squeeze64x8,vgg64x8" },
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "2" },
    threads: { type: "string", default: "2" },
    python: { type: "string", default: "/usr/bin/python3" },
    layers: { type: "boolean", default: false },
    tfjs: { type: "boolean", default: false },
  },
});

const weightsDir = Deno.env.get("LPIPS_WEIGHTS_DIR") ??
  join(Deno.env.get("LPIPS_TEST_DATA") ?? "../shared", "weights");
const threads = Number(args.values.threads);
const LR = 0.01;

/** torch.optim.Adam's update (betas 0.9, 0.999; eps 1e-8), then a clamp to [-1, 1]. */
class Adam {
  readonly #m: Float32Array;
  readonly #v: Float32Array;
  #t = 0;
  constructor(n: number, readonly lr: number) {
    this.#m = new Float32Array(n);
    this.#v = new Float32Array(n);
  }
  step(x: Float32Array, g: Float32Array): void {
    const b1 = 0.9, b2 = 0.999;
    this.#t++;
    const stepSize = this.lr / (1 - b1 ** this.#t), c2 = Math.sqrt(1 - b2 ** this.#t);
    const m = this.#m, v = this.#v;
    for (let i = 0; i < x.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const y = x[i] - stepSize * m[i] / (Math.sqrt(v[i]) / c2 + 1e-8);
      x[i] = y < -1 ? -1 : y > 1 ? 1 : y;
    }
  }
}

function uniform(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

function parseWorkload(w: string): { net: NetName; size: number; batch: number } {
  const m = /^(alex|squeeze|vgg)(\d+)x(\d+)$/.exec(w);
  if (!m) throw new Error(`bad workload "${w}" (e.g. alex64x8)`);
  return { net: m[1] as NetName, size: Number(m[2]), batch: Number(m[3]) };
}

const range = (v: number[]) =>
  `${Math.min(...v).toFixed(2)}-${Math.max(...v).toFixed(2)}`.padStart(13);
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};

async function adamSteps() {
  const torch = new TorchWorker(args.values.python, "gradient_torch.py");
  const rounds = Number(args.values.rounds), seconds = Number(args.values.seconds);
  console.log(
    `Adam steps/s, ${rounds} alternating rounds of ~${seconds} s a side; ONNX Runtime ` +
      `${threads} threads, PyTorch ${
        Deno.env.get("TORCH_THREADS") ?? 2
      } threads (${navigator.hardwareConcurrency} cores, shared)`,
  );
  const tfjsToo = args.values.tfjs;
  console.log(
    "workload        |  PyTorch     |  ours (onnx) |  ratio (median)      " +
      (tfjsToo ? "          |  tf.grad (wasm) | ratio" : ""),
  );
  try {
    for (const w of args.values.workloads.split(",")) {
      const { net, size, batch } = parseWorkload(w);
      const shape: [number, number, number, number] = [batch, 3, size, size];
      const n = shape.reduce((p, d) => p * d, 1);
      const m = await LPIPS.create({
        net,
        engine: "onnx",
        threads,
        weightsDir,
        trunkPath: net === "vgg" ? join(weightsDir, "vgg16-random-seed0.pth") : undefined,
        quiet: true,
      });
      const x = { data: uniform(n, 1), shape }, target = { data: uniform(n, 2), shape };
      const adam = new Adam(n, LR);
      const ours = async (steps: number) => {
        const t0 = performance.now();
        for (let s = 0; s < steps; s++) {
          const { gradient } = await m.distanceWithGradient(x, target);
          adam.step(x.data, gradient.data);
        }
        return (performance.now() - t0) / 1000;
      };
      await torch.call({ cmd: "setup", net, shape, lr: LR });
      // Warm-up (sessions, allocations), and the step counts that take ~seconds a side.
      const kOurs = Math.max(2, Math.round(seconds / (await ours(3)) * 3));
      const tTorch = (await torch.call({ cmd: "run", steps: 3 })).seconds as number;
      const kTorch = Math.max(2, Math.round(seconds / tTorch * 3));
      let viaTfjs: ((steps: number) => Promise<number>) | undefined, kTfjs = 0;
      if (tfjsToo) {
        const mt = await LPIPS.create({
          net,
          engine: "tfjs",
          weightsDir,
          trunkPath: net === "vgg" ? join(weightsDir, "vgg16-random-seed0.pth") : undefined,
          quiet: true,
        });
        const tt = tf.tensor4d(target.data, shape);
        const grad = tf.grad((v: tf.Tensor) => tf.sum(mt.distanceTensor(v as tf.Tensor4D, tt)));
        const adamT = new Adam(n, LR);
        viaTfjs = async (steps: number) => {
          const t0 = performance.now();
          for (let s = 0; s < steps; s++) {
            const xt = tf.tensor4d(x.data, shape);
            const gt = grad(xt);
            adamT.step(x.data, await gt.data() as Float32Array);
            tf.dispose([xt, gt]);
          }
          return (performance.now() - t0) / 1000;
        };
        kTfjs = Math.max(2, Math.round(seconds / (await viaTfjs(2)) * 2));
      }
      const rt: number[] = [], ro: number[] = [], ratio: number[] = [];
      const rj: number[] = [], ratioJ: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const t = kTorch / ((await torch.call({ cmd: "run", steps: kTorch })).seconds as number);
        const o = kOurs / await ours(kOurs);
        rt.push(t);
        ro.push(o);
        ratio.push(o / t);
        if (viaTfjs) {
          const j = kTfjs / await viaTfjs(kTfjs);
          rj.push(j);
          ratioJ.push(o / j);
        }
      }
      console.log(
        `${w.padEnd(15)} |${range(rt)} |${range(ro)} | ${range(ratio)}x (${
          median(ratio).toFixed(2)
        }x)` +
          (viaTfjs ? ` |   ${range(rj)} | ${range(ratioJ)}x (onnx / tf.grad)` : ""),
      );
      m.dispose();
    }
  } finally {
    await torch.close();
  }
}

/** Seconds per run of `model` (best of `reps` after a warm-up), fed `feeds`. */
async function timeGraph(
  model: Uint8Array,
  shape: number[],
  reps: number,
): Promise<number> {
  const ort = await loadOrt();
  const s = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  });
  const dy = new ort.Tensor("float32", uniform(shape.reduce((p, d) => p * d, 1), 3), shape);
  await s.run({ dy });
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await s.run({ dy });
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  await s.release();
  return best;
}

async function layerTable() {
  console.log("stride-1 conv input gradients, ms (best of 7): ConvTranspose vs flipped Conv");
  for (const [size, batch] of [[64, 8], [256, 1]]) {
    for (const net of ["alex", "squeeze", "vgg"] as NetName[]) {
      const a = arch(net);
      const sizes = layerSizes(a, size);
      // The output side of each convolution (fire modules: the module's side).
      const side = new Map<string, number>();
      a.layers.forEach((l, i) => {
        if (l.op === "conv") side.set(l.key, sizes[i]);
        if (l.op === "fire") {
          for (const c of [l.squeeze, l.expand1x1, l.expand3x3]) side.set(c.key, sizes[i]);
        }
      });
      for (const c of convLayers(a)) {
        if (c.stride !== 1) continue;
        const h = side.get(c.key)!;
        const shape = [batch, c.outChannels, h, h];
        const w = uniform(c.outChannels * c.inChannels * c.kernel * c.kernel, 4);
        const attrs = {
          kernel_shape: { ints: [c.kernel, c.kernel] },
          pads: { ints: [c.pad, c.pad, c.pad, c.pad] },
        };
        const build = (op: string, dims: number[]) => {
          const g = new GraphBuilder();
          const dy = g.input("dy", shape);
          g.output("dx", g.node(op, [dy, g.floats(dims, w)], attrs), [
            batch,
            c.inChannels,
            h,
            h,
          ]);
          return g.model(17);
        };
        const kk = [c.kernel, c.kernel];
        const tT = await timeGraph(
          build("ConvTranspose", [c.outChannels, c.inChannels, ...kk]),
          shape,
          7,
        );
        const tC = await timeGraph(build("Conv", [c.inChannels, c.outChannels, ...kk]), shape, 7);
        console.log(
          `${size}x${size} b${batch} ${net.padEnd(7)} ${c.key.padEnd(22)} ` +
            `${(tT * 1e3).toFixed(2).padStart(7)} ${(tC * 1e3).toFixed(2).padStart(7)}  ${
              tC < tT ? "Conv" : "ConvTranspose"
            }`,
        );
      }
    }
  }
}

if (args.values.layers) await layerTable();
else await adamSteps();
