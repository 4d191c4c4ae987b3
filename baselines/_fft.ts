/**
 * Discrete Fourier transforms of any length in float64, for FSIM's log-Gabor filtering
 * (docs/algorithm.md §12.4): mixed-radix Cooley-Tukey (radices 4, 2 and the primes up to 31) for
 * lengths made of those, Bluestein's chirp-z for the others (through a transform of at
 * least `2n - 1` points whose factors are 2, 3 and 5), and the 2-D transform
 * by rows then columns. Unnormalised forward transform `X_k = sum_j x_j exp(-2 pi i jk / n)`;
 * the inverse divides by the number of points, as MATLAB's `fft2`/`ifft2`.
 *
 * @module
 */

/** Mixed-radix plan (Cooley-Tukey, decimation in time, kissfft's recursion). */
interface Mixed {
  kind: "mixed";
  n: number;
  /** Radices, outermost first (4s, then 2s, 3s, 5s and other primes up to 31). */
  factors: number[];
  /** `exp(-2 pi i k / n)`, k < n. */
  twRe: Float64Array;
  twIm: Float64Array;
  outRe: Float64Array;
  outIm: Float64Array;
  scrRe: Float64Array;
  scrIm: Float64Array;
}

interface Bluestein {
  kind: "bluestein";
  n: number;
  inner: Mixed;
  /** The chirp `exp(-i pi k^2 / n)`, k < n. */
  wRe: Float64Array;
  wIm: Float64Array;
  /** The transform of the conjugate chirp, wrapped to the inner length `m >= 2n - 1`. */
  bRe: Float64Array;
  bIm: Float64Array;
  /** Work buffers of the inner length. */
  aRe: Float64Array;
  aIm: Float64Array;
}

type Plan = Mixed | Bluestein;

/** Prime factors above this go through Bluestein (a direct radix-p step costs O(p) per point). */
const MAX_RADIX = 31;

const plans = new Map<number, Plan>();

function planFor(n: number): Plan {
  let p = plans.get(n);
  if (!p) {
    const factors = factorize(n);
    plans.set(n, p = factors ? mixedPlan(n, factors) : bluesteinPlan(n));
  }
  return p;
}

function factorize(n: number): number[] | undefined {
  const out: number[] = [];
  while (n % 4 === 0) {
    out.push(4);
    n /= 4;
  }
  for (let p = 2; n > 1 && p <= MAX_RADIX; p++) {
    while (n % p === 0) {
      out.push(p);
      n /= p;
    }
  }
  return n === 1 ? out : undefined;
}

function mixedPlan(n: number, factors: number[]): Mixed {
  const twRe = new Float64Array(n), twIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    twRe[k] = Math.cos((2 * Math.PI * k) / n);
    twIm[k] = -Math.sin((2 * Math.PI * k) / n);
  }
  const maxP = Math.max(1, ...factors);
  return {
    kind: "mixed",
    n,
    factors,
    twRe,
    twIm,
    outRe: new Float64Array(n),
    outIm: new Float64Array(n),
    scrRe: new Float64Array(maxP),
    scrIm: new Float64Array(maxP),
  };
}

