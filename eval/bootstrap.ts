/**
 * Seeded bootstrap confidence intervals for the 2AFC score and the JND mAP.
 *
 * Items (triplets or pairs) are resampled with replacement, the score is recomputed on every
 * resample, and the interval is the percentile interval of those scores (NumPy's default
 * "linear" percentile). A small PRNG of our own (SplitMix32 seeding sfc32) makes the result a
 * pure function of the inputs and the seed, on every platform.
 *
 * @module
 */
import { jndMAP } from "./jnd.ts";
import { twoAFCItemScores } from "./twoafc.ts";

/** Options of the bootstrap functions. */
export interface BootstrapOptions {
  /** Number of resamples (default 1000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  level?: number;
  /** PRNG seed, any 32-bit integer (default 0). */
  seed?: number;
}

/** A bootstrap percentile interval. */
export interface BootstrapInterval {
  /** Lower end. */
  low: number;
  /** Upper end. */
  high: number;
  /** Its confidence level, e.g. 0.95. */
  level: number;
  /** Resamples drawn. */
  resamples: number;
  /** Resamples whose statistic was NaN (e.g. JND resamples without any "same"); left out. */
  dropped: number;
  /** The PRNG seed the resamples were drawn with. */
  seed: number;
}

/**
 * A deterministic 32-bit PRNG (sfc32, seeded through SplitMix32). Returns uniform floats in
 * [0, 1) with 32 random bits.
 *
 * @example
 * ```ts
 * import { seededRandom } from "@perceptual/lpips/eval";
 * const rand = seededRandom(42);
 * console.log(rand(), rand());
 * ```
 */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix(), b = splitmix(), c = splitmix(), d = 1;
  const next = () => {
    d = (d + 1) >>> 0;
    const t = (((a + b) >>> 0) + d) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next(); // warm up
  return () => next() / 4294967296;
}

/**
 * Percentile with linear interpolation between order statistics (NumPy's default method) of
 * ascending-sorted values.
 */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos), hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

/**
 * The generic bootstrap: `statistic` receives the resampled item indices (length `n`) and
 * returns the score of that resample.
 *
 * @example
 * ```ts
 * import { bootstrap } from "@perceptual/lpips/eval";
 * const x = [1, 2, 3, 4, 5];
 * const ci = bootstrap(x.length, (idx) => idx.reduce((s, i) => s + x[i], 0) / idx.length, {
 *   seed: 1,
 * });
 * console.log(ci.low, ci.high);
 * ```
 */
export function bootstrap(
  n: number,
  statistic: (indices: Uint32Array) => number,
  options: BootstrapOptions = {},
): BootstrapInterval {
  const resamples = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`bootstrap: need items, got ${n}`);
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new RangeError(`bootstrap: resamples must be a positive integer, got ${resamples}`);
  }
  if (!(level > 0 && level < 1)) throw new RangeError(`bootstrap: level must be in (0, 1)`);
  const rand = seededRandom(seed);
  const stats: number[] = [];
  const idx = new Uint32Array(n);
  let dropped = 0;
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rand() * n);
    const v = statistic(idx);
    if (Number.isNaN(v)) dropped++;
    else stats.push(v);
  }
  stats.sort((a, b) => a - b);
  const tail = ((1 - level) / 2) * 100;
  return {
    low: percentileSorted(stats, tail),
    high: percentileSorted(stats, 100 - tail),
    level,
    resamples,
    dropped,
    seed,
  };
}

/**
 * Bootstrap interval of the 2AFC score (triplets resampled).
 *
 * @example
 * ```ts
 * import { bootstrap2AFC } from "@perceptual/lpips/eval";
 * const ci = bootstrap2AFC([0.1, 0.5, 0.3], [0.2, 0.4, 0.9], [0, 0.6, 0.2], { seed: 7 });
 * console.log(ci.low, ci.high);
 * ```
 */
export function bootstrap2AFC(
  d0: ArrayLike<number>,
  d1: ArrayLike<number>,
  judge: ArrayLike<number>,
  options: BootstrapOptions = {},
): BootstrapInterval {
  const s = twoAFCItemScores(d0, d1, judge);
  return bootstrap(s.length, (idx) => {
    let sum = 0;
    for (let i = 0; i < idx.length; i++) sum += s[idx[i]];
    return sum / idx.length;
  }, options);
}

/**
 * Bootstrap interval of the JND mAP (pairs resampled; resamples without any "same" are dropped).
 *
 * @example
 * ```ts
 * import { bootstrapJND } from "@perceptual/lpips/eval";
 * const ci = bootstrapJND([0.05, 0.4, 0.1, 0.8], [1, 0, 2 / 3, 1 / 3], { resamples: 200 });
 * console.log(ci.low, ci.high);
 * ```
 */
export function bootstrapJND(
  ds: ArrayLike<number>,
  sames: ArrayLike<number>,
  options: BootstrapOptions = {},
): BootstrapInterval {
  if (ds.length !== sames.length) throw new RangeError("bootstrapJND: lengths differ");
  const d = new Float64Array(ds.length), s = new Float64Array(ds.length);
  return bootstrap(ds.length, (idx) => {
    for (let i = 0; i < idx.length; i++) {
      d[i] = ds[idx[i]];
      s[i] = sames[idx[i]];
    }
    return jndMAP(d, s);
  }, options);
}
