/**
 * Calibration training of the LPIPS linear heads (and optionally the trunk) on BAPPS 2AFC
 * judgements, as the reference's `train.py` + `lpips.Trainer` do it (SPEC.md §6): the ranking
 * head and BCE loss, Adam (lr 1e-4, betas 0.5/0.999) exactly as PyTorch 1.13 computes it,
 * Dropout(0.5) in front of each head, the clamp of every 1x1-kernel weight to >= 0 after each step,
 * the constant-then-linear-decay schedule, shuffled batches, checkpoints that `torch.load` reads.
 *
 * Modes: `lin` (pretrained trunk frozen; its features are computed once per batch without
 * gradients), `tune` (pretrained trunk trained too), `scratch` (random trunk, trained).
 *
 * Checkpoint files, in `<checkpointsDir>/<name>/`, for label `latest` or an epoch number:
 * - `<label>_net_.pth`: the LPIPS state dict with the reference's keys: `scaling_layer.shift`,
 *   `scaling_layer.scale`, `net.slice{i}.{j}.weight|bias` (trunk), `lin{k}.model.1.weight`. The
 *   reference's live state dict also repeats the heads as `lins.{k}.model.1.weight`; those
 *   duplicates are not written (torch's `load_state_dict(strict=False)` does not need them).
 * - `<label>_net_rank.pth`: the ranking net, `model.{0,2,4}.{weight,bias}`.
 * - `latest_optim.pth` (ours): Adam's moments, `exp_avg.<param>` / `exp_avg_sq.<param>` where
 *   `<param>` is `net.<LPIPS key>` or `rank.<ranking key>`; `latest_state.json`: epoch, batch,
 *   step, learning rate, seed, Adam step counts, options.
 * Each set of files is written to temporary names, then renamed together: a crash, a full disk
 * or Ctrl-C never leaves a half-written or mixed checkpoint. With `signal`, {@link train} stops
 * between two steps when it is aborted, saves `latest`, and throws {@link TrainInterrupted}.
 *
 * @example
 * ```ts ignore
 * import { train } from "./train.ts";
 * const summary = await train({
 *   root: "dataset", datasets: ["train/traditional"], net: "alex", mode: "lin",
 *   epochs: 5, epochsDecay: 5, name: "alex_lin", seed: 1,
 * });
 * console.log(summary.checkpoint); // checkpoints/alex_lin/latest_net_.pth
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { dirname, join } from "node:path";
import { type Arch, arch, convLayers, linTensorSpec, type NetName } from "./arch.ts";
import { type BackendName, useBackend } from "./backend.ts";
import { TfjsLpips, type TrainingHeads, type WeightMap } from "./tfjs_engine.ts";
import { checkpointTrunkKey, loadTrunkWeights } from "./load_weights.ts";
import { readPth, toFloat32, writePth } from "./pth.ts";
import { Adam } from "./_adam.ts";
import { bceLoss, rankAccuracy, RankHead, rankTarget, rankTensorSpec } from "./_rank_head.ts";
import { initLinHeads, initRankNet, initTrunk } from "./_init.ts";
import { Prng, STREAM } from "./_prng.ts";
import type { ImageTensor } from "../bappsloader/image.ts";
import { listTwoAFC } from "../bappsloader/layout.ts";
import { twoAFCBatches } from "../bappsloader/dataset.ts";

/** `lin`: frozen pretrained trunk; `tune`: pretrained trunk trained; `scratch`: random trunk trained. */
export type TrainMode = "lin" | "tune" | "scratch";

/** The training modes. */
export const TRAIN_MODES: readonly TrainMode[] = ["lin", "tune", "scratch"];

/** Kernels that training the trunk needs (`Conv2DBackpropFilter` can be done without, see below). */
const TRUNK_GRAD_KERNELS = ["Conv2DBackpropFilter", "Conv2DBackpropInput", "MaxPoolGrad"];

/** A named float32 tensor in PyTorch layout. */
export interface StateTensor {
  shape: number[];
  data: Float32Array;
}

/** A state dict: key -> tensor, in the reference's order. */
export type StateDict = Map<string, StateTensor>;