function bluesteinPlan(n: number): Bluestein {
  // The smallest length >= 2n - 1 made of 2s, 3s and 5s (a power of two may be up to 2x longer).
  let m = 2 * n - 1;
  while (!factorize(m)?.every((p) => p <= 5)) m++;
  const inner = mixedPlan(m, factorize(m)!);
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
  mixed(inner, bRe, bIm);
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

/** In-place transform of `re/im[off + j * stride]`, `j < n`. */
function mixed(p: Mixed, re: Float64Array, im: Float64Array, off = 0, stride = 1): void {
  const n = p.n, oRe = p.outRe, oIm = p.outIm;
  if (n === 1) return;
  work(p, re, im, 0, off, 1, 0, stride);
  for (let j = 0, o = off; j < n; j++, o += stride) {
    re[o] = oRe[j];
    im[o] = oIm[j];
  }
}

/**
 * The DFT of the `L = n / fstride` inputs `in[iOff + j * fstride * istride]` into
 * `out[oOff ... + L)`: the `p` sub-transforms of every p-th input, then one radix-p butterfly pass
 * (the last level reads its inputs straight into the radix-2 and radix-4 butterflies).
 */
function work(
  pl: Mixed,
  re: Float64Array,
  im: Float64Array,
  oOff: number,
  iOff: number,
  fstride: number,
  level: number,
  istride: number,
): void {
  const p = pl.factors[level], m = pl.n / fstride / p, oRe = pl.outRe, oIm = pl.outIm;
  const step = fstride * istride;
  if (m === 1) {
    if (p === 4) {
      const i1 = iOff + step, i2 = i1 + step, i3 = i2 + step;
      const s0r = re[iOff] + re[i2], s0i = im[iOff] + im[i2];
      const s1r = re[iOff] - re[i2], s1i = im[iOff] - im[i2];
      const s2r = re[i1] + re[i3], s2i = im[i1] + im[i3];
      const s3r = re[i1] - re[i3], s3i = im[i1] - im[i3];
      oRe[oOff] = s0r + s2r;
      oIm[oOff] = s0i + s2i;
      oRe[oOff + 2] = s0r - s2r;
      oIm[oOff + 2] = s0i - s2i;
      oRe[oOff + 1] = s1r + s3i;
      oIm[oOff + 1] = s1i - s3r;
      oRe[oOff + 3] = s1r - s3i;
      oIm[oOff + 3] = s1i + s3r;
      return;
    }
    if (p === 2) {
      const i1 = iOff + step;
      oRe[oOff] = re[iOff] + re[i1];
      oIm[oOff] = im[iOff] + im[i1];
      oRe[oOff + 1] = re[iOff] - re[i1];
      oIm[oOff + 1] = im[iOff] - im[i1];
      return;
    }
    for (let k = 0; k < p; k++) {
      oRe[oOff + k] = re[iOff + k * step];
      oIm[oOff + k] = im[iOff + k * step];
    }
  } else {
    for (let k = 0; k < p; k++) {
      work(pl, re, im, oOff + k * m, iOff + k * step, fstride * p, level + 1, istride);
    }
  }
  const twRe = pl.twRe, twIm = pl.twIm;
  if (p === 2) {
    for (let u = 0; u < m; u++) {
      const a = oOff + u, b = a + m, t = u * fstride;
      const xr = oRe[b] * twRe[t] - oIm[b] * twIm[t], xi = oRe[b] * twIm[t] + oIm[b] * twRe[t];
      oRe[b] = oRe[a] - xr;
      oIm[b] = oIm[a] - xi;
      oRe[a] += xr;
      oIm[a] += xi;
    }
  } else if (p === 4) {
    for (let u = 0; u < m; u++) {
      const i0 = oOff + u, i1 = i0 + m, i2 = i1 + m, i3 = i2 + m;
      const t1 = u * fstride, t2 = 2 * t1, t3 = 3 * t1;
      const ar = oRe[i0], ai = oIm[i0];
      const br = oRe[i1] * twRe[t1] - oIm[i1] * twIm[t1],
        bi = oRe[i1] * twIm[t1] + oIm[i1] * twRe[t1];
      const cr = oRe[i2] * twRe[t2] - oIm[i2] * twIm[t2],
        ci = oRe[i2] * twIm[t2] + oIm[i2] * twRe[t2];
      const dr = oRe[i3] * twRe[t3] - oIm[i3] * twIm[t3],
        di = oRe[i3] * twIm[t3] + oIm[i3] * twRe[t3];
      const s0r = ar + cr, s0i = ai + ci, s1r = ar - cr, s1i = ai - ci;
      const s2r = br + dr, s2i = bi + di, s3r = br - dr, s3i = bi - di;
      oRe[i0] = s0r + s2r;
      oIm[i0] = s0i + s2i;
      oRe[i2] = s0r - s2r;
      oIm[i2] = s0i - s2i;
      // Forward transform: multiply (b - d) by -i.
      oRe[i1] = s1r + s3i;
      oIm[i1] = s1i - s3r;
      oRe[i3] = s1r - s3i;
      oIm[i3] = s1i + s3r;
    }
  } else if (p === 3) {
    const h = Math.sqrt(3) / 2;
    for (let u = 0; u < m; u++) {
      const i0 = oOff + u, i1 = i0 + m, i2 = i1 + m, t1 = u * fstride, t2 = 2 * t1;
      const br = oRe[i1] * twRe[t1] - oIm[i1] * twIm[t1],
        bi = oRe[i1] * twIm[t1] + oIm[i1] * twRe[t1];
      const cr = oRe[i2] * twRe[t2] - oIm[i2] * twIm[t2],
        ci = oRe[i2] * twIm[t2] + oIm[i2] * twRe[t2];
      const sr = br + cr, si = bi + ci, dr = (br - cr) * h, di = (bi - ci) * h;
      const mr = oRe[i0] - sr / 2, mi = oIm[i0] - si / 2;
      oRe[i0] += sr;
      oIm[i0] += si;
      // Forward transform: exp(-2 pi i / 3) = -1/2 - i sqrt(3)/2.
      oRe[i1] = mr + di;
      oIm[i1] = mi - dr;
      oRe[i2] = mr - di;
      oIm[i2] = mi + dr;
    }
  } else {
    const n = pl.n, sRe = pl.scrRe, sIm = pl.scrIm;
    for (let u = 0; u < m; u++) {
      for (let q = 0; q < p; q++) {
        sRe[q] = oRe[oOff + u + q * m];
        sIm[q] = oIm[oOff + u + q * m];
      }
      for (let k = 0; k < p; k++) {
        const step = (fstride * (u + k * m)) % n;
        let r = sRe[0], i = sIm[0];
        for (let q = 1, t = step; q < p; q++, t = (t + step) % n) {
          r += sRe[q] * twRe[t] - sIm[q] * twIm[t];
          i += sRe[q] * twIm[t] + sIm[q] * twRe[t];
        }
        oRe[oOff + u + k * m] = r;
        oIm[oOff + u + k * m] = i;
      }
    }
  }
}

/** In-place transform of `re/im[off + j * stride]`, `j < n`. */
function bluestein(p: Bluestein, re: Float64Array, im: Float64Array, off = 0, stride = 1): void {
  const { n, inner, wRe, wIm, bRe, bIm, aRe, aIm } = p, m = inner.n;
  for (let k = 0, o = off; k < n; k++, o += stride) {
    aRe[k] = re[o] * wRe[k] - im[o] * wIm[k];
    aIm[k] = re[o] * wIm[k] + im[o] * wRe[k];
  }
  aRe.fill(0, n);
  aIm.fill(0, n);
  mixed(inner, aRe, aIm);
  // Multiply by the chirp's transform and transform back (conjugate trick, scaled by 1 / m).
  for (let k = 0; k < m; k++) {
    const r = aRe[k] * bRe[k] - aIm[k] * bIm[k], i = aRe[k] * bIm[k] + aIm[k] * bRe[k];
    aRe[k] = r;
    aIm[k] = -i;
  }
  mixed(inner, aRe, aIm);
  for (let k = 0, o = off; k < n; k++, o += stride) {
    const r = aRe[k] / m, i = -aIm[k] / m;
    re[o] = r * wRe[k] - i * wIm[k];
    im[o] = r * wIm[k] + i * wRe[k];
  }
}

/** In-place forward DFT of one complex sequence of any length. */
export function fft1(re: Float64Array, im: Float64Array): void {
  strided(planFor(re.length), re, im, 0, 1);
}

function strided(p: Plan, re: Float64Array, im: Float64Array, off: number, stride: number): void {
  if (p.kind === "mixed") mixed(p, re, im, off, stride);
  else bluestein(p, re, im, off, stride);
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
  const rowPlan = planFor(cols), colPlan = planFor(rows);
  for (let r = 0; r < rows; r++) strided(rowPlan, re, im, r * cols, 1);
  for (let c = 0; c < cols; c++) strided(colPlan, re, im, c, cols);
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
