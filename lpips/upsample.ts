/**
 * PyTorch's bilinear interpolation weights (`align_corners=False`, output size given, no
 * antialiasing; docs/algorithm.md §1.6), computed in float32 as PyTorch's CPU kernel does.
 *
 * @module
 */

/** One axis of a bilinear resample: output `o` is `l0[o] * in[i0[o]] + l1[o] * in[i1[o]]`. */
export interface AxisWeights {
  i0: Int32Array;
  i1: Int32Array;
  l0: Float32Array;
  l1: Float32Array;
}

/**
 * The two source indices and weights of every output position of one axis.
 *
 * @example
 * ```ts
 * import { upsampleWeights } from "./upsample.ts";
 * const w = upsampleWeights(2, 4);
 * console.log([...w.i0], [...w.l1]); // [0, 0, 0, 1] [0, 0.25, 0.75, 0.25]
 * ```
 */
export function upsampleWeights(inSize: number, outSize: number): AxisWeights {
  const f = Math.fround;
  const w: AxisWeights = {
    i0: new Int32Array(outSize),
    i1: new Int32Array(outSize),
    l0: new Float32Array(outSize),
    l1: new Float32Array(outSize),
  };
  const scale = f(inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(0, f(f(scale * f(o + 0.5)) - 0.5));
    const i0 = Math.floor(src);
    w.i0[o] = i0;
    w.i1[o] = i0 + (i0 < inSize - 1 ? 1 : 0);
    w.l1[o] = f(src - i0);
    w.l0[o] = f(1 - w.l1[o]);
  }
  return w;
}

/**
 * The (out x in) row-major matrix that resamples one axis: row `o` holds the weights `l0`, `l1`
 * at columns `i0`, `i1`. Applying it to rows and columns gives the separable 2-D upsample.
 *
 * @example
 * ```ts
 * import { upsampleMatrix } from "./upsample.ts";
 * upsampleMatrix(2, 4); // rows [1,0], [0.75,0.25], [0.25,0.75], [0,1]
 * ```
 */
export function upsampleMatrix(inSize: number, outSize: number): Float32Array {
  const m = new Float32Array(outSize * inSize);
  const w = upsampleWeights(inSize, outSize);
  for (let o = 0; o < outSize; o++) {
    m[o * inSize + w.i0[o]] += w.l0[o];
    m[o * inSize + w.i1[o]] += w.l1[o];
  }
  return m;
}

/**
 * Bilinearly resamples N row-major (h x w) maps to (H x W) and adds them into `out` (N x H x W),
 * one output row at a time: the memory it needs beyond `out` is one row of `w` values, however
 * large the maps. Rows are interpolated first, then columns, in float32, as the engines' matrix
 * products do.
 *
 * @example
 * ```ts
 * import { addUpsampled } from "./upsample.ts";
 * const out = new Float32Array(16);
 * addUpsampled(new Float32Array([0, 1, 2, 3]), 1, [2, 2], [4, 4], out);
 * console.log(out[5]); // 0.75
 * ```
 */
export function addUpsampled(
  src: Float32Array,
  n: number,
  [h, w]: [number, number],
  [outH, outW]: [number, number],
  out: Float32Array,
): void {
  if (src.length !== n * h * w || out.length !== n * outH * outW) {
    throw new RangeError(`addUpsampled: sizes do not match ${n}x${h}x${w} -> ${n}x${outH}x${outW}`);
  }
  const rows = upsampleWeights(h, outH), cols = upsampleWeights(w, outW);
  const row = new Float32Array(w);
  for (let b = 0; b < n; b++) {
    const s = b * h * w;
    for (let y = 0; y < outH; y++) {
      const r0 = s + rows.i0[y] * w, r1 = s + rows.i1[y] * w;
      const a0 = rows.l0[y], a1 = rows.l1[y];
      for (let x = 0; x < w; x++) row[x] = a0 * src[r0 + x] + a1 * src[r1 + x];
      const o = (b * outH + y) * outW;
      for (let x = 0; x < outW; x++) {
        out[o + x] += Math.fround(cols.l0[x] * row[cols.i0[x]] + cols.l1[x] * row[cols.i1[x]]);
      }
    }
  }
}
