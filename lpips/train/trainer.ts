/**
 * The trainer of the reference's `lpips.Trainer` (docs/algorithm.md §6): the ranking head and BCE loss,
 * Adam (lr 1e-4, betas 0.5/0.999) exactly as PyTorch 1.13 computes it, Dropout(0.5) in front of
 * each head, the clamp of every 1x1-kernel weight to >= 0 after each step.
 *
 * Modes: `lin` (pretrained trunk frozen; its features are computed once per batch without
 * gradients, by ONNX Runtime when it loads), `tune` (pretrained trunk trained too), `scratch`
 * (random trunk, trained). Adam and the clamps run in JavaScript. `lin` trains the heads and the
 * ranking net on TF.js; `tune` and `scratch` run the whole step (trunk, heads, ranking net, loss,
 * and their gradients) as one ONNX Runtime graph when it loads, else on TF.js.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { type Arch, arch, convLayers, type NetName } from "../arch.ts";
import { type BackendName, useBackend } from "../backend.ts";
import { TfjsLpips, type TrainingHeads, type WeightMap } from "../tfjs_engine.ts";
import { ENGINE_NAMES, type EngineKind, type EngineName, type Nchw } from "../engine.ts";
import { loadOrt, OnnxLpips, openOnnx } from "../onnx_engine.ts";
import { checkpointTrunkKey, loadTrunkWeights } from "../weight_files.ts";
import { Adam } from "./_adam.ts";
import { bceLoss, rankAccuracy, RankHead, rankTarget, rankTensorSpec } from "./_rank_head.ts";
import { initLinHeads, initRankNet, initTrunk } from "./_init.ts";
import { Prng, STREAM } from "./_prng.ts";
import { type Feed, OnnxTrainStep } from "./_onnx_step.ts";
import type { ImageTensor } from "../../bappsloader/image.ts";

/** `lin`: frozen pretrained trunk; `tune`: pretrained trunk trained; `scratch`: random trunk trained. */
export type TrainMode = "lin" | "tune" | "scratch";

/** The training modes. */
export const TRAIN_MODES: readonly TrainMode[] = ["lin", "tune", "scratch"];

/** Kernels that training the trunk needs (`Conv2DBackpropFilter` can be done without, see below). */
const TRUNK_GRAD_KERNELS = ["Conv2DBackpropFilter", "Conv2DBackpropInput", "MaxPoolGrad"];

/** A named float32 tensor in PyTorch layout. */
export interface StateTensor {
  /** Its size along each axis (convolution weights OIHW). */
  shape: number[];
  /** Its values in C order. */
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
  /** Adam's second beta (default 0.999). */
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
   * The engine of the LPIPS network (default "auto": ONNX Runtime when it loads, which needs
   * `--allow-ffi`, else TF.js). `lin`: it computes the frozen trunk's features, and the heads
   * train on TF.js. `tune`, `scratch`: it runs the network, the ranking net and the loss forward
   * and backward; the dropout masks, Adam and the clamps are the same on both engines. Both give
   * the reference's gradients (max-pool ties go to the first maximum, as in PyTorch), except
   * where a ReLU input or a max-pool tie lies within float32 rounding: there each engine's
   * summation order picks the side, and a step's gradients can differ by a few percent in a few
   * tensors, between the engines and from PyTorch alike (docs/algorithm.md §9).
   */
  engine?: EngineName;
  /** ONNX Runtime's intra-op threads (default: the number of logical cores). */
  threads?: number;
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
  /** The reference patches, (N, 3, H, W). */
  ref: ImageTensor;
  /** The first distorted patches, same shape. */
  p0: ImageTensor;
  /** The second distorted patches, same shape. */
  p1: ImageTensor;
  /** N fractions of the human judges who found `p1` closer to `ref`. */
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
  /** LPIPS(ref, p0) of every triplet, with this step's dropout. */
  d0: Float32Array;
  /** LPIPS(ref, p1) of every triplet, with this step's dropout. */
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
  /** Trunk and heads: the name of its input (and gradient) in the ONNX training graphs. */
  feed?: string;
}

/**
 * The LPIPS network in training (the reference's `lpips.Trainer`): the trunk and linear heads, the
 * small ranking net that turns the two distances of a 2AFC triplet into a predicted judgement, the
 * BCE loss against the human one, Adam and the step counter. {@link train} drives it over a data
 * set; use it directly for your own loop.
 */
