/**
 * The DISTS network as one ONNX graph (docs/algorithm.md §13): two image batches `x0`, `x1`
 * (N, 3, H, W) in [0, 1] -> `score` (N, 1, 1, 1), float64. Each image goes through VGG16 with every max
 * pool replaced by an L2 pool; the image and the five stage outputs are compared channel by
 * channel through their spatial means, variances and covariance, weighted by `alpha` and `beta`.
 *
 * @module
 */
import { arch, convLayers } from "./arch.ts";
import { needWeight, type WeightMap } from "./engine.ts";
import { DOUBLE, GraphBuilder } from "./onnx_proto.ts";
import { DISTS_CHANNELS } from "./weight_files.ts";

/** ImageNet's per-channel mean and standard deviation, as the official code normalises. */
const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];
/** The stabilising constants of the two similarity terms. */
const C1 = 1e-6, C2 = 1e-6;
/** Added under the L2 pool's square root. */
const L2POOL_EPS = 1e-12;

/**
 * The L2 pool's 3x3 window: the outer product of the Hann window of length 5 without its zero
 * ends, (0.5, 1, 0.5), divided by its sum (4): powers of two, exact in float32.
 */
export function l2PoolWindow(): Float32Array {
  const h = [0.5, 1, 0.5];
  return Float32Array.from({ length: 9 }, (_, i) => h[Math.floor(i / 3)] * h[i % 3] / 4);
}

/**
 * Output side of the L2 pool (3x3 window, stride 2, zero padding 1) for an input side `s`:
 * `ceil(s / 2)`, so every side >= 1 keeps every stage >= 1 px.
 */
export function l2PooledSize(s: number): number {
  return Math.floor((s + 2 - 3) / 2) + 1;
}

/**
 * The serialised DISTS model. `alpha` and `beta` are used as the official code uses them: each
 * divided by the sum of both (in float32, as PyTorch does).
 */