/** Options of {@link Trainer.create}. */
export interface TrainerOptions {
  /** Trunk (default "alex"). */
  net?: NetName;
  /** Default "lin". */
  mode?: TrainMode;
  /** Seeds the initial heads, the scratch trunk, the shuffles and the dropout masks (default 0). */
  seed?: number;
  /** Adam's learning rate (default 1e-4). */
  lr?: number;
  /** Adam's betas (default 0.5, 0.999, the reference trainer's). */
  beta1?: number;
  beta2?: number;
  /** Adam's eps (default 1e-8). */
  eps?: number;
  /** Dropout(0.5) in front of each linear head while training (default true, as the reference). */
  dropout?: boolean;
  /**
   * Also clamp the trunk's 1x1 convolutions to >= 0 after each step (default true). Only
   * SqueezeNet has them (its Fire modules' squeeze and expand1x1 convs): the reference's current
   * code clamps every 1x1-kernel module inside the LPIPS network, which includes them even in `lin`
   * mode (a quirk; its 2018 code clamped only the heads). `false` clamps only the heads.
   */
  clampTrunk1x1?: boolean;
  /** TF.js backend (default "wasm"). */
  backend?: BackendName;
  /**
   * In `tune`/`scratch`: compute the convolutions' filter gradients from strided slices and matrix
   * products instead of TF.js's `Conv2DBackpropFilter` kernel. Default: on wasm (which lacks the
   * kernel) and cpu (where it is about 20 times faster than the kernel); `false` forbids it.
   */
  portableConvGrad?: boolean;
  /** Folder with the trunk weight file under its official name. */
  weightsDir?: string;
  /** An explicit trunk weight file. */
  trunkPath?: string;
  /** No download progress bar. */
  quiet?: boolean;
  /**
   * Explicit initial values instead of random ones / the pretrained trunk: `lin` (the
   * `lin{k}.model.1.weight` heads), `rank` (`model.{0,2,4}.*`), `trunk` (`features.*`, OIHW).
   */
  initial?: { lin?: WeightMap; rank?: WeightMap; trunk?: WeightMap };
}

/** One batch of 2AFC triplets (NCHW in [-1, 1]); `judge` is the fraction preferring p1. */
export interface TrainBatch {
  ref: ImageTensor;
  p0: ImageTensor;
  p1: ImageTensor;
  judge: Float32Array;
}

/**
 * Supplies a dropout mask to replay: for the forward pass `d0` = LPIPS(ref, p0) or `d1`, head `k`,
 * a 0/1 array (1 = kept) of the head input's NCHW shape, in C order.
 */
export type MaskSource = (pass: "d0" | "d1", k: number, shape: readonly number[]) => Uint8Array;

/** Options of one {@link Trainer.step}. */
export interface StepOptions {
  /** Replay these dropout masks instead of drawing random ones (needs dropout on). */
  masks?: MaskSource;
  /** Also return the gradients (PyTorch layout, by parameter name). */
  grads?: boolean;
}

/** What one step computed (in its forward pass, before the update). */
export interface StepResult {
  /** Mean BCE loss. */
  loss: number;
  /** The reference's training accuracy on this batch. */
  accuracy: number;
  d0: Float32Array;
  d1: Float32Array;
  /** The ranking net's sigmoid output. */
  output: Float32Array;
  /** With `grads`: `net.<LPIPS key>` / `rank.<key>` -> gradient. */
  grads?: Map<string, Float32Array>;
}

/** A trained parameter: its variable, its PyTorch name and whether it is clamped to >= 0. */
interface Param {
  name: string;
  variable: tf.Variable;
  clamp: boolean;
  /** HWIO conv weight stored in TF.js layout (PyTorch's is OIHW). */
  hwio: boolean;
}

/** The LPIPS network in training: the engine, the ranking head, Adam and the step counter. */
export class Trainer {
  readonly arch: Arch;
  readonly mode: TrainMode;
  readonly seed: number;
  readonly dropout: boolean;
  /** Whether the trunk's 1x1 convs are clamped too (see {@link TrainerOptions.clampTrunk1x1}). */
  readonly clampTrunk1x1: boolean;
  readonly optimizer: Adam;
  /** Steps taken (the next step's dropout masks are drawn from this number). */
  steps = 0;
  readonly #net: TfjsLpips;
  readonly #rank: RankHead;
  readonly #params: Param[];
  readonly #trained: Param[];
  readonly #frozenClamp: Param[];
  readonly #portable: boolean;
  #frozenClamped = false;

