/**
 * The `LPIPS` class: the public face of the metric (docs/algorithm.md §1). It resolves and checks the
 * weights, picks the engine and backend, validates inputs and returns plain typed arrays. All
 * inference goes through the chosen {@link Engine} (engine.ts); `distanceTensor` runs on TF.js,
 * `distanceWithGradient` on the engine (distance_gradient.ts).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { type Arch, arch, minInputSize, type NetName } from "./arch.ts";
import { type BackendName, useBackend } from "./backend.ts";
import {
  type Engine,
  ENGINE_NAMES,
  type EngineFeatures,
  type EngineInput,
  type EngineKind,
  type EngineName,
  type EngineResult,
  imageMeans,
  toNchw,
  type Version,
  VERSIONS,
} from "./engine.ts";
import { TfjsEngine, TfjsLpips } from "./tfjs_engine.ts";
import { type OnnxDevice, OnnxLpips, openOnnx } from "./onnx_engine.ts";
import { loadCheckpointTrunk, loadLinWeights, loadTrunkWeights } from "./weight_files.ts";
import { checkShapes, InputError } from "./validate.ts";
import {
  type LPIPSInput,
  prepareOne,
  preparePair,
  type Resized,
  type ResizeMode,
} from "./inputs.ts";
import { checkMask, type DistanceMask, maskedMeans } from "./mask.ts";
import { defaultTileSide, needsTiling, tiledLayerMaps } from "./tiled.ts";
import { addUpsampled } from "./upsample.ts";
import type { Tensor, Tensor4D } from "./tensor_types.ts";
import {
  type DistanceGradient,
  onnxDistanceGradient,
  sumOverBatch,
  tfjsDistanceGradient,
} from "./distance_gradient.ts";

export { ENGINE_NAMES, type EngineName, type Version, VERSIONS } from "./engine.ts";
export type { LPIPSInput, Resized, ResizeMode } from "./inputs.ts";
export type { DistanceMask } from "./mask.ts";

/** Options of {@link LPIPS.create}. Defaults follow the reference: alex, 0.1, calibrated. */
export interface LPIPSOptions {
  /** Trunk: "alex" (default), "squeeze" or "vgg" ("vgg16" is accepted as in the reference). */
  net?: NetName | "vgg16";
  /** "0.1" (default) or "0.0". */
  version?: Version;
  /** true (default): learned linear heads; false: the uncalibrated baseline (sum over channels). */
  lpips?: boolean;
  /**
   * Which engine runs inference (default "auto"; see {@link EngineName}). `auto` picks ONNX
   * Runtime when `--allow-ffi` is granted; without it, it runs TF.js and prints once per process
   * on stderr which engine it uses and the flag for the fast one (`lpips: engine auto -> tfjs
   * (wasm, 1 thread): run with --allow-ffi for ONNX Runtime (about 10x faster)`). Pass "tfjs" to
   * choose TF.js without that line.
   */
  engine?: EngineName;
  /** ONNX engine: intra-op threads (default: the number of logical cores). */
  threads?: number;
  /**
   * ONNX engine: "cpu" (default) or "webgpu", ONNX Runtime's WebGPU execution provider (Dawn over
   * Vulkan, Metal or D3D12, inside onnxruntime-node's binaries). It needs a GPU adapter Dawn
   * supports (Mesa's lavapipe is not one); without one the first distance is an error saying so.
   */
  onnxDevice?: OnnxDevice;
  /** TF.js backend (default "wasm"). The backend is process-wide. */
  backend?: BackendName;
  /** Folder with the weight files under their official names (else `LPIPS_WEIGHTS_DIR`). */
  weightsDir?: string;
  /** An explicit trunk weight file (a torchvision state dict, `features.*` keys). */
  trunkPath?: string;
  /** An explicit linear-head file (the reference's `model_path`). */
  linPath?: string;
  /** No download progress bar. */
  quiet?: boolean;
}

