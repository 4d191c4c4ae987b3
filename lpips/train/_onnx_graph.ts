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
 * - the backward graph takes also `g0`, `g1` (N), a loss's gradient with respect to `d0`, `d1`,
 *   and outputs `grad.<key>.weight`, `grad.<key>.bias` and `grad.lin{k}`: that loss's gradient
 *   with respect to every weight;
 * - the step graph takes instead the ranking net's weights `rank.model.{0,2,4}.{weight,bias}`
 *   ((O, I) matrices and vectors) and `target` (N), runs the ranking net and the reference's BCE
 *   loss (docs/algorithm.md §6) and outputs `d0`, `d1`, `output`, `loss` and every gradient,
 *   the ranking net's as `grad.rank.<key>`: one run per training step.
 *
 * The three images run through the trunk as one batch of 3N (the reference image's gradient
 * comes from both pairs), so each weight gradient is one `Conv` over the whole batch.
 *
 * @module
 */
import { type Arch, convLayers } from "../arch.ts";
import { SCALE, SHIFT } from "../engine.ts";
import { type ConvWeights, trunkOps } from "../onnx_backward.ts";
import { GraphBuilder } from "../onnx_proto.ts";
import { RANK_HIDDEN } from "./_rank_head.ts";

/** How a training graph is built. */
export interface TrainingGraphOptions {
  /** "forward": distances; "backward": weight gradients from `g0`, `g1`; "step": both, and the loss. */
  kind: "forward" | "backward" | "step";
  /** Dropout masks as inputs (else the head inputs pass unchanged). */
  dropout: boolean;
}

/**
 * The serialised forward or backward training graph of trunk `a` (see the module doc).
 *
 * @example
 * ```ts ignore
 * const fwd = buildTrainingGraph(arch("alex"), { kind: "step", dropout: true });
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
  const backward = opts.kind !== "forward";
  const ops = trunkOps(g, a, weights, flipped, backward);
  const images = ["ref", "p0", "p1"].map((name) => g.input(name, ["N", 3, "H", "W"]));
  const x = g.node("Div", [
    g.node("Sub", [g.node("Concat", images, { axis: 0 }), g.floats([1, 3, 1, 1], SHIFT)]),
    g.floats([1, 3, 1, 1], SCALE),
  ]);
  const f = ops.forward(x, backward);
  const dists: string[][] = [[], []];
  const heads = f.taps.map((t, k) => {
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
    return { t, k, c, lin, area, pairs };
  });
  const distance = dists.map((d) => d.reduce((s, v) => g.node("Add", [s, v])));
  distance.forEach((d, p) => g.output(`d${p}`, d, ["N"]));
  if (!backward) return g.model(17);
  const upstream =
    (opts.kind === "step"
      ? rankStep(g, distance[0], distance[1])
      : [g.input("g0", ["N"]), g.input("g1", ["N"])]).map((u) =>
        g.node("Reshape", [u, g.ints([-1, 1, 1, 1])])
      );
  const tapGrads = heads.map(({ t, k, c, lin, area, pairs }) => {
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
  ops.backward(f.saved, tapGrads, false);
  for (const c of convLayers(a)) {
    const [w, b] = ["weight", "bias"].map((s) => ops.collected.get(`${c.key}.${s}`)![0]);
    g.output(`grad.${c.key}.weight`, w, [c.outChannels, c.inChannels, c.kernel, c.kernel]);
    g.output(`grad.${c.key}.bias`, b, [c.outChannels]);
  }
  return g.model(17);
}

/**
 * The ranking net on `d0`, `d1` (N), the BCE loss against `target` and the backward of both
 * (docs/algorithm.md §6): outputs `output`, `loss` and `grad.rank.<key>`; returns dL/dd0, dL/dd1.
 * The loss's gradient at the last layer is `(p - t) / N` (BCE through the sigmoid in closed form;
 * the reference's log clamp at -100 only acts for logits below about -100).
 */
