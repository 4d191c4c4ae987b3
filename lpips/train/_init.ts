/**
 * Random initial weights as PyTorch and torchvision make them, drawn from our seeded generator
 * (the distributions match; the values cannot match torch's own generator):
 * - `Conv2d` default (`kaiming_uniform_(a=sqrt(5))` and its bias rule): weight and bias
 *   U(-1/sqrt(fan_in), 1/sqrt(fan_in)); used for the linear heads, the ranking net and AlexNet.
 * - VGG (torchvision `_initialize_weights`): weight N(0, sqrt(2 / fan_out)), bias 0.
 * - SqueezeNet (torchvision): weight `kaiming_uniform_` (a=0) = U(-sqrt(6/fan_in), sqrt(6/fan_in)),
 *   bias 0.
 *
 * @module
 */
import { type Arch, convLayers, linTensorSpec } from "../arch.ts";
import type { WeightMap } from "../tfjs_engine.ts";
import { rankTensorSpec } from "./_rank_head.ts";
import type { Prng } from "./_prng.ts";

function uniform(rng: Prng, n: number, bound: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng.uniform() * 2 - 1) * bound;
  return out;
}

/** The default `Conv2d` init of one (O, I, kh, kw) weight, or of its bias (fan-in given). */
function defaultConv(rng: Prng, shape: readonly number[], fanIn: number): Float32Array {
  return uniform(rng, shape.reduce((a, b) => a * b, 1), 1 / Math.sqrt(fanIn));
}

/**
 * Linear heads `lin{k}.model.1.weight` with PyTorch's default conv init.
 *
 * @example
 * ```ts
 * import { arch } from "../arch.ts";
 * import { Prng } from "./_prng.ts";
 * import { initLinHeads } from "./_init.ts";
 * const heads = initLinHeads(arch("alex"), new Prng(0));
 * console.log(heads.get("lin0.model.1.weight")!.length); // 64
 * ```
 */
export function initLinHeads(a: Arch, rng: Prng): WeightMap {
  return new Map(
    linTensorSpec(a).map(({ key, shape }) => [key, defaultConv(rng, shape, shape[1])]),
  );
}

/** The ranking net with PyTorch's default conv init (weights and biases). */
export function initRankNet(rng: Prng): WeightMap {
  const out: WeightMap = new Map();
  let fanIn = 0;
  for (const { key, shape } of rankTensorSpec()) {
    if (key.endsWith("weight")) fanIn = shape[1];
    out.set(key, defaultConv(rng, shape, fanIn));
  }
  return out;
}

/** A randomly initialised trunk (`features.*` keys, OIHW), as torchvision builds it untrained. */
export function initTrunk(a: Arch, rng: Prng): WeightMap {
  const out: WeightMap = new Map();
  for (const c of convLayers(a)) {
    const n = c.outChannels * c.inChannels * c.kernel * c.kernel;
    const fanIn = c.inChannels * c.kernel * c.kernel;
    if (a.net === "alex") {
      out.set(`${c.key}.weight`, defaultConv(rng, [n], fanIn));
      out.set(`${c.key}.bias`, defaultConv(rng, [c.outChannels], fanIn));
    } else if (a.net === "vgg") {
      const std = Math.sqrt(2 / (c.outChannels * c.kernel * c.kernel));
      const w = new Float32Array(n);
      for (let i = 0; i < n; i++) w[i] = rng.normal() * std;
      out.set(`${c.key}.weight`, w);
      out.set(`${c.key}.bias`, new Float32Array(c.outChannels));
    } else {
      out.set(`${c.key}.weight`, uniform(rng, n, Math.sqrt(6 / fanIn)));
      out.set(`${c.key}.bias`, new Float32Array(c.outChannels));
    }
  }
  return out;
}