/** Per-call options of {@link LPIPS.distance}. */
export interface DistanceOptions {
  /** Also return the (N, 1, H, W) distance map, upsampled to the input size. */
  spatial?: boolean;
  /** Also return each layer's contribution. */
  perLayer?: boolean;
  /** The inputs are in [0, 1] rather than [-1, 1]. */
  normalize?: boolean;
  /**
   * Run the trunk in tiles of this many input pixels a side (rounded up to the trunk's total
   * stride; overlap added), so memory stays bounded however large the images are; `false`: never
   * tile. Default: tile when one image's largest activation would exceed `TILE_THRESHOLD_BYTES`
   * (128 MiB; alex: above about 2900 x 2900 px), with tiles of `defaultTileSide` (alex 544 px,
   * squeeze 528, vgg 496; see `TILE_BUDGET_BYTES`). Tiled results equal untiled ones up to float
   * rounding (see tiled.ts).
   */
  tile?: number | false;
  /**
   * Per-pixel weights >= 0, `{ data, shape: [N or 1, 1, H, W] }` at the (first) input's size:
   * the distance becomes the mask-weighted mean of the distance map, `Σ mask · map / Σ mask`
   * (and each of `layers` the same mean of its layer's map). 0 ignores a pixel; an all-ones mask
   * gives exactly the map's mean (`spatial: true`'s distance), which differs from the plain
   * distance by the upsampling's edge effects (alex: 1e-5 to 2.5e-5 on 64x64 patches; see
   * lpips/mask.ts). `map` is returned unmasked, only with `spatial`.
   */
  mask?: DistanceMask;
  /**
   * `"reference"`: when the inputs differ in size, resize the second to the first one's size
   * with Pillow's bicubic (`Image.resize(size, BICUBIC)`: on the 8-bit image for files and RGB
   * images, on the float planes, clamped to the input range, for tensors); the result's
   * `resized` says so. Without it, a size mismatch is an error that names this option.
   */
  resize?: ResizeMode;
}

/** A float32 NCHW map, (N, 1, H, W): the distance at every pixel of the input. */
export interface DistanceMap {
  /** The values in C order (row-major). */
  data: Float32Array;
  /** `[N, 1, H, W]`, H and W those of the input. */
  shape: [number, number, number, number];
}

/** What {@link LPIPS.distance} returns when options are given. */
export interface DistanceResult {
  /** N distances; with `spatial`, the mean of each map (what the reference's test_network prints). */
  distance: Float32Array;
  /** `spatial`: the distance map. */
  map?: DistanceMap;
  /** `perLayer`: L arrays of N values (each layer's spatial mean); they sum to `distance`. */
  layers?: Float32Array[];
  /** `perLayer` and `spatial`: each layer's upsampled map. */
  layerMaps?: DistanceMap[];
  /** `resize: "reference"`, when the second input was resized: its size before and after. */
  resized?: Resized;
}

/**
 * The LPIPS perceptual distance (Zhang et al., CVPR 2018): both images go through the trunk, the
 * tapped features are unit-normalised along the channels, their squared differences are weighted
 * by the linear heads, averaged over space and summed over the layers. 0 for identical images;
 * larger is more different. Made by {@link LPIPS.create}; free it with {@link LPIPS.dispose}.
 *
 * @example
 * ```ts
 * import { loadImage, LPIPS } from "@perceptual/lpips";
 * const m = await LPIPS.create({ net: "alex" });
 * const d = await m.distance(await loadImage("ex_ref.png"), await loadImage("ex_p0.png"));
 * console.log(d[0]); // 0.7219
 * m.dispose();
 * ```
 */
