/**
 * What every engine computes, defined once: the {@link Engine} interface that `LPIPS` runs
 * inference through, the types the engines share, and the constants of the LPIPS network
 * (docs/algorithm.md §1.1) that are not part of a trunk's description (arch.ts).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ImageTensor } from "../bappsloader/image.ts";

/** LPIPS versions: '0.1' (current, with input scaling) and '0.0' (the first release). */
export const VERSIONS = ["0.1", "0.0"] as const;

/** An LPIPS version (one of {@link VERSIONS}). */
export type Version = typeof VERSIONS[number];

/**
 * The engine choices: `auto` picks the fastest available one for inference: `onnx` (ONNX
 * Runtime, needs `--allow-ffi`) when it loads, else `tfjs`.
 */
export const ENGINE_NAMES = ["auto", "onnx", "tfjs"] as const;

/**
 * Which engine runs the network (one of {@link ENGINE_NAMES}). `auto` picks the fastest available
 * one for inference: `onnx` (ONNX Runtime, needs `--allow-ffi`) when it loads, else `tfjs`; without
 * `--allow-ffi` it says so once per process on stderr.
 * `LPIPS.distanceTensor` always runs on TF.js; `LPIPS.distanceWithGradient` on the engine chosen.
 */
export type EngineName = typeof ENGINE_NAMES[number];

/** An engine that runs inference: an {@link EngineName} with `auto` resolved. */
export type EngineKind = Exclude<EngineName, "auto">;

/** v0.1 input scaling (docs/algorithm.md §1.1 step 2), the rounded constants of the reference. */
export const SHIFT: readonly number[] = [-0.030, -0.088, -0.188];
/** v0.1 input scaling: the divisor per channel (see {@link SHIFT}). */
export const SCALE: readonly number[] = [0.458, 0.448, 0.450];
/** Added to the channel norm before dividing (outside the square root). */
export const EPS = 1e-10;
/**
 * The smallest positive normal float32. The gradients of the channel normalisation divide by the
 * norm floored here, so that where a feature vector is all zero they take their limit (0) rather
 * than PyTorch autograd's NaN (docs/algorithm.md §1.1).
 */
export const NORM_FLOOR = 1.1754943508222875e-38;

/** Float32 weights by state-dict key (OIHW convolution weights, 1-D biases, lin heads). */
export type WeightMap = Map<string, Float32Array>;

/** How one forward pass is configured. */
export interface HeadConfig {
  /** '0.1' applies the input scaling layer; '0.0' feeds the raw [-1, 1] input. */
  version: Version;
  /** true: learned linear heads; false: plain sum over channels (the uncalibrated baseline). */
  lpips: boolean;
}

/** A float32 NCHW array. */
export interface Nchw {
  data: Float32Array;
  shape: readonly number[];
}

/** Distances and per-layer terms as plain arrays: (N,) values, or (N, 1, H, W) maps. */
export interface EngineResult {
  total: Float32Array;
  /** One array per tap (empty when the per-layer terms were not asked for). */
  layers: Float32Array[];
}

/** A validated NCHW batch: the caller's TF.js tensor or a float32 array. */
export type EngineInput = tf.Tensor4D | ImageTensor;

/** Which outputs a comparison returns besides the distances. */
export interface CompareOptions {
  /** (N, 1, H, W) maps, upsampled to the input size, instead of (N,) spatial means. */
  spatial?: boolean;
  /** Also each layer's term (else `layers` may be empty). */
  perLayer?: boolean;
}

/**
 * Unit-normalised tapped features of one batch, opaque outside the engine that made them (which
 * recognises its own by a private field).
 */
export interface EngineFeatures {
  /** The engine that computed them (and the only kind that can compare them). */
  readonly engine: EngineKind;
  /** Frees what they hold. */
  dispose(): void;
}

/** The LPIPS network on one runtime: what `LPIPS` runs inference through. */
export interface Engine {
  readonly name: EngineKind;
  /** Unit-normalised tapped features of one validated batch. */
  features(x: EngineInput, normalize: boolean): Promise<EngineFeatures>;
  /** The distance (and per-layer terms or maps) between two feature sets of one shape. */
  compare(
    f0: EngineFeatures,
    f1: EngineFeatures,
    outSize: [number, number],
    opts: CompareOptions,
  ): Promise<EngineResult>;
  /** The distance between two validated batches of one shape (the untiled `distance()` path). */
  distance(
    x0: EngineInput,
    x1: EngineInput,
    opts: CompareOptions & { normalize: boolean },
  ): Promise<EngineResult>;
  /** Each layer's distance map at its native resolution, (N, 1, h_k, w_k) (the tiled path). */
  layerMaps(x0: Nchw, x1: Nchw, normalize: boolean): Promise<Float32Array[]>;
  /** Frees the engine's tensors or sessions. */
  dispose(): void;
}

/** A validated input as an NCHW array (a tensor's values are read back). */
export async function toNchw(x: EngineInput): Promise<Nchw> {
  return x instanceof tf.Tensor ? { data: await x.data() as Float32Array, shape: x.shape } : x;
}

/** Mean of each of the `n` equal-sized images in `data`, accumulated in float64. */
export function imageMeans(data: Float32Array, n: number): Float32Array {
  const per = data.length / n;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = i * per; j < (i + 1) * per; j++) s += data[j];
    out[i] = s / per;
  }
  return out;
}

/** The weight tensor `key` of `map`; a clear error when it is missing. */
export function needWeight(map: WeightMap | undefined, key: string): Float32Array {
  const v = map?.get(key);
  if (!v) throw new Error(`missing weight tensor ${key}`);
  return v;
}
