/**
 * The TF.js engine: runs an {@link Arch} trunk and the LPIPS head (docs/algorithm.md §1.1) with TF.js ops,
 * so the distance is differentiable and runs on every TF.js backend. {@link TfjsLpips} is the
 * network (what training and gradients use, tensors in and out); {@link TfjsEngine} runs it
 * behind the {@link Engine} interface. Tensors inside are NHWC (TF.js's native layout); the
 * public inputs and outputs are NCHW as in PyTorch.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { type Arch, convLayers, type Layer } from "./arch.ts";
import {
  type CompareOptions,
  type Engine,
  type EngineFeatures,
  type EngineInput,
  type EngineResult,
  EPS,
  type HeadConfig,
  type Nchw,
  needWeight,
  NORM_FLOOR,
  SCALE,
  SHIFT,
  type WeightMap,
} from "./engine.ts";
import { upsampleMatrix } from "./upsample.ts";
import { conv2dPortableGrad } from "./_conv_grad.ts";
import { maxPoolFirstMax } from "./_max_pool.ts";
import { registerGradients } from "./_gradients.ts";

export type { HeadConfig, WeightMap } from "./engine.ts";

// tfjs-core registers no gradient itself; these cover every op of the network and its training.
registerGradients();

/** Pads ceil-mode pooling windows; below any float32 activation, so max() ignores it. */
const POOL_PAD = -3.4028234663852886e38;

/**
 * Transforms a head's input (the squared feature difference, NHWC) before its 1x1 conv: the
 * training-time Dropout(0.5) of the reference's `NetLinLayer`. `k` is the head's index.
 */
export type HeadInputHook = (k: number, diff: tf.Tensor4D) => tf.Tensor4D;

/**
 * The heads in training: each head's 1x1 conv runs as a matrix product, whose gradient every
 * backend has (TF.js's wasm backend has no convolution gradients), after the optional `headInput`.
 */
export interface TrainingHeads {
  headInput?: HeadInputHook;
}

/** Options of one forward pass. */
export interface ForwardOptions {
  /** Return (N, H, W) maps upsampled to the input size instead of (N,) spatial means. */
  spatial?: boolean;
  /** Inputs are in [0, 1]; map them with x -> 2x - 1 first. */
  normalize?: boolean;
}

/** The distance and its per-layer terms, as TF.js tensors (NCHW semantics, channel squeezed). */
export interface ForwardResult extends tf.TensorContainerObject {
  /** (N,) or, spatial, (N, H, W). */
  total: tf.Tensor;
  /** One tensor per tap, same shape as `total`; they sum to it. */
  layers: tf.Tensor[];
}

/** The LPIPS network on TF.js: trunk weights, heads and the forward pass. */
export class TfjsLpips {
  readonly #arch: Arch;
  readonly #config: HeadConfig;
  readonly #params = new Map<string, tf.Variable>();
  readonly #lin: tf.Variable<tf.Rank.R4>[] = [];
  readonly #shift: tf.Tensor;
  readonly #scale: tf.Tensor;

  /**
   * @param trunk the trunk's `<key>.weight` (OIHW) and `<key>.bias` tensors
   * @param lin the `lin{k}.model.1.weight` heads (needed when `config.lpips` is true)
   */
  constructor(arch: Arch, config: HeadConfig, trunk: WeightMap, lin?: WeightMap) {
    this.#arch = arch;
    this.#config = config;
    for (const c of convLayers(arch)) {
      const w = needWeight(trunk, `${c.key}.weight`);
      const oihw = tf.tensor4d(w, [c.outChannels, c.inChannels, c.kernel, c.kernel]);
      const hwio = tf.transpose(oihw, [2, 3, 1, 0]);
      this.#params.set(`${c.key}.weight`, tf.variable(hwio, false));
      tf.dispose([oihw, hwio]);
      const bias = tf.tensor1d(needWeight(trunk, `${c.key}.bias`));
      this.#params.set(`${c.key}.bias`, tf.variable(bias, false));
      bias.dispose();
    }
    if (config.lpips) {
      if (!lin) throw new Error("lpips=true needs the linear-head weights");
      arch.channels.forEach((ch, k) => {
        const w = tf.tensor4d(needWeight(lin, `lin${k}.model.1.weight`), [1, 1, ch, 1]);
        this.#lin.push(tf.variable(w, false));
        w.dispose();
      });
    }
    this.#shift = tf.keep(tf.tensor4d([...SHIFT], [1, 1, 1, 3]));
    this.#scale = tf.keep(tf.tensor4d([...SCALE], [1, 1, 1, 3]));
  }

  /** The number of tensors this model holds (for leak checks). */
  get numTensors(): number {
    return this.#params.size + this.#lin.length + 2;
  }