export class LPIPS {
  /** The trunk description. */
  readonly arch: Arch;
  /** The LPIPS version: "0.1" scales the input before the trunk, "0.0" does not. */
  readonly version: Version;
  /** true: the learnt linear heads weight the channels; false: the uncalibrated baseline. */
  readonly lpips: boolean;
  /** The TF.js backend of the model's TF.js network (process-wide). */
  readonly backend: BackendName;
  /** The engine that runs inference ("onnx" or "tfjs"; `auto` resolved). */
  readonly engine: EngineKind;
  /** Smallest image side the trunk accepts. */
  readonly minSize: number;
  /** The TF.js network: gradients ({@link distanceTensor}) run on it whatever the engine. */
  readonly #net: TfjsLpips;
  /** What runs inference: a {@link TfjsEngine} on `#net`, or the ONNX engine. */
  readonly #engine: Engine;
  #disposed = false;
  /** Async calls running now (see `#call`). */
  #calls = 0;

  /**
   * Use {@link LPIPS.create}.
   *
   * @ignore
   */
  private constructor(
    a: Arch,
    version: Version,
    lpips: boolean,
    backend: BackendName,
    net: TfjsLpips,
    engine: Engine,
  ) {
    this.arch = a;
    this.version = version;
    this.lpips = lpips;
    this.backend = backend;
    this.engine = engine.name;
    this.minSize = minInputSize(a);
    this.#net = net;
    this.#engine = engine;
  }

  /**
   * Loads (and if needed downloads) the weights and builds the model. Every option has the
   * reference's default: alex, version 0.1, calibrated; engine `auto`, backend `wasm`.
   */
  static async create(opts: LPIPSOptions = {}): Promise<LPIPS> {
    const net = opts.net === "vgg16" ? "vgg" : opts.net ?? "alex";
    const version = opts.version ?? "0.1";
    if (!isOneOf(VERSIONS, version)) {
      throw new RangeError(`unknown version "${version}" (expected ${orList(VERSIONS)})`);
    }
    const engine = opts.engine ?? "auto";
    if (!isOneOf(ENGINE_NAMES, engine)) {
      throw new RangeError(`unknown engine "${engine}" (expected ${orList(ENGINE_NAMES)})`);
    }
    const a = arch(net);
    const lpips = opts.lpips ?? true;
    const backend = opts.backend ?? "wasm";
    const fileOpts = { weightsDir: opts.weightsDir, quiet: opts.quiet };
    // A tune/scratch checkpoint given as linPath carries its own trunk, as the reference's
    // model_path does; an explicit trunkPath wins.
    const trunk =
      (lpips && opts.linPath && !opts.trunkPath
        ? await loadCheckpointTrunk(a, opts.linPath)
        : undefined) ?? await loadTrunkWeights(a, { ...fileOpts, path: opts.trunkPath });
    const lin = lpips
      ? await loadLinWeights(a, version, { ...fileOpts, path: opts.linPath })
      : undefined;
    const onnx = await openOnnx(
      engine,
      backend,
      (ort) =>
        new OnnxLpips(ort, a, { version, lpips }, trunk, lin, {
          threads: opts.threads,
          device: opts.onnxDevice,
        }),
    );
    const open = openModels.size > 0 ? [...openModels][0].backend : undefined;
    if (open !== undefined && open !== backend) {
      throw new Error(
        `the TF.js backend is process-wide: ${openModels.size} model(s) on "${open}" are still ` +
          `open; dispose them first, or create this one with backend: "${open}"`,
      );
    }
    await useBackend(backend);
    // The TF.js network is built for the onnx engine too: gradients (distanceTensor) run on it.
    const tfjs = new TfjsLpips(a, { version, lpips }, trunk, lin);
    const model = new LPIPS(a, version, lpips, backend, tfjs, onnx ?? new TfjsEngine(tfjs));
    openModels.add(model);
    return model;
  }

  /** The trunk name. */
  get net(): NetName {
    return this.arch.net;
  }

