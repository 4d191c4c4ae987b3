/**
 * The gradients of the TF.js kernels that LPIPS, its training and the ranking head differentiate
 * through. tfjs-core registers no gradient itself: its own registrations ship only as extensionless
 * ES modules (`dist/register_all_gradients.js`) that Deno cannot load from npm, or bundled inside
 * the `@tensorflow/tfjs` union package (over 200 MB of downloads for the layers, converter and
 * WebGL packages this package never uses). So the few the package needs are registered here,
 * with TF.js's kernel input and attribute names, and only where no gradient is registered yet:
 * a user who imports `@tensorflow/tfjs` keeps TF.js's full set.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** `g` (the gradient of a broadcast result) summed back to the operand shape `shape`. */
function unbroadcast(g: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, g.shape);
  return tf.reshape(axes.length > 0 ? tf.sum(g, axes) : g, shape);
}

/** A binary elementwise op: `da(a, b, dy)` and `db(a, b, dy)` at the broadcast shape. */
function binary(
  kernelName: string,
  da: (a: tf.Tensor, b: tf.Tensor, dy: tf.Tensor) => tf.Tensor,
  db: (a: tf.Tensor, b: tf.Tensor, dy: tf.Tensor) => tf.Tensor,
): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, [a, b]) => {
      const d = dy as tf.Tensor;
      return {
        a: () => unbroadcast(da(a, b, d), a.shape),
        b: () => unbroadcast(db(a, b, d), b.shape),
      };
    },
  };
}

/** A unary op whose derivative needs its input `x`. */
function unary(kernelName: string, dx: (x: tf.Tensor, dy: tf.Tensor) => tf.Tensor): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ["x"],
    gradFunc: (dy, [x]) => ({ x: () => dx(x, dy as tf.Tensor) }),
  };
}

/** Gradients of a kernel whose inputs are a list (Concat, Pack), keyed "0", "1", ... */
function byIndex(parts: tf.Tensor[]): Record<string, () => tf.Tensor> {
  return Object.fromEntries(parts.map((p, i) => [String(i), () => p]));
}

/** `dy` of a reduction over `axis` of `x`, spread back over the reduced axes. */
function spread(x: tf.Tensor, dy: tf.Tensor, axis: number | number[]): tf.Tensor {
  const kept = x.shape.slice();
  for (const a of tf.util.parseAxisParam(axis, x.shape)) kept[a] = 1;
  return tf.mul(tf.reshape(dy, kept), tf.ones(x.shape));
}

/** The number of elements that a reduction over `axis` of `x` folds into one. */
function reducedSize(x: tf.Tensor, axis: number | number[]): number {
  return tf.util.parseAxisParam(axis, x.shape).reduce((n, a) => n * x.shape[a], 1);
}

function allOnes(v: unknown): boolean {
  return Array.isArray(v) ? v.every((d) => d === 1) : v === undefined || v === 1;
}

