/**
 * The reference trainer's ranking head (`BCERankingLoss` / `Dist2LogitLayer`, docs/algorithm.md §6): from
 * the two distances of a 2AFC triplet to the probability that humans prefer p1, and the binary
 * cross-entropy against the judgement. Its state-dict keys are the reference's
 * (`model.{0,2,4}.{weight,bias}`; weights (O, I, 1, 1)).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** Hidden channels of the reference's ranking net. */
export const RANK_HIDDEN = 32;

/** The ranking net's keys and shapes, in the reference's order. */
export function rankTensorSpec(hidden = RANK_HIDDEN): { key: string; shape: number[] }[] {
  return [
    { key: "model.0.weight", shape: [hidden, 5, 1, 1] },
    { key: "model.0.bias", shape: [hidden] },
    { key: "model.2.weight", shape: [hidden, hidden, 1, 1] },
    { key: "model.2.bias", shape: [hidden] },
    { key: "model.4.weight", shape: [1, hidden, 1, 1] },
    { key: "model.4.bias", shape: [1] },
  ];
}

/**
 * The ranking net: 1x1 convs 5 -> 32 -> 32 -> 1 with biases, LeakyReLU(0.2) between, sigmoid at
 * the end, on the features (d0, d1, d0-d1, d0/(d1+0.1), d1/(d0+0.1)).
 *
 * @example
 * ```ts ignore
 * import * as tf from "@tensorflow/tfjs-core";
 * import { RankHead } from "./_rank_head.ts";
 * const head = new RankHead(weights); // Map "model.0.weight" -> Float32Array, ...
 * const p = head.forward(tf.tensor1d([0.2]), tf.tensor1d([0.5])); // (1,) in (0, 1)
 * ```
 */
export class RankHead {
  /** Variables by state-dict key; weights stored as (O, I) matrices. */
  readonly variables: Map<string, tf.Variable> = new Map();

  constructor(weights: ReadonlyMap<string, Float32Array>, hidden = RANK_HIDDEN) {
    for (const { key, shape } of rankTensorSpec(hidden)) {
      const data = weights.get(key);
      const n = shape.reduce((a, b) => a * b, 1);
      if (!data || data.length !== n) {
        throw new Error(`ranking net: tensor ${key} missing or wrong size`);
      }
      const t = key.endsWith("weight")
        ? tf.tensor2d(data, [shape[0], shape[1]])
        : tf.tensor1d(data);
      this.variables.set(key, tf.variable(t, true));
      t.dispose();
    }
  }

  /** The sigmoid output, (N,), for distances d0, d1 of shape (N,). */
  forward(d0: tf.Tensor1D, d1: tf.Tensor1D): tf.Tensor1D {
    return tf.tidy(() => {
      const v = (k: string) => this.variables.get(k)!;
      const x = tf.stack([
        d0,
        d1,
        tf.sub(d0, d1),
        tf.div(d0, tf.add(d1, 0.1)),
        tf.div(d1, tf.add(d0, 0.1)),
      ], 1) as tf.Tensor2D;
      const layer = (h: tf.Tensor2D, i: number) =>
        tf.add(
          tf.matMul(h, v(`model.${i}.weight`) as tf.Tensor2D, false, true),
          v(`model.${i}.bias`),
        ) as tf.Tensor2D;
      const h1 = tf.leakyRelu(layer(x, 0), 0.2);
      const h2 = tf.leakyRelu(layer(h1, 2), 0.2);
      return tf.reshape(tf.sigmoid(layer(h2, 4)), [-1]) as tf.Tensor1D;
    });
  }

  /** Frees the variables. */
  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    this.variables.clear();
  }
}

/**
 * PyTorch's `BCELoss` (mean): `-mean(t log p + (1 - t) log(1 - p))`, each log clamped to >= -100.
 */
export function bceLoss(p: tf.Tensor1D, target: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const logP = tf.maximum(tf.log(p), -100);
    const log1mP = tf.maximum(tf.log(tf.sub(1, p)), -100);
    const terms = tf.add(tf.mul(target, logP), tf.mul(tf.sub(1, target), log1mP));
    return tf.neg(tf.mean(terms)) as tf.Scalar;
  });
}

/** The target the reference's loss sees: the judgement mapped to 2j-1 and back, in float32. */
export function rankTarget(judge: Float32Array): Float32Array {
  const f = Math.fround;
  return judge.map((j) => f(f(f(f(j * 2) - 1) + 1) / 2));
}

/** The reference's training accuracy: mean of [d1<d0]*j + [not d1<d0]*(1-j). */
export function rankAccuracy(
  d0: ArrayLike<number>,
  d1: ArrayLike<number>,
  judge: ArrayLike<number>,
): number {
  let s = 0;
  for (let i = 0; i < judge.length; i++) s += d1[i] < d0[i] ? judge[i] : 1 - judge[i];
  return s / judge.length;
}