  /**
   * N distances between two batches of the same size. Each side is a file (path or `file:` URL),
   * an NCHW float32 batch in [-1, 1] (3 channels, or 1 for grey, repeated to RGB), a TF.js
   * tensor or an RGB image; a batch of 1 is compared with every image of the other side.
   *
   * @example Files, broadcasting and greyscale
   * ```ts
   * import { loadImage, LPIPS, stack } from "@perceptual/lpips";
   * const m = await LPIPS.create();
   * console.log(await m.distance("ex_ref.png", "ex_p0.png")); // Float32Array [0.7219]
   * const p0 = await loadImage("ex_p0.png"), p1 = await loadImage("ex_p1.png");
   * console.log(await m.distance("ex_ref.png", stack([p0, p1]))); // [0.7219, 0.1376]: 1 vs N
   * const green = p0.data.slice(64 * 64, 2 * 64 * 64); // one channel: [1, 1, 64, 64]
   * const grey = { data: green, shape: [1, 1, 64, 64] as [number, number, number, number] };
   * console.log(await m.distance(grey, grey)); // Float32Array [0]: the channel repeated to RGB
   * m.dispose();
   * ```
   */
  distance(a: LPIPSInput, b: LPIPSInput): Promise<Float32Array>;
  /**
   * Distances with optional maps, per-layer terms, a mask, or a resize of the second input.
   *
   * @example A mask, and a pair of different sizes
   * ```ts
   * import { LPIPS } from "@perceptual/lpips";
   * const m = await LPIPS.create();
   * const mask = new Float32Array(64 * 64);
   * mask.fill(1, 0, 32 * 64); // the top half only
   * const top = await m.distance("ex_ref.png", "ex_p0.png", {
   *   mask: { data: mask, shape: [1, 1, 64, 64] },
   * });
   * console.log(top.distance); // the mean of the distance map over the top half
   * // ex_ref.png is 64x64; any other size is resized to it only when asked:
   * const r = await m.distance("ex_ref.png", "ex_p0.png", { resize: "reference" });
   * console.log(r.resized); // undefined: the sizes already agree
   * m.dispose();
   * ```
   */
  distance(a: LPIPSInput, b: LPIPSInput, opts: DistanceOptions): Promise<DistanceResult>;
  async distance(
    a: LPIPSInput,
    b: LPIPSInput,
    opts?: DistanceOptions,
  ): Promise<Float32Array | DistanceResult> {
    using _call = this.#call();
    const normalize = opts?.normalize ?? false;
    const { inputs: [v0, v1], resized } = await preparePair(a, b, {
      normalize,
      resize: opts?.resize,
      minSize: this.minSize,
      net: this.net,
    });
    const [n, , h, w] = v0.shape;
    const mask = opts?.mask;
    const maskSums = mask === undefined ? undefined : checkMask(mask, n, h, w);
    const tile = opts?.tile;
    if (tile !== undefined && tile !== false && !(Number.isInteger(tile) && tile > 0)) {
      throw new InputError(`tile must be a positive integer or false (got ${tile})`);
    }
    // A mask weighs the distance map: compute it even when the caller does not want it back.
    const want = { spatial: !!opts?.spatial || mask !== undefined, perLayer: !!opts?.perLayer };
    const r = tile !== false && (tile !== undefined || needsTiling(this.arch, h, w))
      ? await this.#tiled(v0, v1, tile ?? defaultTileSide(this.arch), normalize, want)
      : await this.#engine.distance(v0, v1, { ...want, normalize });
    if (!opts) return r.total;
    const out = readResult(r, v0.shape, want);
    if (mask !== undefined && maskSums !== undefined) {
      out.distance = maskedMeans(r.total, mask, maskSums, n);
      if (want.perLayer) out.layers = r.layers.map((l) => maskedMeans(l, mask, maskSums, n));
      if (!opts.spatial) {
        delete out.map;
        delete out.layerMaps;
      }
    }
    if (resized) out.resized = resized;
    return out;
  }

