/**
 * The ONNX Runtime engine: builds the LPIPS forward graph (docs/algorithm.md §1.1) in memory from an
 * {@link Arch} and the loaded weights, and runs it with `onnxruntime-node` on the CPU, behind the
 * {@link Engine} interface, and the input gradient (onnx_backward.ts). Tensors are
 * NCHW throughout, as in PyTorch.
 *
 * Graphs (built lazily, one ONNX Runtime session each, dynamic batch and image size):
 * - `images` inputs `x0..`, `pairs` of them compared: outputs `d{p}_l{k}` per layer and, spatial,
 *   their sum `d{p}` (N, 1, H, W). A pair `[[0, 1]]` is a plain distance; `[[0, 1], [0, 2]]` a
 *   2AFC triplet that runs the reference's trunk once.
 * - features: `x0` -> the unit-normalised taps `f{k}` (N, C_k, h_k, w_k).
 * - compare: `a{k}`, `b{k}` -> `d0_l{k}` (and, spatial, `d0`).
 * Non-spatial graphs output each layer's map at its native resolution, (N, 1, h_k, w_k); the
 * spatial means are taken here, per image in float64, so a distance does not depend on the batch
 * it was computed in (ONNX Runtime's ReduceMean sums an image's values in an order that depends on
 * where they sit in the batch's buffer). The tiled path ({@link OnnxLpips.layerMaps}) reads the
 * same native maps.
 * Spatial graphs also take the bilinear upsampling matrices `uh{k}` (H, h_k) and `uw{k}`
 * (w_k, W) of {@link upsampleMatrix} as inputs, so the maps match PyTorch's `align_corners=False`
 * exactly as the TF.js engine's do.
 *
 * @module
 */
import type * as Ort from "onnxruntime-node";
import { type Arch, type ConvLayer, convLayers, tapSizes } from "./arch.ts";
import {
  type CompareOptions,
  type Engine,
  type EngineFeatures,
  type EngineInput,
  type EngineResult,
  EPS,
  type HeadConfig,
  imageMeans,
  type Nchw,
  needWeight,
  SCALE,
  SHIFT,
  toNchw,
  type WeightMap,
} from "./engine.ts";
import { GraphBuilder } from "./onnx_proto.ts";
import { buildGradientGraph } from "./onnx_backward.ts";
import type { BackendName } from "./backend.ts";
import type { EngineName } from "./engine.ts";
import { noteAutoFallback } from "./_engine_notice.ts";
import { upsampleMatrix } from "./upsample.ts";

/** The onnxruntime-node module. */
export type OrtModule = typeof Ort;

/** Where ONNX Runtime runs the network: its CPU or its WebGPU execution provider. */
export type OnnxDevice = "cpu" | "webgpu";

/** Options of the ONNX engine. */
export interface OnnxOptions {
  /** Default "cpu"; "webgpu" needs a GPU adapter that Dawn supports. */
  device?: OnnxDevice;
  /** Intra-op threads (default: the number of logical cores). */
  threads?: number;
  /**
   * Let idle worker threads spin between runs (ONNX Runtime's default). Off by default here:
   * spinning threads take the cores from whatever runs between two inferences (image decoding,
   * another process), which costs more than the spin saves on small CPU machines.
   */
  spinning?: boolean;
}

/** What one graph computes. */
interface GraphSpec {
  kind: "images" | "features" | "compare" | "gradient";
  /** images: how many image inputs. */
  images?: number;
  /** images: which inputs are compared (each pair gives one distance output). */
  pairs?: [number, number][];
  spatial?: boolean;
  normalize?: boolean;
}

let ortModule: Promise<OrtModule> | undefined;

/**
 * Whether this process may load Node-API addons (`--allow-ffi`). Checked without a prompt: the
 * `auto` engine choice never asks for the permission.
 */
function ffiGranted(): boolean {
  try {
    return Deno.permissions.querySync({ name: "ffi" }).state === "granted";
  } catch {
    return false;
  }
}

