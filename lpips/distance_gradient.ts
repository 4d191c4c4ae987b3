/**
 * LPIPS as a loss without TF.js in the user's code: the distances of a batch and the gradient of
 * their sum with respect to the first input, computed by the engine the model runs on
 * ({@link LPIPS.distanceWithGradient}). The ONNX engine runs its backward graph
 * (onnx_backward.ts); the TF.js engine differentiates its network with `tf.grad`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { EngineInput, Nchw } from "./engine.ts";
import type { TfjsLpips } from "./tfjs_engine.ts";
import type { OnnxLpips } from "./onnx_engine.ts";
import { toNchw } from "./engine.ts";

/** What {@link LPIPS.distanceWithGradient} returns. */
export interface DistanceGradient {
  /** The N distances, as `distance` returns them. */
  distance: Float32Array;
  /**
   * d(sum of the N distances) / d(first input), in the first input's shape and units (with
   * `normalize`, per unit of the [0, 1] input).
   */
  gradient: { data: Float32Array; shape: [number, number, number, number] };
}

/** Distances and input gradient on the ONNX engine's backward graph. */
export async function onnxDistanceGradient(
  engine: OnnxLpips,
  a: EngineInput,
  b: EngineInput,
  normalize: boolean,
): Promise<DistanceGradient> {
  const x0 = await toNchw(a), x1 = await toNchw(b);
  const r = await engine.distanceWithGradient(x0, x1, normalize);
  return { distance: r.distance, gradient: { data: r.gradient, shape: shapeOf(x0) } };
}

/** Distances and input gradient by `tf.grad` over the TF.js network. */
export async function tfjsDistanceGradient(
  net: TfjsLpips,
  a: EngineInput,
  b: EngineInput,
  normalize: boolean,
): Promise<DistanceGradient> {
  const x0 = asTensor(a), x1 = asTensor(b);
  let distance: tf.Tensor | undefined;
  const grad = tf.grad((x: tf.Tensor) => {
    const total = net.forward(x as tf.Tensor4D, x1, { normalize }).total;
    distance = tf.keep(tf.reshape(total, [-1]));
    return tf.sum(total);
  })(x0);
  try {
    return {
      distance: await distance!.data() as Float32Array,
      gradient: { data: await grad.data() as Float32Array, shape: shapeOf(x0) },
    };
  } finally {
    tf.dispose([grad, distance!]);
    if (x0 !== a) x0.dispose();
    if (x1 !== b) x1.dispose();
  }
}

function asTensor(x: EngineInput): tf.Tensor4D {
  return x instanceof tf.Tensor ? x : tf.tensor4d(x.data, shapeOf(x));
}

function shapeOf(x: Nchw | tf.Tensor4D): [number, number, number, number] {
  const [n, c, h, w] = x.shape;
  return [n, c, h, w];
}

/** Sums a gradient over its batch: the gradient of one image that was compared with N. */
export function sumOverBatch(g: DistanceGradient["gradient"]): DistanceGradient["gradient"] {
  const [n, c, h, w] = g.shape, size = c * h * w;
  const data = new Float32Array(size);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < size; j++) data[j] += g.data[i * size + j];
  }
  return { data, shape: [1, c, h, w] };
}
