/**
 * PyTorch's bilinear interpolation weights (`align_corners=False`, output size given, no
 * antialiasing; SPEC.md §1.6), computed in float32 as PyTorch's CPU kernel does.
 *
 * @module
 */

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
  const f = Math.fround;
  const m = new Float32Array(outSize * inSize);
  const scale = f(inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    const src = Math.max(0, f(f(scale * f(o + 0.5)) - 0.5));
    const i0 = Math.floor(src);
    const i1 = i0 + (i0 < inSize - 1 ? 1 : 0);
    const l1 = f(src - i0);
    const l0 = f(1 - l1);
    m[o * inSize + i0] += l0;
    m[o * inSize + i1] += l1;
  }
  return m;
}
