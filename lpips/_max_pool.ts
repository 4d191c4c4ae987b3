/**
 * Max pooling whose gradient goes where PyTorch's goes. Where several inputs of a window share
 * its maximum, PyTorch (and ONNX Runtime, and TF.js's cpu backend) send the window's gradient to
 * the first of them in row-major order; TF.js's wasm backend sends it to the last. Flat image
 * regions make such ties common (SqueezeNet's first pool sees whole windows of one value), so
 * on wasm the input gradient of a flat-region image went to other pixels than the reference's
 * (docs/algorithm.md §9). The forward pass is TF.js's `maxPool`, unchanged. The gradient is the
 * backend's `MaxPoolGrad` where a probe shows it takes the first maximum (cpu), the same kernel on
 * the spatially reversed window grid where it takes the last (wasm: the last of the reversed
 * window is the first of the original), and otherwise (webgpu, tensorflow, where the probe's
 * synchronous read is not available) a construction from strided slices with the first-maximum
 * rule (on wasm it would make squeeze's `distanceWithGradient` 2.4 times slower; the reversed
 * kernel makes it about 1.4 times slower, the reversals being most of that).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * `tf.maxPool(x, kernel, stride, "valid")` (NHWC) with PyTorch's gradient: each window's
 * gradient goes to the first input, in row-major order, that equals the window's maximum.
 *
 * @example
 * ```ts ignore
 * import * as tf from "@tensorflow/tfjs-core";
 * import { maxPoolFirstMax } from "./_max_pool.ts";
 * const g = tf.grad((x) => tf.sum(maxPoolFirstMax(x as tf.Tensor4D, 3, 2)))(tf.ones([1, 3, 3, 1]));
 * // g is 1 at (0, 0) only: the first of nine equal inputs
 * ```
 */
export function maxPoolFirstMax(x: tf.Tensor4D, kernel: number, stride: number): tf.Tensor4D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const xs = args[0] as tf.Tensor4D;
    const save = args[1] as tf.GradSaveFunc;
    const value = tf.maxPool(xs, kernel, stride, "valid");
    save([xs, value]);
    const gradFunc = (dy: tf.Tensor, [xSaved, ySaved]: tf.Tensor[]) => {
      const [x4, y4, dy4] = [xSaved, ySaved, dy] as tf.Tensor4D[];
      const rule = tieRule();
      return rule === "other"
        ? firstMaxGrad(x4, y4, dy4, kernel, stride)
        : kernelGrad(x4, y4, dy4, kernel, stride, rule === "last");
    };
    return { value, gradFunc };
  });
  return f(x) as tf.Tensor4D;
}

/** Where the backend's `MaxPoolGrad` sends a tied window's gradient, by backend name. */
const TIE_RULES = new Map<string, "first" | "last" | "other">();

/**
 * The active backend's tie rule, probed once on a 3x3 window whose maximum four inputs share:
 * (0, 1) is the first in row-major order, (2, 1) the last (column-major order would give (1, 0)
 * or (1, 2)). Only cpu and wasm are probed (the probe reads its result synchronously).
 */
export function tieRule(): "first" | "last" | "other" {
  const backend = tf.getBackend();
  let rule = TIE_RULES.get(backend);
  if (rule) return rule;
  rule = "other";
  if ((backend === "cpu" || backend === "wasm") && tf.getKernel(tf.MaxPoolGrad, backend)) {
    const dx = tf.tidy(() => {
      const x = tf.tensor4d([0, 1, 0, 1, 0, 1, 0, 1, 0], [1, 3, 3, 1]);
      const y = tf.maxPool(x, 3, 1, "valid");
      return Array.from(poolGradKernel(tf.onesLike(y) as tf.Tensor4D, x, y, 3, 1).dataSync());
    });
    const one = (i: number) => dx.every((v, j) => v === (j === i ? 1 : 0));
    if (one(1)) rule = "first";
    else if (one(7)) rule = "last";
  }
  TIE_RULES.set(backend, rule);
  return rule;
}

