/**
 * The LPIPS input gradient as an ONNX graph (docs/algorithm.md §1.1 run backwards), written in
 * memory from an {@link Arch} and the weights, for the ONNX engine. One graph computes, for two
 * batches `x0` and `x1` of one shape, the per-layer distance maps `d0_l{k}` (N, 1, h_k, w_k), as
 * the engine's forward graphs do, and `grad`, the gradient of the sum of the N distances with
 * respect to `x0` (N, 3, H, W). Only standard ONNX operators (opset 17):
 * - a convolution's input gradient is `ConvTranspose` with the forward weights (strided layers
 *   take `output_padding = stride - 1` and a `Slice` to the forward input's size, so every input
 *   size works with one graph), or, for most stride-1 layers (the faster form there), a `Conv`
 *   on the flipped, transposed weights;
 * - ReLU passes the gradient `Where` its output is positive (PyTorch's rule: 0 at the kink);
 * - max pooling sends each output's gradient to the input its `MaxPool` took the maximum from
 *   (the `Indices` output), added up with `ScatterElements(reduction="add")`: AlexNet's 3x3/2 and
 *   SqueezeNet's ceil-mode windows overlap, so one input can win several windows;
 * - a Fire module's concatenation splits the gradient between its two expand branches, whose
 *   input gradients add up at the squeeze ReLU;
 * - the channel normalisation `f / (|f| + eps)` in closed form:
 *   `df = (G - fhat (G . f) / |f|) / (|f| + eps)`, with the second term 0 where `|f| = 0` (its
 *   limit). The reference's autograd makes NaN there (`SqrtBackward` of 0; its ReLU backward then
 *   masks it, so its gradient is finite and equal to ours).
 * Only what the backward needs outlives the forward: ReLU masks (booleans), pooling indices, the
 * tapped features and their norms.
 *
 * @module
 */
import { type Arch, type ConvLayer, convLayers } from "./arch.ts";
import {
  EPS,
  type HeadConfig,
  needWeight,
  NORM_FLOOR,
  SCALE,
  SHIFT,
  type WeightMap,
} from "./engine.ts";
import { GraphBuilder } from "./onnx_proto.ts";

/** How the gradient graph is built. */
export interface GradientGraphOptions {
  /** The inputs are in [0, 1] (mapped to [-1, 1] first; the gradient is then twice as large). */
  normalize: boolean;
  /**
   * Also output the gradients with respect to the weights (what `tune`/`scratch` training needs):
   * `grad.<key>.weight` (O, I, k, k) and `grad.<key>.bias` (O) for every trunk convolution, and
   * `grad.lin{k}` (1, C_k, 1, 1) for the linear heads (calibrated models).
   */
  weightGradients?: boolean;
}

/**
 * Whether a convolution's input gradient is a `Conv` on the flipped, transposed weights rather
 * than a `ConvTranspose`: for stride-1 layers that keep their size, except where the gradient has
 * 3 channels (VGG's first layer). ONNX Runtime 1.30 runs those `Conv`s up to 2x faster
 * (`bench/gradient_bench.ts --layers`: alex conv2 at 64x64 batch 8 6.1 vs 11.4 ms, VGG conv1_2
 * 88 vs 169 ms), while a 3-channel `Conv` output is slower (VGG conv1_1 18.6 vs 3.3 ms).
 */
function flippedConv(c: ConvLayer): boolean {
  return c.stride === 1 && 2 * c.pad === c.kernel - 1 && c.inChannels > 3;
}

/** What the backward reads of one forward module. */
type Saved =
  | { op: "conv"; layer: ConvLayer; input: string }
  | { op: "relu"; mask: string }
  | { op: "maxpool"; input: string; indices: string }
  | {
    op: "fire";
    layers: [ConvLayer, ConvLayer, ConvLayer];
    input: string;
    squeezed: string;
    squeezeMask: string;
    mask: string;
    split: [number, number];
  };

/** A tapped feature of `x0`: the activation, its norm, the norm plus eps, the unit feature. */
interface Tap {
  f: string;
  norm: string;
  denom: string;
  unit: string;
}

/**
 * The serialised gradient graph: inputs `x0`, `x1` (N, 3, H, W); outputs `d0_l{k}` and `grad`.
 *
 * @example
 * ```ts ignore
 * const model = buildGradientGraph(arch("alex"), { version: "0.1", lpips: true }, trunk, lin, {
 *   normalize: false,
 * });
 * ```
 */