function rankStep(g: GraphBuilder, d0: string, d1: string): [string, string] {
  const hidden = RANK_HIDDEN;
  const w = (i: number, o: number, inputs: number) => [
    g.input(`rank.model.${i}.weight`, [o, inputs]),
    g.input(`rank.model.${i}.bias`, [o]),
  ];
  const layers = [w(0, hidden, 5), w(2, hidden, hidden), w(4, 1, hidden)];
  const col = (v: string) => g.node("Unsqueeze", [v, g.ints([1])]);
  const eps = g.floats([], [0.1]), slope = g.floats([], [0.2]), zero = g.floats([], [0]);
  const d0e = g.node("Add", [d0, eps]), d1e = g.node("Add", [d1, eps]);
  const x = g.node("Concat", [
    col(d0),
    col(d1),
    col(g.node("Sub", [d0, d1])),
    col(g.node("Div", [d0, d1e])),
    col(g.node("Div", [d1, d0e])),
  ], { axis: 1 });
  const dense = (h: string, [wt, b]: string[]) => g.node("Gemm", [h, wt, b], { transB: 1 });
  const pre1 = dense(x, layers[0]);
  const h1 = g.node("LeakyRelu", [pre1], { alpha: { float: 0.2 } });
  const pre2 = dense(h1, layers[1]);
  const h2 = g.node("LeakyRelu", [pre2], { alpha: { float: 0.2 } });
  const p = g.node("Sigmoid", [g.node("Reshape", [dense(h2, layers[2]), g.ints([-1])])]);
  g.output("output", p, ["N"]);
  const t = g.input("target", ["N"]);
  const one = g.floats([], [1]), floor = g.floats([], [-100]);
  const logP = g.node("Max", [g.node("Log", [p]), floor]);
  const log1mP = g.node("Max", [g.node("Log", [g.node("Sub", [one, p])]), floor]);
  const terms = g.node("Add", [
    g.node("Mul", [t, logP]),
    g.node("Mul", [g.node("Sub", [one, t]), log1mP]),
  ]);
  g.output("loss", g.node("Neg", [g.node("ReduceMean", [terms], { keepdims: 0 })]), []);
  const n = g.node("Cast", [g.node("Shape", [p])], { to: 1 });
  const dz = col(g.node("Div", [g.node("Sub", [p, t]), n])); // (N, 1)
  /** Gradients of one dense layer: its weight and bias (outputs), and its input's. */
  const denseGrad = (i: number, dOut: string, input: string, [wt]: string[]) => {
    g.output(`grad.rank.model.${i}.weight`, g.node("Gemm", [dOut, input], { transA: 1 }), [
      i === 4 ? 1 : hidden,
      i === 0 ? 5 : hidden,
    ]);
    g.output(
      `grad.rank.model.${i}.bias`,
      g.node("ReduceSum", [dOut, g.ints([0])], { keepdims: 0 }),
      [i === 4 ? 1 : hidden],
    );
    return g.node("MatMul", [dOut, wt]);
  };
  const leaky = (dy: string, pre: string) =>
    g.node("Where", [g.node("Greater", [pre, zero]), dy, g.node("Mul", [dy, slope])]);
  const dPre2 = leaky(denseGrad(4, dz, h2, layers[2]), pre2);
  const dPre1 = leaky(denseGrad(2, dPre2, h1, layers[1]), pre1);
  const dx = denseGrad(0, dPre1, x, layers[0]);
  const dxs = [0, 1, 2, 3, 4].map((j) => g.node("Gather", [dx, g.ints([j])], { axis: 1 }));
  const flat = (v: string) => g.node("Reshape", [v, g.ints([-1])]);
  const [a0, a1, a2, a3, a4] = dxs.map(flat);
  // x = (d0, d1, d0 - d1, d0 / (d1 + eps), d1 / (d0 + eps)).
  const sq = (v: string) => g.node("Mul", [v, v]);
  const g0 = g.node("Sub", [
    g.node("Add", [g.node("Add", [a0, a2]), g.node("Div", [a3, d1e])]),
    g.node("Div", [g.node("Mul", [a4, d1]), sq(d0e)]),
  ]);
  const g1 = g.node("Add", [
    g.node("Sub", [g.node("Sub", [a1, a2]), g.node("Div", [g.node("Mul", [a3, d0]), sq(d1e)])]),
    g.node("Div", [a4, d0e]),
  ]);
  return [g0, g1];
}