export function buildDistsGraph(
  trunk: WeightMap,
  alpha: Float32Array,
  beta: Float32Array,
): Uint8Array {
  const vgg = arch("vgg");
  const g = new GraphBuilder();
  const params = new Map(
    convLayers(vgg).map((c) => [c.key, [
      g.initializer(
        `${c.key}.weight`,
        [c.outChannels, c.inChannels, c.kernel, c.kernel],
        needWeight(trunk, `${c.key}.weight`),
      ),
      g.initializer(`${c.key}.bias`, [c.outChannels], needWeight(trunk, `${c.key}.bias`)),
    ]]),
  );
  const mean = g.floats([1, 3, 1, 1], IMAGENET_MEAN);
  const std = g.floats([1, 3, 1, 1], IMAGENET_STD);
  const eps = g.floats([], [L2POOL_EPS]);
  const window = new Map<number, string>();
  const l2PoolWeights = (channels: number) => {
    let w = window.get(channels);
    if (!w) {
      const one = l2PoolWindow();
      const all = new Float32Array(channels * 9);
      for (let c = 0; c < channels; c++) all.set(one, c * 9);
      w = g.initializer(`l2pool${channels}`, [channels, 1, 3, 3], all);
      window.set(channels, w);
    }
    return w;
  };

  /** One image batch -> its six stages: the image itself, then VGG16's five stage outputs. */
  const stages = (x: string): string[] => {
    const out = [x];
    let h = g.node("Div", [g.node("Sub", [x, mean]), std]);
    let channels = 3;
    vgg.layers.forEach((layer, i) => {
      if (layer.op === "conv") {
        h = g.node("Conv", [h, ...params.get(layer.key)!], {
          kernel_shape: { ints: [layer.kernel, layer.kernel] },
          strides: { ints: [layer.stride, layer.stride] },
          pads: { ints: [layer.pad, layer.pad, layer.pad, layer.pad] },
        });
        channels = layer.outChannels;
      } else if (layer.op === "relu") {
        h = g.node("Relu", [h]);
      } else if (layer.op === "maxpool") {
        // The L2 pool: sqrt(window * x^2 + eps), each channel on its own, stride 2, padding 1.
        const pooled = g.node("Conv", [g.node("Mul", [h, h]), l2PoolWeights(channels)], {
          kernel_shape: { ints: [3, 3] },
          strides: { ints: [2, 2] },
          pads: { ints: [1, 1, 1, 1] },
          group: channels,
        });
        h = g.node("Sqrt", [g.node("Add", [pooled, eps])]);
      } else {
        throw new Error(`internal: VGG16 has no ${layer.op} layer`);
      }
      if (vgg.taps.includes(i)) out.push(h);
    });
    return out;
  };

  const x0 = g.input("x0", ["N", 3, "H", "W"]);
  const x1 = g.input("x1", ["N", 3, "H", "W"]);
  const f0 = stages(x0), f1 = stages(x1);

  // The statistics in float64: the covariance is a difference of two means, and with c2 = 1e-6
  // float32's rounding there moves a score by up to 1e-4 on small or flat images
  // (docs/algorithm.md §13).
  const f64 = (t: string) => g.node("Cast", [t], { to: DOUBLE });
  // alpha / (sum alpha + sum beta), beta likewise, in float32 as the official code divides them.
  const sum = Math.fround(fsum(alpha) + fsum(beta));
  const split = (w: Float32Array) => {
    let at = 0;
    return DISTS_CHANNELS.map((c) => {
      const part = Float32Array.from(w.subarray(at, at + c), (v) => Math.fround(v / sum));
      at += c;
      return f64(g.floats([1, c, 1, 1], part));
    });
  };
  const alphas = split(alpha), betas = split(beta);
  const constant = (v: number) => f64(g.floats([], [v]));
  const two = constant(2), c1 = constant(C1), c2 = constant(C2);
  const spatial = { axes: { ints: [2, 3] }, keepdims: 1 };
  const meanOf = (t: string) => g.node("ReduceMean", [t], spatial);
  const channelAxis = g.ints([1]);

  const structure: string[] = [], texture: string[] = [];
  f0.forEach((a32, k) => {
    const a = f64(a32), b = f64(f1[k]);
    const ma = meanOf(a), mb = meanOf(b);
    const mab = g.node("Mul", [ma, mb]);
    // (2 ma mb + c1) / (ma^2 + mb^2 + c1)
    const s1 = g.node("Div", [
      g.node("Add", [g.node("Mul", [two, mab]), c1]),
      g.node("Add", [g.node("Add", [g.node("Mul", [ma, ma]), g.node("Mul", [mb, mb])]), c1]),
    ]);
    const da = g.node("Sub", [a, ma]), db = g.node("Sub", [b, mb]);
    const va = meanOf(g.node("Mul", [da, da])), vb = meanOf(g.node("Mul", [db, db]));
    const cov = g.node("Sub", [meanOf(g.node("Mul", [a, b])), mab]);
    // (2 cov + c2) / (va + vb + c2)
    const s2 = g.node("Div", [
      g.node("Add", [g.node("Mul", [two, cov]), c2]),
      g.node("Add", [g.node("Add", [va, vb]), c2]),
    ]);
    structure.push(g.node("ReduceSum", [g.node("Mul", [alphas[k], s1]), channelAxis], {
      keepdims: 1,
    }));
    texture.push(g.node("ReduceSum", [g.node("Mul", [betas[k], s2]), channelAxis], {
      keepdims: 1,
    }));
  });
  const total = (terms: string[]) => terms.reduce((acc, t) => g.node("Add", [acc, t]));
  const score = g.node("Sub", [constant(1), g.node("Add", [total(structure), total(texture)])]);
  g.output("score", score, ["N", 1, 1, 1], DOUBLE);
  return g.model(17);
}

/** The sum of float32 values rounded once to float32 (PyTorch's pairwise float32 sum comes within
 * an ulp of it; a running float32 sum drifts by 1e-6 over these 1475 values). */
function fsum(w: Float32Array): number {
  let s = 0;
  for (const v of w) s += v;
  return Math.fround(s);
}