  private constructor(a: Arch, opts: TrainerOptions, net: TfjsLpips, rank: RankHead) {
    this.arch = a;
    this.mode = opts.mode ?? "lin";
    this.seed = opts.seed ?? 0;
    this.dropout = opts.dropout ?? true;
    this.optimizer = new Adam({
      lr: opts.lr ?? 1e-4,
      beta1: opts.beta1 ?? 0.5,
      beta2: opts.beta2 ?? 0.999,
      eps: opts.eps ?? 1e-8,
    });
    this.#net = net;
    this.#rank = rank;
    this.#portable = opts.portableConvGrad ??
      (tf.getBackend() === "cpu" || !tf.getKernel("Conv2DBackpropFilter", tf.getBackend()));
    const clampTrunk = this.clampTrunk1x1 = opts.clampTrunk1x1 ?? true;
    const kernels = new Map(convLayers(a).map((c) => [`${c.key}.weight`, c.kernel]));
    const trunk: Param[] = [...net.trunkVariables].map(([key, variable]) => ({
      name: `net.${trunkKey(a, key)}`,
      variable,
      clamp: clampTrunk && kernels.get(key) === 1,
      hwio: key.endsWith(".weight"),
    }));
    const lin: Param[] = net.linVariables.map((variable, k) => ({
      name: `net.lin${k}.model.1.weight`,
      variable,
      clamp: true,
      hwio: false,
    }));
    const rankParams: Param[] = [...rank.variables].map(([key, variable]) => ({
      name: `rank.${key}`,
      variable,
      clamp: false,
      hwio: false,
    }));
    this.#params = [...trunk, ...lin, ...rankParams];
    const trainTrunk = this.mode !== "lin";
    for (const p of trunk) p.variable.trainable = trainTrunk;
    for (const p of lin) p.variable.trainable = true;
    this.#trained = trainTrunk ? this.#params : [...lin, ...rankParams];
    this.#frozenClamp = trainTrunk ? [] : trunk.filter((p) => p.clamp);
  }

  /**
   * Builds the network for training: random heads and ranking net (PyTorch's default init, from
   * `seed`), the pretrained trunk (`lin`, `tune`) or a random one (`scratch`).
   *
   * @example
   * ```ts ignore
   * import { Trainer } from "./train.ts";
   * const t = await Trainer.create({ net: "alex", mode: "lin", seed: 1 });
   * const r = await t.step(batch); // { loss, accuracy, d0, d1, output }
   * t.dispose();
   * ```
   */
  static async create(opts: TrainerOptions = {}): Promise<Trainer> {
    const a = arch(opts.net ?? "alex");
    const mode = opts.mode ?? "lin";
    if (!TRAIN_MODES.includes(mode)) {
      throw new RangeError(`unknown mode "${mode}" (expected one of ${TRAIN_MODES.join(", ")})`);
    }
    const rng = new Prng(opts.seed ?? 0, STREAM.init);
    const lin = opts.initial?.lin ?? initLinHeads(a, rng);
    const rankInit = opts.initial?.rank ?? initRankNet(rng);
    const trunk = opts.initial?.trunk ??
      (mode === "scratch" ? initTrunk(a, rng) : await loadTrunkWeights(a, {
        path: opts.trunkPath,
        weightsDir: opts.weightsDir,
        quiet: opts.quiet,
      }));
    const backend = opts.backend ?? "wasm";
    await useBackend(backend);
    if (mode !== "lin") {
      const missing = TRUNK_GRAD_KERNELS.filter((k) =>
        !tf.getKernel(k, tf.getBackend()) &&
        !(k === "Conv2DBackpropFilter" && (opts.portableConvGrad ?? true))
      );
      if (missing.length > 0) {
        throw new Error(
          `mode ${mode} trains the trunk, which needs convolution gradients that TF.js's ` +
            `${backend} backend lacks (${missing.join(", ")}); use the cpu, webgpu or ` +
            `tensorflow backend`,
        );
      }
    }
    const net = new TfjsLpips(a, { version: "0.1", lpips: true }, trunk, lin);
    return new Trainer(a, opts, net, new RankHead(rankInit));
  }

  /** The current learning rate. */
  get lr(): number {
    return this.optimizer.lr;
  }
  set lr(v: number) {
    this.optimizer.lr = v;
  }