/** The kernels with a gradient here, by TF.js kernel name. */
export const GRADIENTS: readonly tf.GradConfig[] = [
  binary(tf.Add, (_a, _b, dy) => dy, (_a, _b, dy) => dy),
  binary(tf.Sub, (_a, _b, dy) => dy, (_a, _b, dy) => tf.neg(dy)),
  binary(tf.Multiply, (_a, b, dy) => tf.mul(dy, b), (a, _b, dy) => tf.mul(dy, a)),
  binary(
    tf.RealDiv,
    (_a, b, dy) => tf.div(dy, b),
    (a, b, dy) => tf.neg(tf.div(tf.mul(dy, a), tf.square(b))),
  ),
  // Ties send the gradient to `a`, as TF.js does.
  binary(
    tf.Maximum,
    (a, b, dy) => tf.mul(dy, tf.cast(tf.greaterEqual(a, b), "float32")),
    (a, b, dy) => tf.mul(dy, tf.cast(tf.less(a, b), "float32")),
  ),
  binary(
    tf.SquaredDifference,
    (a, b, dy) => tf.mul(dy, tf.mul(tf.sub(a, b), 2)),
    (a, b, dy) => tf.mul(dy, tf.mul(tf.sub(b, a), 2)),
  ),
  { kernelName: tf.Neg, gradFunc: (dy) => ({ x: () => tf.neg(dy as tf.Tensor) }) },
  unary(tf.Square, (x, dy) => tf.mul(dy, tf.mul(x, 2))),
  unary(tf.Sqrt, (x, dy) => tf.div(dy, tf.mul(tf.sqrt(x), 2))),
  unary(tf.Log, (x, dy) => tf.div(dy, x)),
  unary(tf.Relu, (x, dy) => tf.mul(dy, tf.step(x))),
  {
    kernelName: tf.LeakyRelu,
    inputsToSave: ["x"],
    gradFunc: (dy, [x], attrs) => {
      const { alpha } = attrs as unknown as tf.LeakyReluAttrs;
      const d = dy as tf.Tensor;
      return { x: () => tf.where(tf.greater(x, 0), d, tf.mul(d, alpha)) };
    },
  },
  {
    kernelName: tf.Sigmoid,
    outputsToSave: [true],
    gradFunc: (dy, [y]) => ({ x: () => tf.mul(dy as tf.Tensor, tf.mul(y, tf.sub(1, y))) }),
  },
  unary(tf.Reshape, (x, dy) => tf.reshape(dy, x.shape)),
  {
    kernelName: tf.Transpose,
    gradFunc: (dy, _saved, attrs) => {
      const { perm } = attrs as unknown as tf.TransposeAttrs;
      const inverse = new Array<number>(perm.length);
      perm.forEach((p, i) => (inverse[p] = i));
      return { x: () => tf.transpose(dy as tf.Tensor, inverse) };
    },
  },
  {
    kernelName: tf.Sum,
    inputsToSave: ["x"],
    gradFunc: (dy, [x], attrs) => {
      const { axis } = attrs as unknown as tf.SumAttrs;
      return { x: () => spread(x, dy as tf.Tensor, axis) };
    },
  },
  {
    kernelName: tf.Mean,
    inputsToSave: ["x"],
    gradFunc: (dy, [x], attrs) => {
      const { axis } = attrs as unknown as tf.MeanAttrs;
      return { x: () => tf.div(spread(x, dy as tf.Tensor, axis), reducedSize(x, axis)) };
    },
  },
  {
    kernelName: tf.PadV2,
    inputsToSave: ["x"],
    gradFunc: (dy, [x], attrs) => {
      const { paddings } = attrs as unknown as tf.PadV2Attrs;
      return { x: () => tf.slice(dy as tf.Tensor, paddings.map((p) => p[0]), x.shape) };
    },
  },
  {
    kernelName: tf.Concat,
    saveAllInputs: true,
    gradFunc: (dy, saved, attrs) => {
      const { axis } = attrs as unknown as tf.ConcatAttrs;
      const a = tf.util.parseAxisParam(axis, saved[0].shape)[0];
      return byIndex(tf.split(dy as tf.Tensor, saved.map((t) => t.shape[a]), a));
    },
  },
  {
    kernelName: tf.Pack,
    saveAllInputs: true,
    gradFunc: (dy, _saved, attrs) => {
      const { axis } = attrs as unknown as tf.PackAttrs;
      return byIndex(tf.unstack(dy as tf.Tensor, axis));
    },
  },
  {
    kernelName: tf.BatchMatMul,
    inputsToSave: ["a", "b"],
    gradFunc: (dy, [a, b], attrs) => {
      const { transposeA: ta, transposeB: tb } = attrs as unknown as tf.BatchMatMulAttrs;
      const d = dy as tf.Tensor;
      // C = op(A) op(B): dA = dC op(B)^T, transposed back where A was transposed; dB likewise.
      const da = () => ta ? tf.matMul(b, d, tb, true) : tf.matMul(d, b, false, !tb);
      const db = () => tb ? tf.matMul(d, a, true, ta) : tf.matMul(a, d, !ta, false);
      return { a: () => unbroadcast(da(), a.shape), b: () => unbroadcast(db(), b.shape) };
    },
  },
  {
    kernelName: tf.Conv2D,
    inputsToSave: ["x", "filter"],
    gradFunc: (dy, [x, filter], attrs) => {
      const { dilations } = attrs as unknown as tf.Conv2DAttrs;
      if (!allOnes(dilations)) {
        throw new Error(`conv2d gradient: dilations ${dilations} are not supported (only 1)`);
      }
      const d = dy as tf.Tensor;
      // The backprop kernels take the forward attributes (strides, pad, layout, rounding).
      return {
        x: () =>
          tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: d, filter }, {
            ...attrs,
            inputShape: x.shape,
          }),
        filter: () =>
          tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy: d }, {
            ...attrs,
            filterShape: filter.shape,
          }),
      };
    },
  },
  {
    kernelName: tf.MaxPool,
    inputsToSave: ["x"],
    outputsToSave: [true],
    // MaxPoolGrad takes MaxPool's attributes (filterSize, strides, pad, dimRoundingMode).
    gradFunc: (dy, [x, y], attrs) => ({
      x: () =>
        tf.engine().runKernel(tf.MaxPoolGrad, { dy: dy as tf.Tensor, input: x, output: y }, attrs),
    }),
  },
];

/**
 * Registers {@link GRADIENTS} for each kernel that has no gradient yet (so TF.js's own, where the
 * user loaded them, stay). Calling it again changes nothing.
 *
 * @example
 * ```ts ignore
 * import { registerGradients } from "./_gradients.ts";
 * registerGradients(); // tf.grad now runs through every op of the LPIPS network
 * ```
 */
export function registerGradients(): void {
  for (const g of GRADIENTS) if (!tf.getGradient(g.kernelName)) tf.registerGradient(g);
}