  /**
   * The trunk features of a batch, to compare against several others without recomputing them
   * (a 2AFC triplet's reference). Valid for any model with the same net and version; call
   * `dispose()` on the result when done.
   *
   * @example
   * ```ts
   * import { loadImage, LPIPS } from "@perceptual/lpips";
   * const m = await LPIPS.create();
   * const ref = await m.features(await loadImage("ex_ref.png"));
   * const p0 = await m.features("ex_p0.png"); // a file path (or file: URL) works too
   * const [d0] = await m.compare(ref, p0);
   * ref.dispose();
   * p0.dispose();
   * ```
   */
  async features(x: LPIPSInput, opts: { normalize?: boolean } = {}): Promise<Features> {
    using _call = this.#call();
    const normalize = opts.normalize ?? false;
    const v = await prepareOne(x, { normalize, minSize: this.minSize, net: this.net });
    const shape = [...v.shape] as [number, number, number, number];
    const handle = await this.#engine.features(v, normalize);
    if (this.#disposed) handle.dispose(); // disposed meanwhile: the call fails (#call), frees it
    return new Features(this.net, this.version, shape, handle);
  }

  /** N distances between two feature sets from {@link features}. */
  compare(f0: Features, f1: Features): Promise<Float32Array>;
  /** Distances with optional maps and per-layer terms, from {@link features}. */
  compare(f0: Features, f1: Features, opts: DistanceOptions): Promise<DistanceResult>;
  async compare(
    f0: Features,
    f1: Features,
    opts?: DistanceOptions,
  ): Promise<Float32Array | DistanceResult> {
    using _call = this.#call();
    for (const f of [f0, f1]) {
      if (f.net !== this.net || f.version !== this.version) {
        throw new InputError(
          `features of ${f.net} v${f.version} cannot be compared by a ${this.net} v${this.version} model`,
        );
      }
      if (f.disposed) throw new InputError("features were already disposed");
      if (f.engine !== this.engine) {
        throw new InputError(
          `features from the ${f.engine} engine cannot be compared on the ${this.engine} engine`,
        );
      }
    }
    if (f0.shape.some((d, i) => d !== f1.shape[i])) {
      throw new InputError(`inputs differ in shape: [${f0.shape}] vs [${f1.shape}]`);
    }
    const [, , h, w] = f0.shape;
    const r = await this.#engine.compare(handleOf(f0), handleOf(f1), [h, w], {
      spatial: opts?.spatial,
      perLayer: opts?.perLayer,
    });
    return opts ? readResult(r, f0.shape, opts) : r.total;
  }

  /** The distance of a pair computed tile by tile (lpips/tiled.ts), as the engines return it. */
  async #tiled(
    v0: EngineInput,
    v1: EngineInput,
    side: number,
    normalize: boolean,
    opts: { spatial: boolean; perLayer: boolean },
  ): Promise<EngineResult> {
    const [n, , h, w] = v0.shape;
    const { maps, sizes } = await tiledLayerMaps(
      this.arch,
      await toNchw(v0),
      await toNchw(v1),
      side,
      (a, b) => this.#engine.layerMaps(a, b, normalize),
      this.minSize,
    );
    if (!opts.spatial) {
      const layers = maps.map((m) => imageMeans(m, n));
      const total = new Float32Array(n);
      for (const l of layers) for (let i = 0; i < n; i++) total[i] += l[i];
      return { total, layers };
    }
    // Upsampled row by row into the total (and, only when asked, into per-layer maps).
    const total = new Float32Array(n * h * w);
    const layers: Float32Array[] = [];
    maps.forEach((m, k) => {
      if (!opts.perLayer) return addUpsampled(m, n, sizes[k], [h, w], total);
      const own = new Float32Array(n * h * w);
      addUpsampled(m, n, sizes[k], [h, w], own);
      for (let i = 0; i < own.length; i++) total[i] += own[i];
      layers.push(own);
    });
    return { total, layers };
  }

  /**
   * The N distances and the gradient of their sum with respect to `a` (`a`'s shape): LPIPS as a
   * loss, with no TF.js in the caller's code. On the onnx engine this runs ONNX Runtime's
   * backward graph (several times faster than {@link distanceTensor} under `tf.grad`, and about
   * PyTorch's speed); on the tfjs engine it is `tf.grad` over the TF.js network. Inputs as for
   * {@link distance} (files, grey batches, in [-1, 1] or [0, 1] with `normalize`, the gradient then
   * being per unit of the [0, 1] input); a single `a` against N images gets one gradient, the sum
   * over the N pairs; no `resize`, `mask` or tiling, so one step's activations must fit in memory. Where a feature
   * vector is all zero the gradient is finite (PyTorch's autograd makes a NaN inside, which its
   * ReLU backward then masks: the values agree).
   *
   * @example Ten gradient steps that bring an image closer to a target
   * ```ts
   * import { LPIPS } from "@perceptual/lpips";
   * const m = await LPIPS.create({ net: "alex" });
   * const shape: [number, number, number, number] = [1, 3, 64, 64];
   * const target = { data: new Float32Array(3 * 64 * 64).fill(0.5), shape };
   * const x = { data: new Float32Array(3 * 64 * 64), shape };
   * for (let step = 0; step < 10; step++) {
   *   const { distance, gradient } = await m.distanceWithGradient(x, target);
   *   for (let i = 0; i < x.data.length; i++) {
   *     x.data[i] = Math.min(1, Math.max(-1, x.data[i] - 0.5 * gradient.data[i]));
   *   }
   *   if (step === 9) console.log(distance[0]);
   * }
   * m.dispose();
   * ```
   */
  async distanceWithGradient(
    a: LPIPSInput,
    b: LPIPSInput,
    opts: { normalize?: boolean } = {},
  ): Promise<DistanceGradient> {
    using _call = this.#call();
    const normalize = opts.normalize ?? false;
    const { inputs: [v0, v1], repeated } = await preparePair(a, b, {
      normalize,
      minSize: this.minSize,
      net: this.net,
    });
    const r = this.#engine instanceof OnnxLpips
      ? await onnxDistanceGradient(this.#engine, v0, v1, normalize)
      : await tfjsDistanceGradient(this.#net, v0, v1, normalize);
    // A single `a` compared with N images: its gradient is the sum over the N copies.
    return repeated === 0 ? { ...r, gradient: sumOverBatch(r.gradient) } : r;
  }

  /**
   * The distance as a differentiable TF.js tensor ((N,), or (N, H, W) with `spatial`), for use as
   * a loss inside `tf.grad` / `tf.tidy`. Shapes are checked; values are not (no read-back).
   * It always runs on TF.js (wasm: one thread). When the image comes out of your own TF.js model
   * `g`, {@link distanceWithGradient} on the onnx engine is several times faster: take its
   * gradient `dy` with respect to the image and hand it to TF.js's backward as the upstream
   * gradient, `tf.grad(g)(input, dy)` (or `tf.variableGrads(() => tf.sum(tf.mul(g(input), dy)))`
   * for `g`'s weights). Keep `distanceTensor` for losses that TF.js must differentiate whole (on
   * the tfjs engine, or a GPU backend).
   * The package registers the gradients of the ops LPIPS uses (tfjs-core alone has none); a loss
   * that adds other ops (`tf.abs`, `tf.image.*`, ...) needs TF.js's full set: import
   * `npm:@tensorflow/tfjs@4.22.0` once, and its gradients take precedence.
   *
   * @example
   * ```ts
   * import * as tf from "@tensorflow/tfjs-core";
   * import { LPIPS } from "@perceptual/lpips";
   * const m = await LPIPS.create();
   * const target = tf.zeros([1, 3, 64, 64]) as tf.Tensor4D;
   * const grad = tf.grad((x: tf.Tensor) => tf.sum(m.distanceTensor(x as tf.Tensor4D, target)));
   * ```
   */
  distanceTensor(
    a: Tensor4D,
    b: Tensor4D,
    opts: { spatial?: boolean; normalize?: boolean } = {},
  ): Tensor {
    this.#checkOpen();
    checkShapes(a.shape, b.shape, this.minSize, this.net);
    return tf.tidy(() => {
      const r = this.#net.forward(a, b, opts);
      return r.total;
    });
  }

  /**
   * Frees the model's tensors and sessions. The model cannot be used afterwards: its methods
   * throw, and a call still running when it is disposed ends with the same error (its tensors
   * are freed when it ends). A second call does nothing.
   */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    openModels.delete(this);
    // A call still running keeps the tensors until it ends, then fails with the disposed error.
    if (this.#calls === 0) this.#free();
  }

  #free(): void {
    this.#engine.dispose();
    // On the tfjs engine this is the engine's own network, already freed (a no-op then).
    this.#net.dispose();
  }

  /**
   * Enters an async call (`using _call = this.#call()`): refused on a disposed model; a model
   * disposed while the call runs is freed when it ends, and the call fails with the same error.
   */
  #call(): Disposable {
    this.#checkOpen();
    this.#calls++;
    return {
      [Symbol.dispose]: () => {
        this.#calls--;
        if (!this.#disposed) return;
        if (this.#calls === 0) this.#free();
        this.#checkOpen();
      },
    };
  }

  /** {@link dispose}, for `using m = await LPIPS.create()`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #checkOpen(): void {
    if (this.#disposed) {
      throw new Error("this LPIPS model was disposed; create a new one with LPIPS.create()");
    }
  }
}

/** Models not yet disposed: their TF.js tensors live on the one process-wide backend. */
const openModels = new Set<LPIPS>();

/** The engine's handle inside a {@link Features} (for {@link LPIPS.compare} only). */
let handleOf: (f: Features) => EngineFeatures;

/** Unit-normalised trunk features of a batch (see {@link LPIPS.features}). */
export class Features {
  /** The trunk that computed them. */
  readonly net: NetName;
  /** The LPIPS version of the model that computed them. */
  readonly version: Version;
  /** The NCHW shape of the images they came from. */
  readonly shape: readonly [number, number, number, number];
  /** The engine that computed them (and the only one that can compare them). */
  readonly engine: EngineKind;
  readonly #handle: EngineFeatures;
  #disposed = false;

  static {
    handleOf = (f) => f.#handle;
  }

  /**
   * Made by {@link LPIPS.features}, not by hand. `handle`: what the engine computed (TF.js
   * tensors or NCHW arrays), owned by this object.
   *
   * @ignore
   */
  constructor(
    net: NetName,
    version: Version,
    shape: readonly [number, number, number, number],
    handle: EngineFeatures,
  ) {
    this.net = net;
    this.version = version;
    this.shape = shape;
    this.#handle = handle;
    this.engine = handle.engine;
  }

  /** Whether {@link dispose} was called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Frees the tensors (a second call does nothing). */
  dispose(): void {
    if (!this.#disposed) this.#handle.dispose();
    this.#disposed = true;
  }

  /** {@link dispose}, for `using f = await m.features(x)`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Whether `x` is one of `values` (narrowing it to their type). */
function isOneOf<T extends string>(values: readonly T[], x: string): x is T {
  return (values as readonly string[]).includes(x);
}

/** `"a", "b" or "c"`: the quoted values for an error message. */
function orList(values: readonly string[]): string {
  const q = values.map((v) => `"${v}"`);
  return q.length < 2 ? q.join("") : `${q.slice(0, -1).join(", ")} or ${q[q.length - 1]}`;
}

/** The engine's result as the caller asked for it (`opts`: what the engine computed). */
function readResult(
  r: EngineResult,
  [n, , h, w]: readonly number[],
  opts: { spatial?: boolean; perLayer?: boolean },
): DistanceResult {
  if (!opts.spatial) return { distance: r.total, layers: opts.perLayer ? r.layers : undefined };
  const shape: [number, number, number, number] = [n, 1, h, w];
  const map = { data: r.total, shape };
  const out: DistanceResult = { distance: imageMeans(map.data, n), map };
  if (opts.perLayer) {
    out.layerMaps = r.layers.map((data) => ({ data, shape }));
    out.layers = out.layerMaps.map((m) => imageMeans(m.data, n));
  }
  return out;
}