/** The backend's `MaxPoolGrad` of a valid max pool. */
function poolGradKernel(
  dy: tf.Tensor4D,
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  kernel: number,
  stride: number,
): tf.Tensor4D {
  const attrs = { filterSize: kernel, strides: stride, pad: "valid" };
  return tf.engine().runKernel(
    tf.MaxPoolGrad,
    { dy, input: x, output: y },
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor4D;
}

/**
 * dL/dx from the backend's `MaxPoolGrad`; `reversed`: it takes the last maximum, so run it on
 * both spatial axes reversed (the part the windows cover, so that the window grid maps onto
 * itself), where its last maximum is the original window's first.
 */
function kernelGrad(
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  dy: tf.Tensor4D,
  kernel: number,
  stride: number,
  reversed: boolean,
): tf.Tensor4D {
  if (!reversed) return poolGradKernel(dy, x, y, kernel, stride);
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const [, oh, ow] = y.shape;
    const ch = (oh - 1) * stride + kernel, cw = (ow - 1) * stride + kernel;
    const covered = ch < h || cw < w ? tf.slice(x, [0, 0, 0, 0], [n, ch, cw, c]) : x;
    const flip = (t: tf.Tensor4D) => tf.reverse(t, [1, 2]);
    const g = flip(poolGradKernel(flip(dy), flip(covered), flip(y), kernel, stride));
    return ch < h || cw < w ? tf.pad(g, [[0, 0], [0, h - ch], [0, w - cw], [0, 0]]) : g;
  });
}

/**
 * dL/dx of a valid max pool: for each kernel tap in row-major order, the windows whose maximum
 * that tap holds and no earlier tap held take `dy` there, spread back to the tap's inputs.
 */
export function firstMaxGrad(
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  dy: tf.Tensor4D,
  kernel: number,
  stride: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = x.shape;
    const [, oh, ow] = y.shape;
    let free: tf.Tensor = tf.onesLike(y); // 1 where no earlier tap held the maximum
    let dx: tf.Tensor4D | undefined;
    for (let ky = 0; ky < kernel; ky++) {
      for (let kx = 0; kx < kernel; kx++) {
        const seen = tf.stridedSlice(
          x,
          [0, ky, kx, 0],
          [n, ky + stride * (oh - 1) + 1, kx + stride * (ow - 1) + 1, c],
          [1, stride, stride, 1],
        );
        const wins = tf.mul(tf.cast(tf.equal(seen, y), "float32"), free);
        free = tf.sub(free, wins);
        const part = spread(tf.mul(dy, wins) as tf.Tensor4D, ky, kx, stride, h, w);
        // Pairwise adds: TF.js 4.22's webgpu AddN gives wrong sums for nine inputs.
        dx = dx ? tf.add(dx, part) : part;
      }
    }
    return dx!;
  });
}

/** (N, oh, ow, C) values placed at rows ky + s i and columns kx + s j of an (N, h, w, C) zero map. */
function spread(
  v: tf.Tensor4D,
  ky: number,
  kx: number,
  s: number,
  h: number,
  w: number,
): tf.Tensor4D {
  const [n, oh, ow, c] = v.shape;
  let t: tf.Tensor4D = v;
  if (s > 1) {
    // Interleave s - 1 zero columns, then s - 1 zero rows, after each value.
    const cols = tf.pad(tf.reshape(t, [n * oh, ow, 1, c]), [[0, 0], [0, 0], [0, s - 1], [0, 0]]);
    const rows = tf.pad(tf.reshape(cols, [n, oh, 1, ow * s * c]), [
      [0, 0],
      [0, 0],
      [0, s - 1],
      [0, 0],
    ]);
    t = tf.reshape(rows, [n, oh * s, ow * s, c]);
  }
  // The trailing zero rows/columns may reach past the input: cut them before padding to size.
  const rowsKept = Math.min(t.shape[1], h - ky), colsKept = Math.min(t.shape[2], w - kx);
  if (rowsKept < t.shape[1] || colsKept < t.shape[2]) {
    t = tf.slice(t, [0, 0, 0, 0], [n, rowsKept, colsKept, c]);
  }
  return tf.pad(t, [[0, 0], [ky, h - ky - rowsKept], [kx, w - kx - colsKept], [0, 0]]);
}
