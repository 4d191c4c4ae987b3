/**
 * The few MATLAB filtering steps the classical metrics rest on, in float64 with MATLAB's
 * alignment (docs/algorithm.md §12): `conv2(x, k, 'same')` with zero borders (an even kernel's
 * window reaches further forward than back: for side 2, output `i` covers inputs `i` and `i + 1`),
 * box averaging followed by keeping every `f`-th sample, and `imfilter(..., 'symmetric')` with the
 * 2x2 mean.
 *
 * Planes are row-major Float64Arrays of `h * w` values.
 *
 * @module
 */

/** A plane and its size. */
export interface Plane {
  /** Values, row by row. */
  data: Float64Array;
  /** Rows. */
  h: number;
  /** Columns. */
  w: number;
}

/**
 * `conv2(x, ones(f) / f^2, 'same')` with zero borders, sampled at rows and columns `0, f, 2f,
 * ...` (MATLAB's `(1:f:end, 1:f:end)`); output `ceil(h / f) x ceil(w / f)`.
 *
 * MATLAB's 'same' window for a kernel of side `f` covers offsets `floor(f/2) - f + 1` to
 * `floor(f/2)` around each output (for `f = 2`: the pixel and the next one).
 */
export function boxAverageDecimate(src: Plane, f: number): Plane {
  const { data, h, w } = src;
  const oh = Math.ceil(h / f), ow = Math.ceil(w / f);
  const out = new Float64Array(oh * ow);
  if (f === 1) return { data: data.slice(), h, w };
  const lo = Math.floor(f / 2) - f + 1, scale = 1 / (f * f);
  for (let oi = 0; oi < oh; oi++) {
    const r0 = Math.max(0, oi * f + lo), r1 = Math.min(h - 1, oi * f + lo + f - 1);
    for (let oj = 0; oj < ow; oj++) {
      const c0 = Math.max(0, oj * f + lo), c1 = Math.min(w - 1, oj * f + lo + f - 1);
      let s = 0;
      for (let r = r0; r <= r1; r++) {
        const row = r * w;
        for (let c = c0; c <= c1; c++) s += data[row + c] * scale;
      }
      out[oi * ow + oj] = s;
    }
  }
  return { data: out, h: oh, w: ow };
}

/**
 * `imfilter(x, ones(2) / 4, 'symmetric', 'same')` sampled at `(1:2:end, 1:2:end)`: the mean of
 * each 2x2 block, the last row or column repeated past the border (MATLAB's symmetric padding).
 */
export function symmetricHalve(src: Plane): Plane {
  const { data, h, w } = src;
  const oh = Math.ceil(h / 2), ow = Math.ceil(w / 2);
  const out = new Float64Array(oh * ow);
  for (let oi = 0; oi < oh; oi++) {
    const r0 = 2 * oi * w, r1 = Math.min(2 * oi + 1, h - 1) * w;
    for (let oj = 0; oj < ow; oj++) {
      const c0 = 2 * oj, c1 = Math.min(c0 + 1, w - 1);
      out[oi * ow + oj] = data[r0 + c0] * 0.25 + data[r0 + c1] * 0.25 + data[r1 + c0] * 0.25 +
        data[r1 + c1] * 0.25;
    }
  }
  return { data: out, h: oh, w: ow };
}

/**
 * `conv2(x, k, 'same')` for a separable 3x3 kernel `k(a, b) = v[a] * h[b]`, zero borders: true
 * convolution, so the kernel is flipped (`out(i, j) = sum k(a, b) x(i + 1 - a, j + 1 - b)`,
 * 0-based). Done as a vertical then a horizontal 3-tap pass (MATLAB sums the 9 products; the
 * results agree to rounding).
 */
export function conv2Same3x3Separable(
  src: Plane,
  v: readonly [number, number, number],
  h: readonly [number, number, number],
): Float64Array {
  const { data, h: rows, w } = src;
  const t = new Float64Array(rows * w), out = new Float64Array(rows * w);
  const [v0, v1, v2] = v, [h0, h1, h2] = h;
  for (let i = 0; i < rows; i++) {
    const o = i * w, below = i + 1 < rows, above = i > 0;
    for (let j = 0; j < w; j++) {
      let s = v1 * data[o + j];
      if (below) s += v0 * data[o + w + j];
      if (above) s += v2 * data[o - w + j];
      t[o + j] = s;
    }
  }
  for (let i = 0; i < rows; i++) {
    const o = i * w;
    for (let j = 0; j < w; j++) {
      let s = h1 * t[o + j];
      if (j + 1 < w) s += h0 * t[o + j + 1];
      if (j > 0) s += h2 * t[o + j - 1];
      out[o + j] = s;
    }
  }
  return out;
}