export class Trainer {
  /** The trunk description. */
  readonly arch: Arch;
  /** What is trained: the heads (`lin`), heads and trunk (`tune`, `scratch`). */
  readonly mode: TrainMode;
  /** The seed of the initial weights, the shuffles and the dropout masks. */
  readonly seed: number;
  /** Whether Dropout(0.5) runs in front of each head while training. */
  readonly dropout: boolean;
  /** Whether the trunk's 1x1 convs are clamped too (see {@link TrainerOptions.clampTrunk1x1}). */
  readonly clampTrunk1x1: boolean;
  private readonly optimizer: Adam;
  /** Steps taken (the next step's dropout masks are drawn from this number). */
  steps = 0;
  /** What runs the trunk: "onnx" (`lin`: its features; `tune`, `scratch`: also its gradients) or "tfjs". */
  readonly featureEngine: EngineKind;
  readonly #net: TfjsLpips;
  /** `lin` on ONNX Runtime: the frozen trunk's features, and its threads. */
  #onnx?: OnnxLpips;
  /** `tune`, `scratch` on ONNX Runtime: distances and weight gradients. */
  #train?: OnnxTrainStep;
  /**
   * On ONNX Runtime, the trunk's and heads' current values in PyTorch layout, by graph input
   * (Adam's moments are kept in that layout too); the TF.js variables follow when read.
   */
  #values?: Map<string, Float32Array>;
  #variablesStale = false;
  readonly #threads?: number;
  readonly #rank: RankHead;
  readonly #params: Param[];
  readonly #trained: Param[];
  readonly #frozenClamp: Param[];
  readonly #portable: boolean;
  #frozenClamped = false;