/**
 * The ONNX engine an `engine` choice asks for: `make`'s for "onnx" (an error naming the cause
 * when ONNX Runtime cannot load) and for "auto" when `--allow-ffi` is granted (undefined when it
 * cannot load); undefined for "tfjs", and for "auto" without the flag, which then says once on
 * stderr that `backend` runs instead (`auto` never prompts for the permission).
 */
export async function openOnnx<T = OnnxLpips>(
  engine: EngineName,
  backend: BackendName,
  make: (ort: OrtModule) => T,
): Promise<T | undefined> {
  const ffi = ffiGranted();
  if (engine === "auto" && !ffi) noteAutoFallback(backend);
  if (engine === "tfjs" || (engine === "auto" && !ffi)) return undefined;
  try {
    return make(await loadOrt());
  } catch (e) {
    if (engine === "auto") return undefined;
    throw new Error(
      `the onnx engine needs onnxruntime-node (and --allow-ffi): ${
        e instanceof Error ? e.message : e
      }`,
    );
  }
}

/**
 * Loads `onnxruntime-node` (a Node-API addon: Deno needs `--allow-ffi`). Rejects when it cannot
 * be loaded, so callers can fall back to the TF.js engine.
 */
export function loadOrt(): Promise<OrtModule> {
  ortModule ??= import("onnxruntime-node").then((m) => (m.default ?? m) as OrtModule);
  const p = ortModule;
  p.catch(() => ortModule = undefined);
  return p;
}

/** Features on the ONNX engine: the per-tap NCHW arrays (plain memory: nothing to free). */
class OnnxFeatures implements EngineFeatures {
  readonly engine = "onnx";
  readonly #taps: Nchw[];

  constructor(taps: Nchw[]) {
    this.#taps = taps;
  }

  dispose(): void {}

