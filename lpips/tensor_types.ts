/**
 * The TF.js tensor types that the public API takes and returns, named in this package so that its
 * documentation can show them. They are aliases of `@tensorflow/tfjs-core`'s own types, not
 * copies: a `tf.Tensor4D` from your own import of `npm:@tensorflow/tfjs-core@4.22.0` is one.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";

/** A TF.js tensor of any rank (`tf.Tensor` of `@tensorflow/tfjs-core`). */
export type Tensor = tf.Tensor;

/** A rank-4 TF.js tensor (`tf.Tensor4D`); LPIPS reads it as an NCHW batch. */
export type Tensor4D = tf.Tensor4D;
