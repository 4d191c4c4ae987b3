/**
 * Adam as PyTorch 1.13 computes it (`torch.optim.Adam`, the single-tensor CPU path, no weight
 * decay, no amsgrad), rounding to float32 wherever PyTorch's float32 kernels do:
 *
 * ```
 * m <- m*b1 + (1-b1)*g          v <- v*b2 + (1-b2)*g*g
 * denom = sqrt(v) / sqrt(1 - b2^t) + eps
 * p <- p + (-(lr / (1 - b1^t)) * m) / denom
 * ```
 *
 * The bias corrections, the step size and `sqrt(1 - b2^t)` are float64 (Python floats) and are
 * rounded to float32 when they meet a tensor; every tensor operation rounds to float32.
 *
 * @module
 */

/** Adam's hyper-parameters (the reference trainer's defaults). */
export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** One parameter's moment estimates. */
export interface AdamSlot {
  /** Steps taken for this parameter. */
  step: number;
  expAvg: Float32Array;
  expAvgSq: Float32Array;
}

const f = Math.fround;

/**
 * The optimiser state of several named parameters; parameters are plain float32 arrays updated in
 * place.
 *
 * @example
 * ```ts
 * import { Adam } from "./_adam.ts";
 * const opt = new Adam({ lr: 1e-4, beta1: 0.5 });
 * const w = new Float32Array([1, 2]);
 * opt.update("w", w, new Float32Array([0.1, -0.3]));
 * console.log(w); // each moved by about 1e-4 against its gradient
 * ```
 */
export class Adam {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Per-parameter state, by name (PyTorch creates it on a parameter's first gradient). */
  readonly state: Map<string, AdamSlot> = new Map();

  constructor(opts: AdamOptions = {}) {
    this.lr = opts.lr ?? 1e-4;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
  }

  /** One Adam step of parameter `name` with gradient `grad`, updating `param` in place. */
  update(name: string, param: Float32Array, grad: Float32Array): void {
    if (param.length !== grad.length) {
      throw new RangeError(`adam: ${name} has ${param.length} values but ${grad.length} gradients`);
    }
    let s = this.state.get(name);
    if (!s) {
      s = {
        step: 0,
        expAvg: new Float32Array(param.length),
        expAvgSq: new Float32Array(param.length),
      };
      this.state.set(name, s);
    }
    const t = ++s.step;
    const b1 = f(this.beta1), b2 = f(this.beta2);
    const a1 = f(1 - this.beta1), a2 = f(1 - this.beta2);
    const bc1 = 1 - this.beta1 ** t;
    const bc2Sqrt = f(Math.sqrt(1 - this.beta2 ** t));
    const negStep = f(-(this.lr / bc1));
    const eps = f(this.eps);
    const m = s.expAvg, v = s.expAvgSq;
    for (let i = 0; i < param.length; i++) {
      const g = grad[i];
      m[i] = f(f(m[i] * b1) + f(a1 * g));
      v[i] = f(f(v[i] * b2) + f(f(a2 * g) * g));
      const denom = f(f(f(Math.sqrt(v[i])) / bc2Sqrt) + eps);
      param[i] = f(param[i] + f(f(negStep * m[i]) / denom));
    }
  }
}
