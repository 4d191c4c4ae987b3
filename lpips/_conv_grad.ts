/**
 * A 2-D convolution whose filter gradient is computed from ops every TF.js backend has: TF.js's
 * wasm backend has no `Conv2DBackpropFilter` kernel, so training a trunk there would fail. The
 * forward pass is the plain `conv2d`; the input gradient is `conv2dTranspose` (wasm has it); the
 * filter gradient is, for each kernel tap (ky, kx), the strided slice of the padded input that
 * tap sees times the output gradient: `dW[ky, kx] = patch(ky, kx)^T . dy` over all output pixels.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * `conv2d(x, w, stride, pad)` (NHWC input, HWIO filter, symmetric zero padding `pad`) with a
 * filter gradient that needs no `Conv2DBackpropFilter` kernel.
 *
 * @example
 * ```ts ignore
 * import * as tf from "@tensorflow/tfjs-core";
 * import { conv2dPortableGrad } from "./_conv_grad.ts";
 * const y = conv2dPortableGrad(tf.ones([1, 8, 8, 3]), tf.ones([3, 3, 3, 4]), 1, 1); // (1, 8, 8, 4)
 * ```
 */
export function conv2dPortableGrad(
  x: tf.Tensor4D,
  w: tf.Tensor4D,
  stride: number,
  pad: number,
): tf.Tensor4D {
  const padding = pad === 0 ? "valid" : [[0, 0], [pad, pad], [pad, pad], [0, 0]] as [
    [number, number],
    [number, number],
    [number, number],
    [number, number],
  ];
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x4, w4] = args as tf.Tensor4D[];
    const save = args[2] as tf.GradSaveFunc;
    save([x4, w4]);
    const value = tf.conv2d(x4, w4, stride, padding);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor4D[];
      const dy4 = dy as tf.Tensor4D;
      const dx = tf.conv2dTranspose(dy4, ws, xs.shape, stride, padding);
      return [dx, filterGrad(xs, dy4, ws.shape, stride, pad)];
    };
    return { value, gradFunc };
  });
  return f(x, w) as tf.Tensor4D;
}

/** dL/dW (HWIO) of a convolution, from its input and its output gradient. */
function filterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  [kh, kw, ci, co]: number[],
  stride: number,
  pad: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, oh, ow] = dy.shape;
    const xp = pad > 0 ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
    const dy2 = tf.reshape(dy, [n * oh * ow, co]) as tf.Tensor2D;
    const taps: tf.Tensor2D[] = [];
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        const patch = tf.stridedSlice(
          xp,
          [0, ky, kx, 0],
          [n, ky + stride * (oh - 1) + 1, kx + stride * (ow - 1) + 1, ci],
          [1, stride, stride, 1],
        );
        taps.push(tf.matMul(tf.reshape(patch, [n * oh * ow, ci]) as tf.Tensor2D, dy2, true, false));
      }
    }
    return tf.reshape(tf.stack(taps), [kh, kw, ci, co]) as tf.Tensor4D;
  });
}