export function buildGradientGraph(
  a: Arch,
  config: HeadConfig,
  trunk: WeightMap,
  lin: WeightMap | undefined,
  opts: GradientGraphOptions,
): Uint8Array {
  const g = new GraphBuilder();
  const weights: ConvWeights = new Map(
    convLayers(a).map((c) => {
      const w = g.initializer(
        `${c.key}.weight`,
        [c.outChannels, c.inChannels, c.kernel, c.kernel],
        needWeight(trunk, `${c.key}.weight`),
      );
      const b = g.initializer(`${c.key}.bias`, [c.outChannels], needWeight(trunk, `${c.key}.bias`));
      return [c.key, [w, b]];
    }),
  );
  const { scalar, forward, backward, normGrad, collected } = trunkOps(
    g,
    a,
    weights,
    (c) => flippedInitializer(g, c, trunk),
    opts.weightGradients ?? false,
  );
  const chanAxis = g.ints([1]);
  /** The scaled input: [0, 1] -> [-1, 1], then v0.1's shift and scale. */
  const scaled = (x: string) => {
    let h = x;
    if (opts.normalize) h = g.node("Sub", [g.node("Mul", [h, scalar(2)]), scalar(1)]);
    if (config.version === "0.1") {
      h = g.node("Div", [
        g.node("Sub", [h, g.floats([1, 3, 1, 1], SHIFT)]),
        g.floats(
          [1, 3, 1, 1],
          SCALE,
        ),
      ]);
    }
    return h;
  };

  const x0 = g.input("x0", ["N", 3, "H", "W"]);
  const x1 = g.input("x1", ["N", 3, "H", "W"]);
  const f0 = forward(scaled(x0), true);
  const f1 = forward(scaled(x1), opts.weightGradients ?? false);
  // Forward maps, and the gradient of sum_n mean_hw(map) with respect to each unit feature of x0:
  // 2 w_c (fhat0 - fhat1) / (h w) (w_c = 1 without the linear heads).
  const tapGrads = f0.taps.map((t0, k) => {
    const diff = g.node("Sub", [t0.unit, f1.taps[k].unit]);
    const sq = g.node("Mul", [diff, diff]);
    let coef: string;
    if (config.lpips) {
      const w = needWeight(lin, `lin${k}.model.1.weight`);
      const lw = g.initializer(`lin${k}`, [1, a.channels[k], 1, 1], w);
      g.output(
        `d0_l${k}`,
        g.node("Conv", [sq, lw], { kernel_shape: { ints: [1, 1] } }),
        ["N", 1, `h${k}`, `w${k}`],
      );
      coef = g.floats([1, a.channels[k], 1, 1], Array.from(w, (v) => 2 * v));
    } else {
      g.output(`d0_l${k}`, g.node("ReduceSum", [sq, chanAxis], { keepdims: 1 }), [
        "N",
        1,
        `h${k}`,
        `w${k}`,
      ]);
      coef = scalar(2);
    }
    const area = g.node("Cast", [
      g.node("ReduceProd", [g.node("Shape", [t0.f], { start: 2, end: 4 })], { keepdims: 1 }),
    ], { to: 1 });
    if (config.lpips && opts.weightGradients) {
      // d/dw_c of sum_n mean_hw sum_c w_c sq_c.
      const dLin = g.node("ReduceSum", [g.node("Div", [sq, area]), g.ints([0, 2, 3])], {
        keepdims: 1,
      });
      g.output(`grad.lin${k}`, dLin, [1, a.channels[k], 1, 1]);
    }
    const dUnit = g.node("Div", [g.node("Mul", [diff, coef]), area]);
    // x1's unit feature enters with the opposite sign (weight gradients only).
    return [
      normGrad(dUnit, t0),
      opts.weightGradients ? normGrad(g.node("Neg", [dUnit]), f1.taps[k]) : "",
    ];
  });

  const dh = backward(f0.saved, tapGrads.map(([d0]) => d0), true);
  if (opts.weightGradients) {
    backward(f1.saved, tapGrads.map(([, d1]) => d1), false);
    for (const c of convLayers(a)) {
      for (
        const [key, dims] of [
          [`${c.key}.weight`, [c.outChannels, c.inChannels, c.kernel, c.kernel]],
          [`${c.key}.bias`, [c.outChannels]],
        ] as const
      ) {
        const [p, q] = collected.get(key)!;
        g.output(`grad.${key}`, g.node("Add", [p, q]), [...dims]);
      }
    }
  }
  // Through the input scaling (and normalize's 2x - 1).
  const factor = opts.normalize ? 2 : 1;
  const dx = config.version === "0.1"
    ? g.node("Mul", [dh, g.floats([1, 3, 1, 1], SCALE.map((s) => factor / s))])
    : factor === 1
    ? dh
    : g.node("Mul", [dh, scalar(factor)]);
  g.output("grad", dx, ["N", 3, "H", "W"]);
  return g.model(17);
}

/** A trunk convolution's weight and bias tensor names in a graph. */
export type ConvWeights = Map<string, [string, string]>;