  /** One training step on a batch: forward, BCE loss, gradients, Adam, clamp. */
  async step(batch: TrainBatch, opts: StepOptions = {}): Promise<StepResult> {
    if (opts.masks && !this.dropout) throw new Error("dropout masks given, but dropout is off");
    const [n, , h, w] = batch.ref.shape;
    const inputs = [batch.ref, batch.p0, batch.p1].map((x) => tf.tensor4d(x.data, x.shape));
    const [ref, p0, p1] = inputs;
    const target = tf.tensor1d(rankTarget(batch.judge));
    const masks = this.dropout ? this.#masks(n, h, w, opts.masks) : undefined;
    this.steps++;
    const frozen = this.mode === "lin"
      ? inputs.map((x) => this.#net.features(x as tf.Tensor4D))
      : undefined;
    let kept: tf.Tensor[] = [];
    let result: { value: tf.Scalar; grads: tf.NamedTensorMap } | undefined;
    try {
      result = tf.variableGrads(() => {
        const [fr, f0, f1] = frozen ??
          [ref, p0, p1].map((x) =>
            this.#net.features(x as tf.Tensor4D, false, { portableGrad: this.#portable })
          );
        const hook = (m?: tf.Tensor4D[]): TrainingHeads =>
          m ? { headInput: (k, x) => tf.mul(x, m[k]) } : {};
        const d0 = this.#net.compareFeatures(fr, f0, [h, w], false, hook(masks?.[0]))
          .total as tf.Tensor1D;
        const d1 = this.#net.compareFeatures(fr, f1, [h, w], false, hook(masks?.[1]))
          .total as tf.Tensor1D;
        const out = this.#rank.forward(d0, d1);
        kept = [tf.keep(d0), tf.keep(d1), tf.keep(out)];
        return bceLoss(out, target);
      }, this.#trained.map((p) => p.variable));
      const [d0, d1, output] = await Promise.all(
        kept.map(async (t) => (await t.data() as Float32Array).slice()),
      );
      const loss = (await result.value.data())[0];
      const grads = opts.grads ? new Map<string, Float32Array>() : undefined;
      for (const p of this.#trained) {
        const gt = result.grads[p.variable.name];
        if (!gt) continue; // no gradient reaches it: PyTorch skips such a parameter
        const g = (await gt.data() as Float32Array).slice();
        const value = (await p.variable.data() as Float32Array).slice();
        this.optimizer.update(p.name, value, g);
        if (p.clamp) clampMin0(value);
        assign(p.variable, value);
        if (grads) grads.set(p.name, p.hwio ? hwioToOihw(g, p.variable.shape) : g);
      }
      if (!this.#frozenClamped) {
        for (const p of this.#frozenClamp) {
          const value = (await p.variable.data() as Float32Array).slice();
          clampMin0(value);
          assign(p.variable, value);
        }
        this.#frozenClamped = true;
      }
      return { loss, accuracy: rankAccuracy(d0, d1, batch.judge), d0, d1, output, grads };
    } finally {
      tf.dispose(inputs);
      tf.dispose([target, ...kept]);
      if (masks) tf.dispose(masks.flat());
      if (frozen) tf.dispose(frozen.flat());
      if (result) tf.dispose([result.value, ...Object.values(result.grads)]);
    }
  }

  /**
   * Distances with the current weights in evaluation mode (no dropout), for a 2AFC score.
   */
  async distance(a: ImageTensor, b: ImageTensor): Promise<Float32Array> {
    const ta = tf.tensor4d(a.data, a.shape), tb = tf.tensor4d(b.data, b.shape);
    const r = this.#net.forward(ta, tb);
    try {
      return (await r.total.data() as Float32Array).slice();
    } finally {
      tf.dispose([ta, tb, r.total, ...r.layers]);
    }
  }

  /** The LPIPS state dict with the reference's keys (see the module doc), PyTorch layout. */
  async netState(): Promise<StateDict> {
    const out: StateDict = new Map();
    out.set("scaling_layer.shift", {
      shape: [1, 3, 1, 1],
      data: new Float32Array([-0.030, -0.088, -0.188]),
    });
    out.set("scaling_layer.scale", {
      shape: [1, 3, 1, 1],
      data: new Float32Array([0.458, 0.448, 0.450]),
    });
    for (const p of this.#params) {
      if (p.name.startsWith("net.")) out.set(p.name.slice(4), await this.#torchValue(p));
    }
    return out;
  }

  /** The ranking net's state dict (`model.{0,2,4}.{weight,bias}`). */
  async rankState(): Promise<StateDict> {
    const out: StateDict = new Map();
    const shapes = new Map(rankTensorSpec().map((s) => [s.key, s.shape]));
    for (const p of this.#params) {
      if (!p.name.startsWith("rank.")) continue;
      const key = p.name.slice(5);
      out.set(key, {
        shape: shapes.get(key)!,
        data: (await p.variable.data() as Float32Array).slice(),
      });
    }
    return out;
  }

  /** Adam's moments (PyTorch layout) and step counts. */
  optimizerState(): { tensors: StateDict; steps: Record<string, number> } {
    const tensors: StateDict = new Map();
    const steps: Record<string, number> = {};
    for (const p of this.#params) {
      const s = this.optimizer.state.get(p.name);
      if (!s) continue;
      const conv = (d: Float32Array) => p.hwio ? hwioToOihw(d, p.variable.shape) : d.slice();
      const shape = torchShape(p);
      tensors.set(`exp_avg.${p.name}`, { shape, data: conv(s.expAvg) });
      tensors.set(`exp_avg_sq.${p.name}`, { shape, data: conv(s.expAvgSq) });
      steps[p.name] = s.step;
    }
    return { tensors, steps };
  }

  /** Restores Adam's state saved by {@link optimizerState}. */
  loadOptimizerState(
    tensors: ReadonlyMap<string, Float32Array>,
    steps: Record<string, number>,
  ): void {
    this.optimizer.state.clear();
    for (const p of this.#params) {
      const m = tensors.get(`exp_avg.${p.name}`), v = tensors.get(`exp_avg_sq.${p.name}`);
      if (!m || !v || steps[p.name] === undefined) continue;
      const conv = (d: Float32Array) => p.hwio ? oihwToHwio(d, p.variable.shape) : d.slice();
      this.optimizer.state.set(p.name, { step: steps[p.name], expAvg: conv(m), expAvgSq: conv(v) });
    }
  }

  /** Frees every tensor. */
  dispose(): void {
    this.#net.dispose();
    this.#rank.dispose();
  }

  async #torchValue(p: Param): Promise<StateTensor> {
    const data = (await p.variable.data() as Float32Array).slice();
    return { shape: torchShape(p), data: p.hwio ? hwioToOihw(data, p.variable.shape) : data };
  }

  /** The two passes' dropout masks (0 or 2, NHWC tensors), replayed or drawn from the seed. */
  #masks(n: number, h: number, w: number, replay?: MaskSource): tf.Tensor4D[][] {
    const sizes = tapSizesOf(this.arch, h, w);
    const rng = new Prng(this.seed, STREAM.dropout, this.steps);
    return (["d0", "d1"] as const).map((pass) =>
      this.arch.channels.map((c, k) => {
        const [th, tw] = sizes[k];
        const len = n * c * th * tw;
        const out = new Float32Array(len);
        if (replay) {
          const m = replay(pass, k, [n, c, th, tw]);
          if (m.length !== len) {
            throw new RangeError(`dropout mask ${pass}/${k}: ${m.length} != ${len}`);
          }
          let i = 0;
          for (let b = 0; b < n; b++) {
            for (let ch = 0; ch < c; ch++) {
              for (let y = 0; y < th; y++) {
                for (let x = 0; x < tw; x++) out[((b * th + y) * tw + x) * c + ch] = m[i++] * 2;
              }
            }
          }
        } else {
          let bits = 0;
          for (let i = 0; i < len; i++) {
            if ((i & 31) === 0) bits = rng.nextUint32();
            out[i] = (bits >>> (i & 31)) & 1 ? 2 : 0;
          }
        }
        return tf.tensor4d(out, [n, th, tw, c]);
      })
    );
  }
}

/** Spatial size of each tapped feature of an h x w input. */
function tapSizesOf(a: Arch, h: number, w: number): [number, number][] {
  // Sizes follow from the layer list, per axis (inputs need not be square).
  const side = (s: number) => {
    const out: number[] = [];
    let v = s;
    a.layers.forEach((l, i) => {
      if (l.op === "conv") v = Math.floor((v + 2 * l.pad - l.kernel) / l.stride) + 1;
      else if (l.op === "maxpool") {
        if (l.ceil) {
          let o = Math.ceil((v - l.kernel) / l.stride) + 1;
          if ((o - 1) * l.stride >= v) o--;
          v = o;
        } else v = Math.floor((v - l.kernel) / l.stride) + 1;
      }
      if (a.taps.includes(i)) out.push(v);
    });
    return out;
  };
  const hs = side(h), ws = side(w);
  return hs.map((v, k) => [v, ws[k]]);
}

function clampMin0(d: Float32Array): void {
  for (let i = 0; i < d.length; i++) if (d[i] < 0) d[i] = 0;
}

function assign(v: tf.Variable, data: Float32Array): void {
  const t = tf.tensor(data, v.shape, "float32");
  v.assign(t);
  t.dispose();
}

function torchShape(p: Param): number[] {
  const s = p.variable.shape as number[];
  if (p.hwio) return [s[3], s[2], s[0], s[1]];
  if (p.name.startsWith("net.lin")) return [1, s[2], 1, 1];
  if (p.name.startsWith("rank.") && p.name.endsWith("weight")) return [s[0], s[1], 1, 1];
  return [...s];
}

/** (kh, kw, I, O) -> (O, I, kh, kw). */
export function hwioToOihw(d: Float32Array, shape: readonly number[]): Float32Array {
  const [kh, kw, ci, co] = shape;
  const out = new Float32Array(d.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) {
          out[((o * ci + i) * kh + y) * kw + x] = d[((y * kw + x) * ci + i) * co + o];
        }
      }
    }
  }
  return out;
}

