/**
 * One training step of LPIPS on 2AFC triplets as ONNX graphs (docs/algorithm.md §6), for `tune`
 * and `scratch` training on ONNX Runtime. The weights are graph inputs, not initializers, so one
 * session serves every step while the weights change.
 *
 * Inputs of both graphs: `ref`, `p0`, `p1` (N, 3, H, W) in [-1, 1]; every trunk convolution's
 * `<key>.weight` (O, I, k, k) and `<key>.bias` (O); the linear heads `lin{k}` (1, C_k, 1, 1);
 * with dropout, the masks `mask0_l{k}` and `mask1_l{k}` (N, C_k, h_k, w_k) that multiply the
 * head inputs of the pairs (ref, p0) and (ref, p1) (0 or 2: Dropout(0.5) with its 1/(1-p) scale).
 *
 * - the forward graph outputs `d0` and `d1` (N), LPIPS v0.1 of the two pairs;
 * - the backward graph takes also `g0`, `g1` (N), the loss's gradient with respect to `d0`, `d1`
 *   (from the ranking head), and outputs `grad.<key>.weight`, `grad.<key>.bias` and
 *   `grad.lin{k}`: the loss's gradient with respect to every weight.
 *
 * The three images run through the trunk as one batch of 3N (the reference image's gradient
 * comes from both pairs), so each weight gradient is one `Conv` over the whole batch.
 *
 * @module
 */
import { type Arch, convLayers } from "./arch.ts";
import { SCALE, SHIFT } from "./engine.ts";
import { type ConvWeights, trunkOps } from "./onnx_backward.ts";
import { GraphBuilder } from "./onnx_proto.ts";

/** How a training graph is built. */
export interface TrainingGraphOptions {
  /** The backward graph (weight gradients from `g0`, `g1`) instead of the forward one. */
  backward: boolean;
  /** Dropout masks as inputs (else the head inputs pass unchanged). */
  dropout: boolean;
}

/**
 * The serialised forward or backward training graph of trunk `a` (see the module doc).
 *
 * @example
 * ```ts ignore
 * const fwd = buildTrainingGraph(arch("alex"), { backward: false, dropout: true });
 * ```
 */
export function buildTrainingGraph(a: Arch, opts: TrainingGraphOptions): Uint8Array {
  const g = new GraphBuilder();
  const weights: ConvWeights = new Map(
    convLayers(a).map((c) => [c.key, [
      g.input(`${c.key}.weight`, [c.outChannels, c.inChannels, c.kernel, c.kernel]),
      g.input(`${c.key}.bias`, [c.outChannels]),
    ]]),
  );
  // The flipped, transposed weight of a stride-1 layer's input gradient, computed in the graph.
  const reversed = g.ints([-1, -1]);
  const flipped = (c: { key: string }) =>
    g.node("Slice", [
      g.node("Transpose", [weights.get(c.key)![0]], { perm: { ints: [1, 0, 2, 3] } }),
      reversed,
      g.ints([Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]),
      g.ints([2, 3]),
      reversed,
    ]);
  const ops = trunkOps(g, a, weights, flipped, opts.backward);
  const images = ["ref", "p0", "p1"].map((name) => g.input(name, ["N", 3, "H", "W"]));
  const x = g.node("Div", [
    g.node("Sub", [g.node("Concat", images, { axis: 0 }), g.floats([1, 3, 1, 1], SHIFT)]),
    g.floats([1, 3, 1, 1], SCALE),
  ]);
  const f = ops.forward(x, opts.backward);
  const upstream = opts.backward
    ? ["g0", "g1"].map((name) => g.node("Reshape", [g.input(name, ["N"]), g.ints([-1, 1, 1, 1])]))
    : [];
  const dists: string[][] = [[], []];
  const tapGrads = f.taps.map((t, k) => {
    const c = a.channels[k];
    const units = [g.name("ref"), g.name("p0"), g.name("p1")];
    g.node("Split", [t.unit], { axis: 0 }, units);
    const lin = g.input(`lin${k}`, [1, c, 1, 1]);
    const area = g.node("Cast", [
      g.node("ReduceProd", [g.node("Shape", [t.f], { start: 2, end: 4 })], { keepdims: 1 }),
    ], { to: 1 });
    const pairs = [0, 1].map((p) => {
      const diff = g.node("Sub", [units[0], units[p + 1]]);
      const mask = opts.dropout ? g.input(`mask${p}_l${k}`, ["N", c, `h${k}`, `w${k}`]) : undefined;
      const sq = g.node("Mul", [diff, diff]);
      const head = mask ? g.node("Mul", [sq, mask]) : sq;
      dists[p].push(
        g.node("ReduceMean", [g.node("Conv", [head, lin], { kernel_shape: { ints: [1, 1] } })], {
          axes: { ints: [1, 2, 3] },
          keepdims: 0,
        }),
      );
      return { diff, mask, head };
    });
    if (!opts.backward) return "";
    // d/dw_c of sum_n g_n mean_hw sum_c w_c head_c, and the head input's gradient g_n w_c / (h w).
    const coefs = upstream.map((u) => g.node("Div", [u, area]));
    const dLin = pairs.map(({ head }, p) =>
      g.node("ReduceSum", [g.node("Mul", [head, coefs[p]]), g.ints([0, 2, 3])], { keepdims: 1 })
    );
    g.output(`grad.lin${k}`, g.node("Add", dLin), [1, c, 1, 1]);
    const dDiff = pairs.map(({ diff, mask }, p) => {
      const dHead = g.node("Mul", [coefs[p], lin]);
      const dSq = mask ? g.node("Mul", [dHead, mask]) : dHead;
      return g.node("Mul", [g.node("Mul", [diff, ops.scalar(2)]), dSq]);
    });
    // diff_p = u_ref - u_p: the reference image's unit feature is in both pairs.
    const dUnit = g.node("Concat", [
      g.node("Add", dDiff),
      g.node("Neg", [dDiff[0]]),
      g.node("Neg", [dDiff[1]]),
    ], { axis: 0 });
    return ops.normGrad(dUnit, t);
  });
  dists.forEach((d, p) => {
    const total = d.reduce((s, v) => g.node("Add", [s, v]));
    g.output(`d${p}`, total, ["N"]);
  });
  if (opts.backward) {
    ops.backward(f.saved, tapGrads, false);
    for (const c of convLayers(a)) {
      const [w, b] = ["weight", "bias"].map((s) => ops.collected.get(`${c.key}.${s}`)![0]);
      g.output(`grad.${c.key}.weight`, w, [c.outChannels, c.inChannels, c.kernel, c.kernel]);
      g.output(`grad.${c.key}.bias`, b, [c.outChannels]);
    }
  }
  return g.model(17);
}