/**
 * The trunk's forward and backward pieces, shared by the gradient graphs: `weights` names each
 * convolution's weight and bias (initializers or graph inputs), `flipped` gives a layer's
 * flipped, transposed weight (see {@link flippedConv}); with `weightGradients`, `backward`
 * collects every convolution's weight and bias gradient by key.
 */
export function trunkOps(
  g: GraphBuilder,
  a: Arch,
  weights: ConvWeights,
  flipped: (c: ConvLayer) => string,
  weightGradients: boolean,
) {
  const scalar = (v: number) => g.floats([], [v]);
  const eps = scalar(EPS), tiny = scalar(NORM_FLOOR), zero = scalar(0);
  const chanAxis = g.ints([1]);
  const flat = g.ints([-1]);

  const conv = (c: ConvLayer, x: string) =>
    g.node("Conv", [x, ...weights.get(c.key)!], {
      kernel_shape: { ints: [c.kernel, c.kernel] },
      strides: { ints: [c.stride, c.stride] },
      pads: { ints: [c.pad, c.pad, c.pad, c.pad] },
    });
  const mask = (h: string) => g.node("Greater", [h, zero]);

  const tap = (f: string): Tap => {
    const norm = g.node("Sqrt", [g.node("ReduceSumSquare", [f], { axes: { ints: [1] } })]);
    const denom = g.node("Add", [norm, eps]);
    return { f, norm, denom, unit: g.node("Div", [f, denom]) };
  };

  /** The trunk forward: taps, and (when `save`) what the backward needs of each module. */
  const forward = (x: string, save: boolean) => {
    let h = x;
    const saved: Saved[] = [];
    const taps: Tap[] = [];
    a.layers.forEach((layer, i) => {
      const input = h;
      switch (layer.op) {
        case "conv":
          h = conv(layer, h);
          saved.push({ op: "conv", layer, input });
          break;
        case "relu":
          h = g.node("Relu", [h]);
          saved.push({ op: "relu", mask: save ? mask(h) : "" });
          break;
        case "maxpool": {
          const attrs = {
            kernel_shape: { ints: [layer.kernel, layer.kernel] },
            strides: { ints: [layer.stride, layer.stride] },
            ceil_mode: layer.ceil ? 1 : 0,
          };
          if (save) {
            const indices = g.name("indices");
            h = g.node("MaxPool", [h], attrs, [g.name("maxpool"), indices]);
            saved.push({ op: "maxpool", input, indices });
          } else h = g.node("MaxPool", [h], attrs);
          break;
        }
        case "fire": {
          const sq = g.node("Relu", [conv(layer.squeeze, h)]);
          h = g.node("Concat", [
            g.node("Relu", [conv(layer.expand1x1, sq)]),
            g.node("Relu", [conv(layer.expand3x3, sq)]),
          ], { axis: 1 });
          saved.push({
            op: "fire",
            layers: [layer.squeeze, layer.expand1x1, layer.expand3x3],
            input,
            squeezed: sq,
            squeezeMask: save ? mask(sq) : "",
            mask: save ? mask(h) : "",
            split: [layer.expand1x1.outChannels, layer.expand3x3.outChannels],
          });
          break;
        }
      }
      if (a.taps.includes(i)) taps.push(tap(h));
    });
    return { saved, taps };
  };

  /** dL/dx of a convolution from dL/dy: `ConvTranspose` (or `Conv` on flipped weights). */
  const convGrad = (c: ConvLayer, dy: string, input: string) => {
    const [w] = weights.get(c.key)!;
    const kernel_shape = { ints: [c.kernel, c.kernel] };
    const pads = { ints: [c.pad, c.pad, c.pad, c.pad] };
    const sameSize = c.stride === 1 && 2 * c.pad === c.kernel - 1;
    if (flippedConv(c)) {
      return g.node("Conv", [dy, flipped(c)], { kernel_shape, pads });
    }
    if (sameSize) return g.node("ConvTranspose", [dy, w], { kernel_shape, pads });
    // The rows and columns the forward's last window did not reach (or reached only partly)
    // depend on the input size: compute stride - 1 extra, then cut to the input's size.
    const full = g.node("ConvTranspose", [dy, w], {
      kernel_shape,
      pads,
      strides: { ints: [c.stride, c.stride] },
      output_padding: { ints: [c.stride - 1, c.stride - 1] },
    });
    const size = g.node("Shape", [input], { start: 2, end: 4 });
    return g.node("Slice", [full, g.ints([0, 0]), size, g.ints([2, 3])]);
  };

  /** dL/dx of a max pool: each output's gradient added at its argmax. */
  const poolGrad = (dy: string, input: string, indices: string) => {
    const shape = g.node("Shape", [input]);
    const zeros = g.node("ConstantOfShape", [g.node("ReduceProd", [shape], { keepdims: 1 })]);
    const scattered = g.node(
      "ScatterElements",
      [zeros, g.node("Reshape", [indices, flat]), g.node("Reshape", [dy, flat])],
      { axis: 0, reduction: "add" },
    );
    return g.node("Reshape", [scattered, shape]);
  };

  /**
   * dL/dW and dL/db of a convolution: the correlation of its input with its output gradient, as a
   * `Conv` with batch and channels swapped and dilation = the forward stride, cut to the kernel
   * size (a stride that does not divide the padded input leaves extra rows), transposed to OIHW.
   */
  const perm = { perm: { ints: [1, 0, 2, 3] } };
  const collected = new Map<string, string[]>();
  const collect = (key: string, v: string) => collected.set(key, [...collected.get(key) ?? [], v]);
  const weightGrads = (c: ConvLayer, dy: string, input: string) => {
    if (!weightGradients) return;
    const full = g.node("Conv", [
      g.node("Transpose", [input], perm),
      g.node("Transpose", [dy], perm),
    ], {
      dilations: { ints: [c.stride, c.stride] },
      pads: { ints: [c.pad, c.pad, c.pad, c.pad] },
    });
    const cut = g.node("Slice", [
      full,
      g.ints([0, 0]),
      g.ints([c.kernel, c.kernel]),
      g.ints([2, 3]),
    ]);
    collect(`${c.key}.weight`, g.node("Transpose", [cut], perm));
    collect(`${c.key}.bias`, g.node("ReduceSum", [dy, g.ints([0, 2, 3])], { keepdims: 0 }));
  };

  /** dL/df from dL/dfhat through f / (|f| + eps), in closed form. */
  const normGrad = (dUnit: string, t0: Tap) => {
    const dot = g.node("ReduceSum", [g.node("Mul", [dUnit, t0.f]), chanAxis], { keepdims: 1 });
    const t = g.node("Div", [dot, g.node("Max", [t0.norm, tiny])]);
    return g.node("Div", [g.node("Sub", [dUnit, g.node("Mul", [t0.unit, t])]), t0.denom]);
  };

  /**
   * Backward through one image's trunk, last module first, adding each tap's gradient where it
   * branches: the gradient at the scaled input (weight gradients are collected on the way).
   */
  const backward = (saved: Saved[], taps: string[], wantInput: boolean) => {
    let dh: string | undefined;
    for (let i = a.layers.length - 1; i >= 0; i--) {
      const k = a.taps.indexOf(i);
      if (k >= 0) dh = dh === undefined ? taps[k] : g.node("Add", [dh, taps[k]]);
      if (dh === undefined) continue;
      const s = saved[i];
      switch (s.op) {
        case "relu":
          dh = g.node("Where", [s.mask, dh, zero]);
          break;
        case "conv":
          weightGrads(s.layer, dh, s.input);
          if (i > 0 || wantInput) dh = convGrad(s.layer, dh, s.input);
          break;
        case "maxpool":
          dh = poolGrad(dh, s.input, s.indices);
          break;
        case "fire": {
          const [sqLayer, e1, e3] = s.layers;
          const masked = g.node("Where", [s.mask, dh, zero]);
          const d1 = g.name("split"), d3 = g.name("split");
          g.node("Split", [masked, g.ints(s.split)], { axis: 1 }, [d1, d3]);
          weightGrads(e1, d1, s.squeezed);
          weightGrads(e3, d3, s.squeezed);
          const dsq = g.node("Add", [convGrad(e1, d1, s.squeezed), convGrad(e3, d3, s.squeezed)]);
          const dsqIn = g.node("Where", [s.squeezeMask, dsq, zero]);
          weightGrads(sqLayer, dsqIn, s.input);
          dh = convGrad(sqLayer, dsqIn, s.input);
          break;
        }
      }
    }
    return dh!;
  };
  return { scalar, zero, forward, backward, normGrad, collected };
}

/** W (O, I, k, k) flipped in space and transposed to (I, O, k, k), as an initializer. */
function flippedInitializer(g: GraphBuilder, c: ConvLayer, trunk: WeightMap): string {
  const w = needWeight(trunk, `${c.key}.weight`);
  const [o, i, k] = [c.outChannels, c.inChannels, c.kernel];
  const t = new Float32Array(w.length);
  for (let co = 0; co < o; co++) {
    for (let ci = 0; ci < i; ci++) {
      for (let y = 0; y < k; y++) {
        for (let x = 0; x < k; x++) {
          t[((ci * o + co) * k + y) * k + x] =
            w[((co * i + ci) * k + (k - 1 - y)) * k + (k - 1 - x)];
        }
      }
    }
  }
  return g.initializer(g.name(`${c.key}.flipped`), [i, o, k, k], t);
}