/** (O, I, kh, kw) -> (kh, kw, I, O), `shape` being the HWIO shape. */
function oihwToHwio(d: Float32Array, shape: readonly number[]): Float32Array {
  const [kh, kw, ci, co] = shape;
  const out = new Float32Array(d.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) {
          out[((y * kw + x) * ci + i) * co + o] = d[((o * ci + i) * kh + y) * kw + x];
        }
      }
    }
  }
  return out;
}

/** `features.{j}.rest` -> `net.slice{s}.{j}.rest` minus the `net.` prefix (SPEC.md §1.2 slices). */
function trunkKey(a: Arch, key: string): string {
  const m = /^features\.(\d+)\.(.+)$/.exec(key);
  if (!m) throw new Error(`unexpected trunk key ${key}`);
  const j = Number(m[1]);
  const slice = a.taps.findIndex((t) => j <= t) + 1;
  return `net.slice${slice}.${j}.${m[2]}`;
}

/**
 * The trunk of a training checkpoint (`net.slice{i}.{j}.*` keys, as the reference saves them) as
 * torchvision-style `features.{j}.*` tensors (OIHW), e.g. to evaluate a `tune`/`scratch` model.
 * Other keys (heads, scaling buffers) are ignored; an empty map means the file has no trunk.
 *
 * @example
 * ```ts
 * import { trunkFromCheckpoint } from "./train.ts";
 * const state = new Map([["net.slice2.3.bias", new Float32Array(192)]]);
 * console.log([...trunkFromCheckpoint(state).keys()]); // ["features.3.bias"]
 * ```
 */
