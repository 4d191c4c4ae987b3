/**
 * Discrete Fourier transforms of any length in float64, for FSIM's log-Gabor filtering
 * (docs/algorithm.md §11.4): radix-2 for powers of two, Bluestein's chirp-z for every other
 * length (through a power-of-two transform of at least `2n - 1` points), and the 2-D transform
 * by rows then columns. Unnormalised forward transform `X_k = sum_j x_j exp(-2 pi i jk / n)`;
 * the inverse divides by the number of points, as MATLAB's `fft2`/`ifft2`.
 *
 * @module
 */

interface Radix2 {
  kind: "radix2";
  n: number;
  /** `cos`, `sin` of `-2 pi k / n`, k < n / 2. */
  cos: Float64Array;
  sin: Float64Array;
  rev: Uint32Array;
}

interface Bluestein {
  kind: "bluestein";
  n: number;
  inner: Radix2;
  /** The chirp `exp(-i pi k^2 / n)`, k < n. */
  wRe: Float64Array;
  wIm: Float64Array;
  /** The transform of the conjugate chirp, wrapped to the inner length. */
  bRe: Float64Array;
  bIm: Float64Array;
  /** Work buffers of the inner length. */
  aRe: Float64Array;
  aIm: Float64Array;
}

type Plan = Radix2 | Bluestein;

const plans = new Map<number, Plan>();

function planFor(n: number): Plan {
  let p = plans.get(n);
  if (!p) plans.set(n, p = (n & (n - 1)) === 0 ? radix2Plan(n) : bluesteinPlan(n));
  return p;
}

function radix2Plan(n: number): Radix2 {
  const half = n >> 1, cos = new Float64Array(half), sin = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = -Math.sin((2 * Math.PI * k) / n);
  }
  const bits = Math.round(Math.log2(n)), rev = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  return { kind: "radix2", n, cos, sin, rev };
}

function bluesteinPlan(n: number): Bluestein {
  let m = 1;
  while (m < 2 * n - 1) m <<= 1;
  const inner = radix2Plan(m);
  const wRe = new Float64Array(n), wIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    // k^2 mod 2n keeps the angle small and exact (k^2 < 2^53 for any image side).
    const a = (Math.PI * ((k * k) % (2 * n))) / n;
    wRe[k] = Math.cos(a);
    wIm[k] = -Math.sin(a);
  }
  const bRe = new Float64Array(m), bIm = new Float64Array(m);
  bRe[0] = wRe[0];
  bIm[0] = -wIm[0];
  for (let k = 1; k < n; k++) {
    bRe[k] = bRe[m - k] = wRe[k];
    bIm[k] = bIm[m - k] = -wIm[k];
  }
  radix2(inner, bRe, bIm);
  return {
    kind: "bluestein",
    n,
    inner,
    wRe,
    wIm,
    bRe,
    bIm,
    aRe: new Float64Array(m),
    aIm: new Float64Array(m),
  };
}

function radix2(p: Radix2, re: Float64Array, im: Float64Array): void {
  const { n, cos, sin, rev } = p;
  for (let i = 0; i < n; i++) {
    const j = rev[i];
    if (j > i) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1, step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0, t = 0; k < half; k++, t += step) {
        const a = start + k, b = a + half;
        const c = cos[t], s = sin[t];
        const xr = re[b] * c - im[b] * s, xi = re[b] * s + im[b] * c;
        re[b] = re[a] - xr;
        im[b] = im[a] - xi;
        re[a] += xr;
        im[a] += xi;
      }
    }
  }
}

function bluestein(p: Bluestein, re: Float64Array, im: Float64Array): void {
  const { n, inner, wRe, wIm, bRe, bIm, aRe, aIm } = p, m = inner.n;
  for (let k = 0; k < n; k++) {
    aRe[k] = re[k] * wRe[k] - im[k] * wIm[k];
    aIm[k] = re[k] * wIm[k] + im[k] * wRe[k];
  }
  aRe.fill(0, n);
  aIm.fill(0, n);
  radix2(inner, aRe, aIm);
  // Multiply by the chirp's transform and transform back (conjugate trick, scaled by 1 / m).
  for (let k = 0; k < m; k++) {
    const r = aRe[k] * bRe[k] - aIm[k] * bIm[k], i = aRe[k] * bIm[k] + aIm[k] * bRe[k];
    aRe[k] = r;
    aIm[k] = -i;
  }
  radix2(inner, aRe, aIm);
  for (let k = 0; k < n; k++) {
    const r = aRe[k] / m, i = -aIm[k] / m;
    re[k] = r * wRe[k] - i * wIm[k];
    im[k] = r * wIm[k] + i * wRe[k];
  }
}

/** In-place forward DFT of one complex sequence of any length. */
export function fft1(re: Float64Array, im: Float64Array): void {
  const p = planFor(re.length);
  if (p.kind === "radix2") radix2(p, re, im);
  else bluestein(p, re, im);
}

/**
 * In-place 2-D DFT of a `rows x cols` row-major complex array: forward (MATLAB's `fft2`) or
 * inverse (`ifft2`, divided by `rows * cols`).
 */
export function fft2(
  re: Float64Array,
  im: Float64Array,
  rows: number,
  cols: number,
  inverse = false,
): void {
  if (inverse) negate(im);
  const rowRe = new Float64Array(cols), rowIm = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    rowRe.set(re.subarray(o, o + cols));
    rowIm.set(im.subarray(o, o + cols));
    fft1(rowRe, rowIm);
    re.set(rowRe, o);
    im.set(rowIm, o);
  }
  const colRe = new Float64Array(rows), colIm = new Float64Array(rows);
  for (let c = 0; c < cols; c++) {
    for (let r = 0, o = c; r < rows; r++, o += cols) {
      colRe[r] = re[o];
      colIm[r] = im[o];
    }
    fft1(colRe, colIm);
    for (let r = 0, o = c; r < rows; r++, o += cols) {
      re[o] = colRe[r];
      im[o] = colIm[r];
    }
  }
  if (inverse) {
    const s = 1 / (rows * cols);
    for (let i = 0; i < re.length; i++) {
      re[i] *= s;
      im[i] *= -s;
    }
  }
}

function negate(a: Float64Array): void {
  for (let i = 0; i < a.length; i++) a[i] = -a[i];
}