  /**
   * Use {@link Trainer.create}.
   *
   * @ignore
   */
  private constructor(
    a: Arch,
    opts: TrainerOptions,
    net: TfjsLpips,
    rank: RankHead,
    onnx?: OnnxLpips,
    train?: OnnxTrainStep,
  ) {
    this.arch = a;
    this.#onnx = onnx;
    this.#train = train;
    this.#threads = opts.threads;
    this.featureEngine = onnx || train ? "onnx" : "tfjs";
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
      feed: key,
    }));
    const lin: Param[] = net.linVariables.map((variable, k) => ({
      name: `net.lin${k}.model.1.weight`,
      variable,
      clamp: true,
      hwio: false,
      feed: `lin${k}`,
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
   * @example One step on the paper's example triplet
   * ```ts
   * import { loadImage } from "@perceptual/lpips/bappsloader";
   * import { Trainer } from "@perceptual/lpips/train";
   * const t = await Trainer.create({ net: "alex", mode: "lin", seed: 1 });
   * const [ref, p0, p1] = await Promise.all(["ex_ref.png", "ex_p0.png", "ex_p1.png"].map(loadImage));
   * const r = await t.step({ ref, p0, p1, judge: Float32Array.of(1) }); // every judge chose p1
   * console.log(r.loss, r.d0[0], r.d1[0], t.steps); // BCE loss, d(ref, p0), d(ref, p1), 1
   * t.dispose();
   * ```
   */
  static async create(opts: TrainerOptions = {}): Promise<Trainer> {
    const a = arch(opts.net ?? "alex");
    const mode = opts.mode ?? "lin";
    if (!TRAIN_MODES.includes(mode)) {
      throw new RangeError(`unknown mode "${mode}" (expected one of ${TRAIN_MODES.join(", ")})`);
    }
    const engine = opts.engine ?? "auto";
    if (!ENGINE_NAMES.includes(engine)) {
      throw new RangeError(`unknown engine "${engine}" (expected ${ENGINE_NAMES.join(", ")})`);
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
    const train = mode === "lin" ? undefined : await openOnnx(
      engine,
      backend,
      (ort) => new OnnxTrainStep(ort, a, opts.dropout ?? true, opts.threads),
    );
    if (mode !== "lin" && !train) {
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
    // `lin`: the frozen trunk's features come from ONNX Runtime (`tune`, `scratch`: `train` above).
    const onnx = mode === "lin"
      ? await openOnnx(engine, backend, (ort) => frozenTrunk(ort, a, trunk, opts.threads))
      : undefined;
    const net = new TfjsLpips(a, { version: "0.1", lpips: true }, trunk, lin);
    return new Trainer(a, opts, net, new RankHead(rankInit), onnx, train);
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
    const bad = batch.judge.findIndex((j) => !(j >= 0 && j <= 1));
    if (bad >= 0) {
      throw new RangeError(
        `judge[${bad}] is ${batch.judge[bad]}; judgements are fractions of the judges, in [0, 1]`,
      );
    }
    const [n, , h, w] = batch.ref.shape;
    if (this.#train) return await this.#onnxStep(batch, opts);
    const inputs = [batch.ref, batch.p0, batch.p1].map((x) => tf.tensor4d(x.data, x.shape));
    const [ref, p0, p1] = inputs;
    const target = tf.tensor1d(rankTarget(batch.judge));
    const masks = this.dropout
      ? this.#maskArrays(n, h, w, opts.masks).map((pass) =>
        pass.map((m) => tf.tensor4d(m.data, m.shape as [number, number, number, number]))
      )
      : undefined;
    this.steps++;
    const frozen = this.mode === "lin" ? await this.#frozenFeatures(batch, inputs) : undefined;
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
        await this.#update(p, (await gt.data() as Float32Array).slice(), grads);
      }
      if (!this.#frozenClamped) {
        for (const p of this.#frozenClamp) {
          const value = (await p.variable.data() as Float32Array).slice();
          clampMin0(value);
          assign(p.variable, value);
        }
        this.#frozenClamped = true;
        if (this.#onnx && this.#frozenClamp.length > 0) await this.#rebuildFrozenTrunk();
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
   * `tune`/`scratch` on ONNX Runtime: one run gives the distances, the ranking net's output, the
   * loss and every gradient; then Adam and the clamps, as on TF.js.
   */
  async #onnxStep(batch: TrainBatch, opts: StepOptions): Promise<StepResult> {
    const [n, , h, w] = batch.ref.shape;
    const feeds = new Map<string, Feed>([["ref", batch.ref], ["p0", batch.p0], ["p1", batch.p1]]);
    feeds.set("target", { data: rankTarget(batch.judge), shape: [n] });
    if (!this.#values) {
      this.#values = new Map();
      for (const p of this.#params) {
        if (p.feed) this.#values.set(p.feed, (await this.#torchValue(p)).data);
      }
    }
    for (const p of this.#params) {
      if (p.feed) feeds.set(p.feed, { data: this.#values.get(p.feed)!, shape: torchShape(p) });
      else {feeds.set(p.name, {
          data: await p.variable.data() as Float32Array,
          shape: p.variable.shape,
        });}
    }
    if (this.dropout) {
      this.#maskArrays(n, h, w, opts.masks).forEach((pass, i) =>
        pass.forEach((m, k) => feeds.set(`mask${i}_l${k}`, nhwcToNchw(m)))
      );
    }
    this.steps++;
    const r = await this.#train!.step(feeds);
    const grads = opts.grads ? new Map<string, Float32Array>() : undefined;
    for (const p of this.#trained) {
      const g = r.grads.get(p.feed ?? p.name);
      if (!g) throw new Error(`no gradient for ${p.name}`);
      if (!p.feed) {
        await this.#update(p, g, grads);
        continue;
      }
      const value = this.#values.get(p.feed)!;
      this.optimizer.update(p.name, value, g);
      if (p.clamp) clampMin0(value);
      grads?.set(p.name, g);
    }
    this.#variablesStale = true;
    const { loss, d0, d1, output } = r;
    return { loss, accuracy: rankAccuracy(d0, d1, batch.judge), d0, d1, output, grads };
  }

  /** On ONNX Runtime: the TF.js variables take the trained values (PyTorch layout) after steps. */
  #syncVariables(): void {
    if (!this.#variablesStale) return;
    for (const p of this.#params) {
      const v = p.feed ? this.#values?.get(p.feed) : undefined;
      if (v) assign(p.variable, p.hwio ? oihwToHwio(v, p.variable.shape) : v);
    }
    this.#variablesStale = false;
  }

  /** Adam on one parameter with gradient `g` (TF.js layout), then its clamp. */
  async #update(p: Param, g: Float32Array, grads?: Map<string, Float32Array>): Promise<void> {
    const value = (await p.variable.data() as Float32Array).slice();
    this.optimizer.update(p.name, value, g);
    if (p.clamp) clampMin0(value);
    assign(p.variable, value);
    if (grads) grads.set(p.name, p.hwio ? hwioToOihw(g, p.variable.shape) : g);
  }

  /**
   * Distances with the current weights in evaluation mode (no dropout), for a 2AFC score.
   */
  async distance(a: ImageTensor, b: ImageTensor): Promise<Float32Array> {
    this.#syncVariables();
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
    this.#syncVariables();
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
      const conv = (d: Float32Array) =>
        p.hwio && !this.#train ? hwioToOihw(d, p.variable.shape) : d.slice();
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
      const conv = (d: Float32Array) =>
        p.hwio && !this.#train ? oihwToHwio(d, p.variable.shape) : d.slice();
      this.optimizer.state.set(p.name, { step: steps[p.name], expAvg: conv(m), expAvgSq: conv(v) });
    }
  }

  /** Frees the trainer's tensors, as {@link dispose} (`using t = await Trainer.create(...)`). */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Frees every tensor (and the ONNX Runtime sessions). */
  dispose(): void {
    this.#net.dispose();
    this.#rank.dispose();
    void this.#onnx?.dispose();
    void this.#train?.dispose();
    this.#onnx = undefined;
    this.#train = undefined;
  }

  /** `lin`: the frozen trunk's taps of ref, p0 and p1 as NHWC tensors, without gradients. */
  async #frozenFeatures(batch: TrainBatch, inputs: tf.Tensor[]): Promise<tf.Tensor4D[][]> {
    if (!this.#onnx) return inputs.map((x) => this.#net.features(x as tf.Tensor4D));
    const out: tf.Tensor4D[][] = [];
    try {
      for (const x of [batch.ref, batch.p0, batch.p1]) {
        const taps = await this.#onnx.taps(x);
        out.push(taps.map(nhwcTensor));
      }
      return out;
    } catch (e) {
      tf.dispose(out.flat());
      throw e;
    }
  }

  /**
   * The reference clamps the trunk's 1x1 convs after the first step even in `lin` mode (see
   * {@link TrainerOptions.clampTrunk1x1}); the ONNX sessions are rebuilt from the clamped values.
   */
  async #rebuildFrozenTrunk(): Promise<void> {
    const trunk: WeightMap = new Map();
    for (const [key, v] of this.#net.trunkVariables) {
      const d = (await v.data() as Float32Array).slice();
      trunk.set(key, key.endsWith(".weight") ? hwioToOihw(d, v.shape) : d);
    }
    const old = this.#onnx;
    this.#onnx = frozenTrunk(await loadOrt(), this.arch, trunk, this.#threads);
    await old?.dispose();
  }

  async #torchValue(p: Param): Promise<StateTensor> {
    const data = (await p.variable.data() as Float32Array).slice();
    return { shape: torchShape(p), data: p.hwio ? hwioToOihw(data, p.variable.shape) : data };
  }

  /** The two passes' dropout masks (0 or 2, NHWC), replayed or drawn from the seed. */
  #maskArrays(n: number, h: number, w: number, replay?: MaskSource): Feed[][] {
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
        return { data: out, shape: [n, th, tw, c] };
      })
    );
  }
}