export function trunkFromCheckpoint(state: ReadonlyMap<string, Float32Array>): WeightMap {
  const out: WeightMap = new Map();
  for (const [k, v] of state) {
    const key = checkpointTrunkKey(k);
    if (key) out.set(key, v);
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Checkpoints

/** Where a run's progress stands; saved as `latest_state.json`. */
export interface TrainState {
  net: NetName;
  mode: TrainMode;
  seed: number;
  /** The epoch to continue in (1-based). */
  epoch: number;
  /** Batches of that epoch already done. */
  batch: number;
  /** Steps taken in all. */
  step: number;
  /** Learning rate for the next step. */
  lr: number;
  /** Adam's step count per parameter. */
  adamSteps: Record<string, number>;
  dropout: boolean;
  clampTrunk1x1: boolean;
  batchSize: number;
}

/** Why a file could not be written, in words (the OS error without its repetition of the path). */
function writeFailure(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === "ENOSPC") return "no space left on device";
  if (code === "EDQUOT") return "disk quota exceeded";
  if (e instanceof Deno.errors.NotFound) return "no such folder";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  return (e instanceof Error ? e.message : String(e)).replace(/: \w+ '.*'$/, "");
}

/**
 * Writes a set of files so that the set is replaced whole or not at all: every file goes to a
 * temporary name first (`<path>.tmp-<pid>`); only when all are written are they renamed, one
 * after another without yielding to the event loop (so a signal handler that exits cannot run
 * between two renames). On a failed write (a full disk, say) the temporary files are removed,
 * the previous files are left as they were, and the error names the file and the cause.
 */
async function writeFilesAtomic(files: readonly [string, Uint8Array][]): Promise<void> {
  const written: string[] = [];
  try {
    for (const [path, bytes] of files) {
      await Deno.mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.tmp-${Deno.pid}`;
      written.push(tmp);
      try {
        await Deno.writeFile(tmp, bytes);
      } catch (e) {
        throw new Error(`${path}: cannot write the checkpoint (${writeFailure(e)})`, { cause: e });
      }
    }
    for (const [path] of files) Deno.renameSync(`${path}.tmp-${Deno.pid}`, path);
  } catch (e) {
    for (const tmp of written) await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

function pthFile(state: StateDict, path: string): Uint8Array {
  const base = path.split(/[\\/]/).pop()!.replace(/\.pth$/, "");
  return writePth(state, base.length > 0 ? base : "archive");
}

/**
 * Writes `<label>_net_.pth` and `<label>_net_rank.pth` into `dir`; with `state`, also
 * `<label>_optim.pth` and `<label>_state.json`. Returns the LPIPS file's path. The set is replaced
 * whole or not at all: on a failed write (a full disk) the previous files stay as they were.
 */
export async function saveCheckpoint(
  trainer: Trainer,
  dir: string,
  label: string,
  state?: Omit<TrainState, "adamSteps">,
): Promise<string> {
  const net = join(dir, `${label}_net_.pth`);
  const rank = join(dir, `${label}_net_rank.pth`);
  const files: [string, Uint8Array][] = [
    [net, pthFile(await trainer.netState(), net)],
    [rank, pthFile(await trainer.rankState(), rank)],
  ];
  if (state) {
    const { tensors, steps } = trainer.optimizerState();
    const optim = join(dir, `${label}_optim.pth`);
    files.push([optim, pthFile(tensors, optim)]);
    const json = JSON.stringify({ ...state, adamSteps: steps }, null, 2) + "\n";
    files.push([join(dir, `${label}_state.json`), new TextEncoder().encode(json)]);
  }
  await writeFilesAtomic(files);
  return net;
}

async function readFloats(path: string): Promise<Map<string, Float32Array>> {
  const raw = readPth(await Deno.readFile(path), path);
  return new Map([...raw].map(([k, t]) => [k, toFloat32(t)]));
}

/**
 * Rebuilds a trainer from `<dir>/<label>_*` files written by {@link saveCheckpoint} with a state:
 * weights, ranking net, Adam's moments, the step counter; returns the saved state too.
 */
export async function loadCheckpoint(
  dir: string,
  label = "latest",
  opts: Pick<TrainerOptions, "backend"> = {},
): Promise<{ trainer: Trainer; state: TrainState }> {
  const statePath = join(dir, `${label}_state.json`);
  let text: string;
  try {
    text = await Deno.readTextFile(statePath);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new Error(`${statePath}: no checkpoint to resume from (start without --resume)`);
  }
  let state: TrainState;
  try {
    state = JSON.parse(text) as TrainState;
  } catch {
    throw new Error(`${statePath}: corrupt checkpoint state (not JSON)`);
  }
  const net = await readFloats(join(dir, `${label}_net_.pth`));
  const rank = await readFloats(join(dir, `${label}_net_rank.pth`));
  const a = arch(state.net);
  const lin: WeightMap = new Map(
    linTensorSpec(a).map(({ key }) => {
      const v = net.get(key);
      if (!v) throw new Error(`${dir}: ${label}_net_.pth has no ${key}`);
      return [key, v];
    }),
  );
  const trainer = await Trainer.create({
    net: state.net,
    mode: state.mode,
    seed: state.seed,
    lr: state.lr,
    dropout: state.dropout,
    clampTrunk1x1: state.clampTrunk1x1,
    backend: opts.backend,
    initial: { lin, rank, trunk: trunkFromCheckpoint(net) },
  });
  trainer.loadOptimizerState(await readFloats(join(dir, `${label}_optim.pth`)), state.adamSteps);
  trainer.steps = state.step;
  return { trainer, state };
}

// ------------------------------------------------------------------------------------------------
// The training loop

/** Progress of a run, reported after every step. */
export interface TrainProgress {
  epoch: number;
  epochs: number;
  /** Batches done in this epoch, and its number of batches. */
  batch: number;
  batches: number;
  step: number;
  /** Running means over the epoch so far. */
  loss: number;
  accuracy: number;
  lr: number;
  itemsPerSecond: number;
  /** Seconds left for the whole run at the current speed. */
  etaSeconds: number;
}

/** Options of {@link train}. */
export interface TrainOptions extends Omit<TrainerOptions, "initial"> {
  /** The dataset root (holds `2afc/`). */
  root: string;
  /** 2AFC subsets (default the reference's train/traditional, train/cnn, train/mix). */
  datasets?: string[];
  /** Epochs at the initial learning rate (default 5) and decay epochs (default 5). */
  epochs?: number;
  epochsDecay?: number;
  /** Default 50. */
  batchSize?: number;
  /** The run's name: checkpoints go to `<checkpointsDir>/<name>/` (default "tmp"). */
  name?: string;
  /** Default "checkpoints". */
  checkpointsDir?: string;
  /** Continue from `latest` in the run's folder. */
  resume?: boolean;
  /** Shuffle the items every epoch (default true). */
  shuffle?: boolean;
  /** Write a JSONL line every this many steps (default 10). */
  logEvery?: number;
  /** Save `latest` every this many items (default 20000, the reference's). */
  saveLatestFreq?: number;
  /** Decoding workers for the loader (default 0). */
  workers?: number;
  /** Called after every step. */
  onProgress?: (p: TrainProgress) => void;
  /**
   * Aborting it stops the run before its next step: `latest` is saved where the run stands (so
   * `resume` continues exactly there) and {@link TrainInterrupted} is thrown.
   */
  signal?: AbortSignal;
}

/**
 * Thrown by {@link train} when its `signal` was aborted; `checkpoint` is the `latest_net_.pth`
 * saved at the point where it stopped.
 *
 * @example
 * ```ts ignore
 * import { train, TrainInterrupted } from "./train.ts";
 * const stop = new AbortController();
 * Deno.addSignalListener("SIGINT", () => stop.abort());
 * try {
 *   await train({ root: "dataset", datasets: ["train/traditional"], signal: stop.signal });
 * } catch (e) {
 *   if (e instanceof TrainInterrupted) console.log(`resume from ${e.checkpoint}`);
 * }
 * ```
 */
export class TrainInterrupted extends Error {
  override name = "TrainInterrupted";
  constructor(readonly checkpoint: string, readonly step: number) {
    super(`interrupted at step ${step}; saved ${checkpoint} (continue with --resume)`);
  }
}

/** What {@link train} returns. */
export interface TrainSummary {
  /** The final `latest_net_.pth`. */
  checkpoint: string;
  steps: number;
  /** Mean loss and accuracy of the last epoch. */
  loss: number;
  accuracy: number;
  seconds: number;
}

/** Trains as the reference's `train.py` does; see the module doc. */
export async function train(opts: TrainOptions): Promise<TrainSummary> {
  const epochs = opts.epochs ?? 5, epochsDecay = opts.epochsDecay ?? 5;
  const total = epochs + epochsDecay;
  const batchSize = opts.batchSize ?? 50;
  const dir = join(opts.checkpointsDir ?? "checkpoints", opts.name ?? "tmp");
  const list = await listTwoAFC(
    opts.root,
    opts.datasets ?? ["train/traditional", "train/cnn", "train/mix"],
  );
  const n = list.items.length;
  if (n === 0) throw new Error("no training items");
  const batches = Math.ceil(n / batchSize);
  const lr0 = opts.lr ?? 1e-4;
  let trainer: Trainer;
  let epoch = 1, startBatch = 0;
  if (opts.resume) {
    const r = await loadCheckpoint(dir, "latest", { backend: opts.backend });
    trainer = r.trainer;
    epoch = r.state.epoch;
    startBatch = r.state.batch;
    if (r.state.batchSize !== batchSize) {
      trainer.dispose();
      throw new Error(`resume: the run used --batch-size ${r.state.batchSize}`);
    }
  } else {
    trainer = await Trainer.create(opts);
  }
  const seed = trainer.seed;
  const stateAt = (e: number, b: number) => ({
    net: trainer.arch.net,
    mode: trainer.mode,
    seed,
    epoch: e,
    batch: b,
    step: trainer.steps,
    lr: trainer.lr,
    dropout: trainer.dropout,
    clampTrunk1x1: trainer.clampTrunk1x1,
    batchSize,
  });
  const logEvery = opts.logEvery ?? 10;
  const saveEvery = Math.max(1, Math.round((opts.saveLatestFreq ?? 20000) / batchSize));
  await Deno.mkdir(dir, { recursive: true });
  const log = await Deno.open(join(dir, "train_log.jsonl"), {
    append: true,
    create: true,
    write: true,
  });
  const enc = new TextEncoder();
  const t0 = performance.now();
  let itemsDone = 0;
  const stepsLeftAtStart = (total - epoch + 1) * batches - startBatch;
  let lastLoss = NaN, lastAcc = NaN;
  let win = { loss: 0, acc: 0, n: 0 };
  try {
    for (; epoch <= total; epoch++, startBatch = 0) {
      const order = opts.shuffle === false
        ? list.items
        : new Prng(seed, STREAM.shuffle, epoch).permutation(n).map((i) => list.items[i]);
      let sumLoss = 0, sumAcc = 0, count = 0, b = startBatch;
      const source = twoAFCBatches(order.slice(startBatch * batchSize), {
        batchSize,
        workers: opts.workers,
      });
      for await (const batch of source) {
        if (opts.signal?.aborted) {
          const saved = await saveCheckpoint(trainer, dir, "latest", stateAt(epoch, b));
          throw new TrainInterrupted(saved, trainer.steps);
        }
        const r = await trainer.step(batch);
        b++;
        itemsDone += batch.judge.length;
        sumLoss += r.loss;
        sumAcc += r.accuracy;
        count++;
        win = { loss: win.loss + r.loss, acc: win.acc + r.accuracy, n: win.n + 1 };
        const secs = (performance.now() - t0) / 1000;
        const stepsDone = (epoch - 1) * batches + b - ((total * batches) - stepsLeftAtStart);
        const rate = stepsDone / Math.max(secs, 1e-9);
        opts.onProgress?.({
          epoch,
          epochs: total,
          batch: b,
          batches,
          step: trainer.steps,
          loss: sumLoss / count,
          accuracy: sumAcc / count,
          lr: trainer.lr,
          itemsPerSecond: itemsDone / Math.max(secs, 1e-9),
          etaSeconds: (stepsLeftAtStart - stepsDone) / Math.max(rate, 1e-9),
        });
        if (trainer.steps % logEvery === 0) {
          const line = {
            step: trainer.steps,
            epoch,
            batch: b,
            loss: win.loss / win.n,
            accuracy: win.acc / win.n,
            lr: trainer.lr,
            seconds: Number(secs.toFixed(3)),
          };
          await log.write(enc.encode(JSON.stringify(line) + "\n"));
          win = { loss: 0, acc: 0, n: 0 };
        }
        if (b % saveEvery === 0 && b < batches) {
          await saveCheckpoint(trainer, dir, "latest", stateAt(epoch, b));
        }
      }
      lastLoss = sumLoss / count;
      lastAcc = sumAcc / count;
      await saveCheckpoint(trainer, dir, String(epoch));
      if (epoch > epochs) trainer.lr = trainer.lr - lr0 / epochsDecay;
      await saveCheckpoint(trainer, dir, "latest", stateAt(epoch + 1, 0));
    }
    return {
      checkpoint: join(dir, "latest_net_.pth"),
      steps: trainer.steps,
      loss: lastLoss,
      accuracy: lastAcc,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    log.close();
    trainer.dispose();
  }
}
