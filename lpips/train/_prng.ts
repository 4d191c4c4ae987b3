/**
 * A small seeded pseudo-random generator for training: a 32-bit counter run through an
 * avalanche mix, keyed by (seed, purpose, index). Streams are independent and need no saved
 * state: the same key always gives the same numbers, on every platform and backend, which makes
 * shuffles, initialisations and dropout masks reproducible and a resumed run identical.
 *
 * @module
 */

/** An avalanche mix of a 32-bit integer (every input bit affects every output bit). */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Purposes of the streams the trainer draws, so they never overlap. */
export const STREAM = { init: 1, shuffle: 2, dropout: 3 } as const;

/**
 * A deterministic stream of random numbers.
 *
 * @example
 * ```ts
 * import { Prng, STREAM } from "./_prng.ts";
 * const r = new Prng(1234, STREAM.shuffle, 0);
 * console.log(r.uniform(), r.permutation(5));
 * ```
 */
export class Prng {
  readonly #key: number;
  #counter = 0;

  constructor(seed: number, purpose = 0, index = 0) {
    this.#key = mix(mix(mix(seed >>> 0) ^ Math.imul(purpose, 0x9e3779b9)) ^ (index >>> 0));
  }

  /** The next 32-bit unsigned integer. */
  nextUint32(): number {
    const c = (this.#counter = (this.#counter + 1) >>> 0);
    return mix(this.#key ^ mix(Math.imul(c, 0x632be5ab)));
  }

  /** Uniform in [0, 1), 24 random bits (exact in float32). */
  uniform(): number {
    return (this.nextUint32() >>> 8) / 16777216;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }
}