/** The ONNX engine over a frozen trunk (features only: no heads). */
function frozenTrunk(
  ort: Awaited<ReturnType<typeof loadOrt>>,
  a: Arch,
  trunk: WeightMap,
  threads?: number,
): OnnxLpips {
  return new OnnxLpips(ort, a, { version: "0.1", lpips: false }, trunk, undefined, { threads });
}

/** An NHWC array as the NCHW one the ONNX graphs take. */
function nhwcToNchw(m: Feed): Feed {
  const [n, h, w, c] = m.shape;
  const out = new Float32Array(m.data.length);
  let i = 0;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let ch = 0; ch < c; ch++) out[((b * c + ch) * h + y) * w + x] = m.data[i++];
      }
    }
  }
  return { data: out, shape: [n, c, h, w] };
}

/** An NCHW array as the NHWC tensor the TF.js heads take. */
function nhwcTensor(t: Nchw): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, c, h, w] = t.shape;
    return tf.transpose(tf.tensor4d(t.data, [n, c, h, w]), [0, 2, 3, 1]);
  });
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

/** `features.{j}.rest` -> `net.slice{s}.{j}.rest` minus the `net.` prefix (docs/algorithm.md §1.2 slices). */
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
 * import { trunkFromCheckpoint } from "./trainer.ts";
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