  /** The taps of features this engine computed; an error for any other. */
  static taps(f: EngineFeatures): Nchw[] {
    if (!(#taps in f)) throw new Error(`${f.engine} features given to the onnx engine`);
    return f.#taps;
  }
}

/** The LPIPS network on ONNX Runtime. */
export class OnnxLpips implements Engine {
  readonly name = "onnx";
  readonly #ort: OrtModule;
  readonly #arch: Arch;
  readonly #config: HeadConfig;
  readonly #trunk: WeightMap;
  readonly #lin?: WeightMap;
  readonly #threads: number;
  readonly #spinning: boolean;
  readonly #device: OnnxDevice;
  readonly #sessions = new Map<string, Promise<Ort.InferenceSession>>();

  constructor(
    ort: OrtModule,
    arch: Arch,
    config: HeadConfig,
    trunk: WeightMap,
    lin?: WeightMap,
    opts: OnnxOptions = {},
  ) {
    if (config.lpips && !lin) throw new Error("lpips=true needs the linear-head weights");
    this.#ort = ort;
    this.#arch = arch;
    this.#config = config;
    this.#trunk = trunk;
    this.#lin = lin;
    this.#threads = opts.threads ?? navigator.hardwareConcurrency ?? 1;
    this.#spinning = opts.spinning ?? false;
    this.#device = opts.device ?? "cpu";
  }

  /** Unit-normalised tapped features (NCHW) of one batch. */
  async features(x: EngineInput, normalize = false): Promise<EngineFeatures> {
    return new OnnxFeatures(await this.taps(await toNchw(x), normalize));
  }

  /** The unit-normalised taps of one batch as plain NCHW arrays (what {@link features} holds). */
  async taps(x: Nchw, normalize = false): Promise<Nchw[]> {
    const s = await this.#session({ kind: "features", normalize });
    const out = await s.run({ x0: this.#tensor(x) });
    return this.#arch.taps.map((_, k) => plain(out[`f${k}`]));
  }

  /** The distance between two feature sets from {@link features} (per-layer terms always). */
  async compare(
    f0: EngineFeatures,
    f1: EngineFeatures,
    outSize: [number, number],
    opts: CompareOptions = {},
  ): Promise<EngineResult> {
    const spatial = opts.spatial ?? false;
    const a = OnnxFeatures.taps(f0), b = OnnxFeatures.taps(f1);
    const s = await this.#session({ kind: "compare", spatial });
    const feeds: Record<string, Ort.Tensor> = {};
    a.forEach((f, k) => {
      feeds[`a${k}`] = this.#tensor(f);
      feeds[`b${k}`] = this.#tensor(b[k]);
    });
    if (spatial) this.#upsampleFeeds(feeds, outSize);
    return this.#results(await s.run(feeds), 1, spatial)[0];
  }

  /** The distance between two batches of one shape: the pair graph (per-layer terms always). */
  async distance(
    x0: EngineInput,
    x1: EngineInput,
    opts: CompareOptions & { normalize: boolean },
  ): Promise<EngineResult> {
    const [r] = await this.distances([await toNchw(x0), await toNchw(x1)], [[0, 1]], opts);
    return r;
  }

  /**
   * Distances between image batches of one shape: `pairs` index `images` (default: the one pair
   * `[0, 1]`). Each image's trunk runs once, however many pairs use it.
   */
  async distances(
    images: Nchw[],
    pairs: [number, number][] = [[0, 1]],
    opts: { spatial?: boolean; normalize?: boolean } = {},
  ): Promise<EngineResult[]> {
    const spatial = opts.spatial ?? false;
    const s = await this.#session({
      kind: "images",
      images: images.length,
      pairs,
      spatial,
      normalize: opts.normalize ?? false,
    });
    const feeds: Record<string, Ort.Tensor> = {};
    images.forEach((x, i) => feeds[`x${i}`] = this.#tensor(x));
    if (spatial) this.#upsampleFeeds(feeds, [images[0].shape[2], images[0].shape[3]]);
    return this.#results(await s.run(feeds), pairs.length, spatial);
  }

  /**
   * Each layer's distance map at its native resolution, (N, 1, h_k, w_k) row-major, between two
   * batches of one shape: what the tiled path (`tiledLayerMaps`, tiled.ts) assembles.
   */
  async layerMaps(x0: Nchw, x1: Nchw, normalize = false): Promise<Float32Array[]> {
    const s = await this.#session({ kind: "images", images: 2, normalize });
    const out = await s.run({ x0: this.#tensor(x0), x1: this.#tensor(x1) });
    return this.#arch.taps.map((_, k) => out[`d0_l${k}`].data as Float32Array);
  }

  /**
   * The N distances between two batches of one shape and the gradient of their sum with respect
   * to `x0` (NCHW, `x0`'s shape): the backward graph of onnx_backward.ts.
   */
  async distanceWithGradient(
    x0: Nchw,
    x1: Nchw,
    normalize = false,
  ): Promise<{ distance: Float32Array; gradient: Float32Array }> {
    const s = await this.#session({ kind: "gradient", normalize });
    const out = await s.run({ x0: this.#tensor(x0), x1: this.#tensor(x1) });
    const [{ total }] = this.#results(out, 1);
    return { distance: total, gradient: out.grad.data as Float32Array };
  }

  /** Releases the sessions. */
  async dispose(): Promise<void> {
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const s of all) await s.then((x) => x.release(), () => {});
  }

  #tensor(x: Nchw): Ort.Tensor {
    return new this.#ort.Tensor("float32", x.data, [...x.shape]);
  }

  #upsampleFeeds(feeds: Record<string, Ort.Tensor>, [h, w]: [number, number]): void {
    const hs = tapSizes(this.#arch, h), ws = tapSizes(this.#arch, w);
    hs.forEach((hk, k) => {
      feeds[`uh${k}`] = new this.#ort.Tensor("float32", upsampleMatrix(hk, h), [h, hk]);
      feeds[`uw${k}`] = new this.#ort.Tensor("float32", transposed(upsampleMatrix(ws[k], w), w), [
        ws[k],
        w,
      ]);
    });
  }

  #results(out: Ort.InferenceSession.ReturnType, n: number, spatial = false): EngineResult[] {
    return Array.from({ length: n }, (_, p) => {
      const maps = this.#arch.taps.map((_, k) => out[`d${p}_l${k}`]);
      if (spatial) {
        return { total: out[`d${p}`].data as Float32Array, layers: maps.map((t) => plain(t).data) };
      }
      // Spatial means of the native maps; the total adds them in float32, layer by layer.
      const layers = maps.map((t) => imageMeans(t.data as Float32Array, t.dims[0]));
      const total = new Float32Array(layers[0].length);
      for (const l of layers) for (let i = 0; i < total.length; i++) total[i] += l[i];
      return { total, layers };
    });
  }

  #session(spec: GraphSpec): Promise<Ort.InferenceSession> {
    const key = JSON.stringify(spec);
    let s = this.#sessions.get(key);
    if (!s) {
      const model = spec.kind === "gradient"
        ? buildGradientGraph(this.#arch, this.#config, this.#trunk, this.#lin, {
          normalize: spec.normalize ?? false,
        })
        : buildGraph(this.#arch, this.#config, this.#trunk, this.#lin, spec);
      s = this.#ort.InferenceSession.create(model, {
        graphOptimizationLevel: "all",
        intraOpNumThreads: this.#threads,
        interOpNumThreads: 1,
        executionMode: "sequential",
        executionProviders: [this.#device],
        logSeverityLevel: 3,
        extra: { session: { intra_op: { allow_spinning: this.#spinning ? "1" : "0" } } },
      }).catch((e) => {
        if (this.#device !== "webgpu") throw e;
        const lines = (e instanceof Error ? e.message : String(e)).split("\n");
        const why = lines.map((l) => l.trim()).filter(Boolean).pop() ?? "no reason given";
        throw new Error(
          `onnx engine on webgpu: ONNX Runtime's WebGPU execution provider (Dawn) found no GPU ` +
            `adapter it supports (${why.replace(/^.*was false\. /, "")})`,
        );
      });
      this.#sessions.set(key, s);
      // A failed build is not cached: the next call tries again.
      s.catch(() => this.#sessions.delete(key));
    }
    return s;
  }
}

function plain(t: Ort.Tensor): Nchw {
  return { data: t.data as Float32Array, shape: t.dims };
}

/** Transposes a row-major (rows x cols) matrix. */
function transposed(m: Float32Array, rows: number): Float32Array {
  const cols = m.length / rows;
  const t = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
  return t;
}

/** The serialised ONNX model for `spec`. */
export function buildGraph(
  a: Arch,
  config: HeadConfig,
  trunk: WeightMap,
  lin: WeightMap | undefined,
  spec: GraphSpec,
): Uint8Array {
  const g = new GraphBuilder();
  const L = a.taps.length;
  /** A value added to the graph on first use only (unused initializers draw warnings). */
  const once = <T>(make: () => T) => {
    let v: T | undefined;
    return () => v ??= make();
  };
  // Weights are shared by every trunk of the graph.
  const params = once(() =>
    new Map(
      convLayers(a).map((c) => {
        const w = g.initializer(
          `${c.key}.weight`,
          [c.outChannels, c.inChannels, c.kernel, c.kernel],
          needWeight(trunk, `${c.key}.weight`),
        );
        const b = g.initializer(
          `${c.key}.bias`,
          [c.outChannels],
          needWeight(trunk, `${c.key}.bias`),
        );
        return [c.key, [w, b]];
      }),
    )
  );
  const shift = once(() => g.floats([1, 3, 1, 1], SHIFT));
  const scale = once(() => g.floats([1, 3, 1, 1], SCALE));
  const two = once(() => g.floats([], [2])), one = once(() => g.floats([], [1]));
  const eps = once(() => g.floats([], [EPS]));

  const conv = (c: ConvLayer, x: string) =>
    g.node("Conv", [x, ...params().get(c.key)!], {
      kernel_shape: { ints: [c.kernel, c.kernel] },
      strides: { ints: [c.stride, c.stride] },
      pads: { ints: [c.pad, c.pad, c.pad, c.pad] },
    });
  const convRelu = (c: ConvLayer, x: string) => g.node("Relu", [conv(c, x)]);

  /** Input -> unit-normalised taps. */
  const features = (x: string, normalize: boolean): string[] => {
    let h = x;
    if (normalize) h = g.node("Sub", [g.node("Mul", [h, two()]), one()]);
    if (config.version === "0.1") h = g.node("Div", [g.node("Sub", [h, shift()]), scale()]);
    const taps: string[] = [];
    a.layers.forEach((layer, i) => {
      switch (layer.op) {
        case "relu":
          h = g.node("Relu", [h]);
          break;
        case "conv":
          h = conv(layer, h);
          break;
        case "maxpool":
          h = g.node("MaxPool", [h], {
            kernel_shape: { ints: [layer.kernel, layer.kernel] },
            strides: { ints: [layer.stride, layer.stride] },
            ceil_mode: layer.ceil ? 1 : 0,
          });
          break;
        case "fire": {
          const sq = convRelu(layer.squeeze, h);
          h = g.node("Concat", [convRelu(layer.expand1x1, sq), convRelu(layer.expand3x3, sq)], {
            axis: 1,
          });
          break;
        }
      }
      if (a.taps.includes(i)) {
        const norm = g.node("Sqrt", [g.node("ReduceSumSquare", [h], { axes: { ints: [1] } })]);
        taps.push(g.node("Div", [h, g.node("Add", [norm, eps()])]));
      }
    });
    return taps;
  };

  const lins = once(() =>
    a.channels.map((ch, k) =>
      g.initializer(`lin${k}`, [1, ch, 1, 1], needWeight(lin, `lin${k}.model.1.weight`))
    )
  );
  const chanAxis = once(() => g.ints([1]));

  /** Two tap lists -> outputs `d{p}_l{k}` (native maps, or upsampled with their sum `d{p}`). */
  const compare = (f0: string[], f1: string[], p: number, spatial: boolean) => {
    const layers = f0.map((a0, k) => {
      const d = g.node("Sub", [a0, f1[k]]);
      const sq = g.node("Mul", [d, d]);
      const m = config.lpips
        ? g.node("Conv", [sq, lins()[k]], { kernel_shape: { ints: [1, 1] } })
        : g.node("ReduceSum", [sq, chanAxis()], { keepdims: 1 });
      if (!spatial) return m;
      return g.node("MatMul", [g.node("MatMul", [`uh${k}`, m]), `uw${k}`]);
    });
    if (!spatial) {
      layers.forEach((l, k) => g.output(`d${p}_l${k}`, l, ["N", 1, `h${k}`, `w${k}`]));
      return;
    }
    let total = layers[0];
    for (let k = 1; k < L; k++) total = g.node("Add", [total, layers[k]]);
    const dims = ["N", 1, "H", "W"];
    layers.forEach((l, k) => g.output(`d${p}_l${k}`, l, dims));
    g.output(`d${p}`, total, dims);
  };

  const spatialInputs = () => {
    for (let k = 0; k < L; k++) {
      g.input(`uh${k}`, ["H", `h${k}`]);
      g.input(`uw${k}`, [`w${k}`, "W"]);
    }
  };

  switch (spec.kind) {
    case "features": {
      const taps = features(g.input("x0", ["N", 3, "H", "W"]), spec.normalize ?? false);
      taps.forEach((t, k) => g.output(`f${k}`, t, ["N", a.channels[k], `h${k}`, `w${k}`]));
      break;
    }
    case "compare": {
      const tap = (p: string) =>
        a.channels.map((c, k) => g.input(`${p}${k}`, ["N", c, `h${k}`, `w${k}`]));
      const f0 = tap("a"), f1 = tap("b");
      if (spec.spatial) spatialInputs();
      compare(f0, f1, 0, spec.spatial ?? false);
      break;
    }
    case "images": {
      const n = spec.images ?? 2;
      const feats = Array.from(
        { length: n },
        (_, i) => features(g.input(`x${i}`, ["N", 3, "H", "W"]), spec.normalize ?? false),
      );
      if (spec.spatial) spatialInputs();
      (spec.pairs ?? [[0, 1]]).forEach(([i, j], p) =>
        compare(feats[i], feats[j], p, spec.spatial ?? false)
      );
      break;
    }
  }
  return g.model(17);
}