  /**
   * The trunk's parameters as TF.js variables, by state-dict key (`features.3.weight`, ...).
   * Weights are HWIO (TF.js's layout; `transpose([3, 2, 0, 1])` gives PyTorch's OIHW), biases 1-D.
   * Training assigns new values to them; inference only reads them.
   */
  get trunkVariables(): ReadonlyMap<string, tf.Variable> {
    return this.#params;
  }

  /** The linear heads as TF.js variables, each (1, 1, C_k, 1): the values of `lin{k}.model.1.weight`. */
  get linVariables(): readonly tf.Variable<tf.Rank.R4>[] {
    return this.#lin;
  }

  /** Frees every tensor the model holds (a second call does nothing). */
  dispose(): void {
    for (const t of this.#params.values()) t.dispose();
    for (const t of this.#lin) t.dispose();
    this.#shift.dispose();
    this.#scale.dispose();
    this.#params.clear();
    this.#lin.length = 0;
  }

  /**
   * Unit-normalised tapped features of an NCHW batch, as NHWC tensors. Computing them once lets a
   * 2AFC triplet reuse the reference image's features for both distances. `portableGrad`: run
   * the convolutions with a filter gradient built from ops every backend has (training the trunk
   * on wasm, which lacks `Conv2DBackpropFilter`); the forward values are the same.
   */
  features(
    x: tf.Tensor4D,
    normalize = false,
    opts: { portableGrad?: boolean } = {},
  ): tf.Tensor4D[] {
    return tf.tidy(() => {
      let h = tf.transpose(x, [0, 2, 3, 1]) as tf.Tensor4D;
      if (normalize) h = tf.sub(tf.mul(h, 2), 1);
      if (this.#config.version === "0.1") h = tf.div(tf.sub(h, this.#shift), this.#scale);
      const taps: tf.Tensor4D[] = [];
      const portable = opts.portableGrad ?? false;
      const fuse = !portable && fusesConvRelu();
      const layers = this.#arch.layers;
      for (let i = 0; i < layers.length; i++) {
        const layer = layers[i];
        if (
          fuse && layer.op === "conv" && layers[i + 1]?.op === "relu" &&
          !this.#arch.taps.includes(i)
        ) {
          // conv + bias + relu in one kernel: two fewer passes over the activations.
          h = this.#conv(layer.key, h, layer.stride, layer.pad, false, true);
          i++;
        } else {
          h = this.#apply(layer, h, portable, fuse);
        }
        if (this.#arch.taps.includes(i)) taps.push(unitNormalise(h));
      }
      return taps;
    });
  }

  /** The LPIPS distance between two feature lists from {@link features}. */
  compareFeatures(
    f0: tf.Tensor4D[],
    f1: tf.Tensor4D[],
    outSize: [number, number],
    spatial = false,
    training?: TrainingHeads,
  ): ForwardResult {
    return tf.tidy(() => {
      const layers = f0.map((a, k) => {
        const m = this.#head(k, a, f1[k], training);
        return spatial ? upsample(m, outSize) : tf.mean(m, [1, 2, 3]);
      });
      let total = layers[0];
      for (let k = 1; k < layers.length; k++) total = tf.add(total, layers[k]);
      return { total, layers };
    }) as ForwardResult;
  }

  /**
   * Each layer's distance map at its native resolution, (N, h_k, w_k, 1), between two feature
   * lists from {@link features}: {@link compareFeatures} without the spatial mean or upsampling.
   */
  layerMaps(f0: tf.Tensor4D[], f1: tf.Tensor4D[]): tf.Tensor4D[] {
    return tf.tidy(() => f0.map((a, k) => this.#head(k, a, f1[k])));
  }

  /** Head `k` on a pair of taps: the squared difference through the 1x1 conv (or channel sum). */
  #head(k: number, a: tf.Tensor4D, b: tf.Tensor4D, training?: TrainingHeads): tf.Tensor4D {
    let diff = tf.squaredDifference(a, b) as tf.Tensor4D;
    if (training?.headInput) diff = training.headInput(k, diff);
    return !this.#config.lpips
      ? tf.sum(diff, 3, true) as tf.Tensor4D
      : training
      ? linAsMatMul(diff, this.#lin[k])
      : tf.conv2d(diff, this.#lin[k], 1, "valid");
  }

  /** The full forward pass on two NCHW batches of the same shape. */
  forward(x0: tf.Tensor4D, x1: tf.Tensor4D, opts: ForwardOptions = {}): ForwardResult {
    return tf.tidy(() => {
      const f0 = this.features(x0, opts.normalize);
      const f1 = this.features(x1, opts.normalize);
      const [, , h, w] = x0.shape;
      return this.compareFeatures(f0, f1, [h, w], opts.spatial);
    }) as ForwardResult;
  }

  #apply(layer: Layer, h: tf.Tensor4D, portable: boolean, fuse = false): tf.Tensor4D {
    switch (layer.op) {
      case "relu":
        return tf.relu(h);
      case "conv":
        return this.#conv(layer.key, h, layer.stride, layer.pad, portable);
      case "maxpool": {
        const { kernel: k, stride: s } = layer;
        if (layer.ceil) {
          const padH = ceilPad(h.shape[1], k, s);
          const padW = ceilPad(h.shape[2], k, s);
          if (padH > 0 || padW > 0) h = tf.pad(h, [[0, 0], [0, padH], [0, padW], [0, 0]], POOL_PAD);
        }
        // tf.maxPool's values; ties in a window take PyTorch's gradient route on every backend.
        return maxPoolFirstMax(h, k, s);
      }
      case "fire": {
        const convRelu = (key: string, x: tf.Tensor4D, pad: number) =>
          fuse
            ? this.#conv(key, x, 1, pad, false, true)
            : tf.relu(this.#conv(key, x, 1, pad, portable));
        const sq = convRelu(layer.squeeze.key, h, 0);
        return tf.concat([
          convRelu(layer.expand1x1.key, sq, 0),
          convRelu(layer.expand3x3.key, sq, 1),
        ], 3);
      }
    }
  }

  /** `relu`: bias and relu fused into the convolution (one kernel; see {@link fusesConvRelu}). */
  #conv(
    key: string,
    h: tf.Tensor4D,
    stride: number,
    pad: number,
    portable = false,
    relu = false,
  ): tf.Tensor4D {
    const w = this.#params.get(`${key}.weight`) as tf.Tensor4D;
    const b = this.#params.get(`${key}.bias`) as tf.Tensor1D;
    if (portable) return tf.add(conv2dPortableGrad(h, w, stride, pad), b);
    const padding = pad === 0 ? "valid" : [[0, 0], [pad, pad], [pad, pad], [0, 0]] as [
      [number, number],
      [number, number],
      [number, number],
      [number, number],
    ];
    if (relu) {
      return tf.fused.conv2d({
        x: h,
        filter: w,
        strides: stride,
        pad: padding,
        bias: b,
        activation: "relu",
      });
    }
    return tf.add(tf.conv2d(h, w, stride, padding), b);
  }
}

/** Features on the TF.js engine: the per-tap NHWC tensors, owned by this object. */
class TfjsFeatures implements EngineFeatures {
  readonly engine = "tfjs";
  readonly #taps: tf.Tensor4D[];

  constructor(taps: tf.Tensor4D[]) {
    this.#taps = taps;
  }

  dispose(): void {
    tf.dispose(this.#taps);
  }

  /** The taps of features this engine computed; an error for any other. */
  static taps(f: EngineFeatures): tf.Tensor4D[] {
    if (!(#taps in f)) throw new Error(`${f.engine} features given to the tfjs engine`);
    return f.#taps;
  }
}

/** {@link TfjsLpips} behind the {@link Engine} interface: tensors in, plain arrays out. */
export class TfjsEngine implements Engine {
  readonly name = "tfjs";
  readonly #net: TfjsLpips;

  /** Runs `net`, which it then owns: {@link dispose} frees it. */
  constructor(net: TfjsLpips) {
    this.#net = net;
  }

  features(x: EngineInput, normalize: boolean): Promise<EngineFeatures> {
    const t = asTensor(x);
    try {
      return Promise.resolve(new TfjsFeatures(this.#net.features(t, normalize)));
    } finally {
      if (t !== x) t.dispose();
    }
  }

  async compare(
    f0: EngineFeatures,
    f1: EngineFeatures,
    outSize: [number, number],
    opts: CompareOptions,
  ): Promise<EngineResult> {
    const r = this.#net.compareFeatures(
      TfjsFeatures.taps(f0),
      TfjsFeatures.taps(f1),
      outSize,
      opts.spatial,
    );
    try {
      if (!opts.perLayer) {
        // Only the distances leave the device: one download (on a GPU each read is a round trip).
        return { total: await r.total.data() as Float32Array, layers: [] };
      }
      // The total and every layer in one download.
      const all = tf.tidy(() => tf.concat([r.total, ...r.layers].map((t) => tf.reshape(t, [-1]))));
      const flat = await all.data() as Float32Array;
      all.dispose();
      const n = r.total.size;
      const part = (k: number) => flat.slice(k * n, (k + 1) * n);
      return { total: part(0), layers: r.layers.map((_, k) => part(k + 1)) };
    } finally {
      tf.dispose([r.total, ...r.layers]);
    }
  }

  async distance(
    x0: EngineInput,
    x1: EngineInput,
    opts: CompareOptions & { normalize: boolean },
  ): Promise<EngineResult> {
    const t0 = asTensor(x0), t1 = asTensor(x1);
    let f0: EngineFeatures | undefined, f1: EngineFeatures | undefined;
    try {
      f0 = new TfjsFeatures(this.#net.features(t0, opts.normalize));
      f1 = new TfjsFeatures(this.#net.features(t1, opts.normalize));
      const [, , h, w] = t0.shape;
      return await this.compare(f0, f1, [h, w], opts);
    } finally {
      f0?.dispose();
      f1?.dispose();
      if (t0 !== x0) t0.dispose();
      if (t1 !== x1) t1.dispose();
    }
  }

  async layerMaps(x0: Nchw, x1: Nchw, normalize: boolean): Promise<Float32Array[]> {
    const maps = tf.tidy(() => {
      const t = (x: Nchw) => tf.tensor4d(x.data, x.shape as [number, number, number, number]);
      const f0 = this.#net.features(t(x0), normalize), f1 = this.#net.features(t(x1), normalize);
      return this.#net.layerMaps(f0, f1);
    });
    try {
      return await Promise.all(maps.map(async (m) => await m.data() as Float32Array));
    } finally {
      tf.dispose(maps);
    }
  }

  /** Frees the network. */
  dispose(): void {
    this.#net.dispose();
  }
}

/** A validated input as a tensor: the caller's own tensor, or a new one the caller must dispose. */
function asTensor(x: EngineInput): tf.Tensor4D {
  return x instanceof tf.Tensor ? x : tf.tensor4d(x.data, x.shape);
}

/**
 * Whether the active backend runs conv + bias + relu as one fused kernel: on a GPU (`webgpu`,
 * `tensorflow`) each unfused op is another pass over the activations in memory. Those backends
 * also have every convolution gradient the fused op's gradient needs; `wasm` lacks
 * `Conv2DBackpropFilter`, and `wasm`/`cpu` keep the separate ops their golden values were
 * checked with.
 */
export function fusesConvRelu(): boolean {
  const b = tf.getBackend();
  return b === "webgpu" || b === "tensorflow";
}

/** A (1, 1, C, 1) head applied to (N, H, W, C) as (NHW, C) x (C, 1). */
function linAsMatMul(x: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  const [n, h, wd, c] = x.shape;
  const y = tf.matMul(tf.reshape(x, [n * h * wd, c]), tf.reshape(w, [c, 1]));
  return tf.reshape(y, [n, h, wd, 1]);
}

/**
 * `f / (sqrt(sum_c f^2) + eps)` over the channel axis, with its gradient in closed form,
 * `(dy - u (dy . f) / |f|) / (|f| + eps)`: where `|f| = 0` the second term is 0 (its limit), so
 * an all-zero feature vector gives a finite gradient, not `sqrt`'s 0/0 (which a ReLU gradient
 * written as a product, TF.js's, would carry on to the input as NaN).
 */
const unitNormalise = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const f = args[0] as tf.Tensor4D;
  const save = args[1] as tf.GradSaveFunc;
  const norm = tf.sqrt(tf.sum(tf.square(f), 3, true));
  const denom = tf.add(norm, EPS);
  const unit = tf.div(f, denom);
  save([f, norm, denom, unit]);
  const gradFunc = (dy: tf.Tensor, [fs, n, d, u]: tf.Tensor[]) => {
    const t = tf.div(tf.sum(tf.mul(dy, fs), 3, true), tf.maximum(n, NORM_FLOOR));
    return tf.div(tf.sub(dy, tf.mul(u, t)), d);
  };
  return { value: unit, gradFunc };
}) as (f: tf.Tensor4D) => tf.Tensor4D;

/** Extra rows/columns PyTorch's ceil-mode pooling reads past the end of the input. */
function ceilPad(size: number, kernel: number, stride: number): number {
  let out = Math.ceil((size - kernel) / stride) + 1;
  if ((out - 1) * stride >= size) out--;
  return Math.max(0, (out - 1) * stride + kernel - size);
}

/** (N, h, w, 1) -> (N, H, W) bilinear, align_corners=False, as two small matrix products. */
function upsample(m: tf.Tensor4D, [outH, outW]: [number, number]): tf.Tensor3D {
  const [n, h, w] = m.shape;
  if (h === outH && w === outW) return tf.reshape(m, [n, h, w]);
  const ah = tf.tensor2d(upsampleMatrix(h, outH), [outH, h]);
  const awT = tf.transpose(tf.tensor2d(upsampleMatrix(w, outW), [outW, w]));
  const rows = tf.matMul(tf.reshape(m, [n * h, w]), awT); // (n*h, W)
  const byRow = tf.reshape(tf.transpose(tf.reshape(rows, [n, h, outW]), [1, 0, 2]), [h, n * outW]);
  const full = tf.matMul(ah, byRow); // (H, n*W)
  return tf.transpose(tf.reshape(full, [outH, n, outW]), [1, 0, 2]);
}
