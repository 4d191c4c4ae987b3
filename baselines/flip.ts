/**
 * LDR-FLIP (Andersson et al. 2020, "FLIP: A Difference Evaluator for Alternating Images", HPG),
 * the error map and its mean as NVIDIA's FLIP tool (v1.6) computes them for two 8-bit sRGB images
 * (docs/algorithm.md §11):
 *
 * 1. each 8-bit value `v` becomes `v / 255`, then linear RGB (the sRGB curve), then YCxCz
 *    (CIELab's opponent axes without the cube root, D65 white);
 * 2. colour pipeline: each channel is blurred by its contrast-sensitivity filter (a Gaussian for
 *    Y and Cx, a sum of two Gaussians for Cz, sized by the pixels per degree), taken back to linear
 *    RGB and clamped to [0, 1], then to CIELab with the Hunt adjustment (`a`, `b` scaled by
 *    `L / 100`); the HyAB distance `|dL| + ||(da, db)||` is raised to 0.7 and compressed into
 *    [0, 1] (below 0.4 of the green-blue distance onto [0, 0.95], above it onto (0.95, 1]);
 * 3. feature pipeline: on the luminance `(Y + 16) / 116` the first and second derivatives of a
 *    Gaussian (sd `0.5 * 0.082 * ppd` pixels) give edge and point strengths; the larger of their
 *    differences, times `1 / sqrt(2)`, to the power 0.5 is the feature difference `f`;
 * 4. the error is `colour ^ (1 - f)`, and the mean is its average over all pixels.
 *
 * Every step is float32 as in the tool (same operation order, filters of the same size and
 * normalisation, edges clamped), so the map agrees with the tool to within a few float32 rounding
 * steps where `powf`/`expf` round differently.
 *
 * @module
 */
import type { ImageTensor, RGBImage } from "../bappsloader/image.ts";
import { labCubeRoot } from "./_lab_cube_root.ts";
import { quantizeInto } from "./_quantize.ts";
import { checkPair } from "./_validate.ts";

const f = Math.fround;
const PI = f(3.14159265358979);

/**
 * Pixels per degree of visual angle of an observer `distance` metres from a display `width`
 * metres wide with `resolutionX` pixels across, in float32 as the tool computes it.
 *
 * @example
 * ```ts
 * import { flipPixelsPerDegree } from "@perceptual/lpips/baselines";
 * console.log(flipPixelsPerDegree(0.7, 0.7, 3840)); // 67.0206... (FLIP's default)
 * console.log(flipPixelsPerDegree(0.5, 0.6, 1920)); // 27.925...: a laptop at arm's length
 * ```
 */
export function flipPixelsPerDegree(distance: number, width: number, resolutionX: number): number {
  for (
    const [name, v] of [["distance", distance], ["width", width], ["resolutionX", resolutionX]]
  ) {
    if (typeof v !== "number" || !(Number.isFinite(v) && v > 0)) {
      throw new RangeError(`flipPixelsPerDegree: ${name} must be a finite number > 0, got ${v}`);
    }
  }
  return f(f(f(distance) * f(f(resolutionX) / f(width))) * f(PI / 180));
}

/**
 * FLIP's default viewing conditions: 0.7 m from a 0.7 m wide display of 3840 pixels, about
 * 67.02 pixels per degree (the float32 value the tool uses).
 */
export const FLIP_DEFAULT_PPD: number = flipPixelsPerDegree(0.7, 0.7, 3840);

/** Options of {@linkcode flip}, {@linkcode flipMap} and {@linkcode flipImage}. */
export interface FlipOptions {
  /**
   * Pixels per degree of visual angle (default {@linkcode FLIP_DEFAULT_PPD}, 67.02); see
   * {@linkcode flipPixelsPerDegree}. Used as a float32, as the tool's `-ppd`; from 0.01 to 10000
   * (the filters' radius grows as about 0.14 ppd pixels).
   */
  ppd?: number;
}

/** The FLIP error map of one image pair and its mean. */
export interface FlipImageResult {
  /** Mean of the map, summed in float32 in row order as the tool does. */
  mean: number;
  /** The per-pixel error in [0, 1], row-major, `width * height` values. */
  map: Float32Array;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
}

/** The FLIP means and error maps of a batch. */
export interface FlipResult {
  /** One mean per image pair (float32, as the tool's). */
  mean: Float32Array;
  /** The error maps, NCHW with one channel: `[n, 1, h, w]`. */
  map: { data: Float32Array; shape: [number, number, number, number] };
}

/**
 * Mean LDR-FLIP error (0 = identical, 1 = maximal) of every image pair of two NCHW float32
 * batches in [-1, 1], reference first. The tensors are first rounded to the 8-bit pixels they
 * stand for (which undoes {@linkcode im2tensor} exactly), as the tool reads 8-bit PNGs.
 *
 * @returns one float32 mean per batch item
 * @example
 * ```ts
 * import { loadImage } from "@perceptual/lpips/bappsloader";
 * import { flip } from "@perceptual/lpips/baselines";
 * const ref = await loadImage("ex_ref.png"), p0 = await loadImage("ex_p0.png");
 * console.log(flip(ref, p0)); // Float32Array [0.353771...], the FLIP tool's "Mean: 0.353771"
 * console.log(flip(ref, p0, { ppd: 30 })); // [0.438380...]: seen from closer, more visible
 * ```
 */
export function flip(a: ImageTensor, b: ImageTensor, options: FlipOptions = {}): Float32Array {
  return flipTensors("flip", a, b, options, false).mean;
}

/**
 * Like {@linkcode flip}, also returning the error maps.
 *
 * @example
 * ```ts
 * import { loadImage } from "@perceptual/lpips/bappsloader";
 * import { flipMap } from "@perceptual/lpips/baselines";
 * const ref = await loadImage("ex_ref.png"), p1 = await loadImage("ex_p1.png");
 * const { mean, map } = flipMap(ref, p1);
 * console.log(mean, map.shape); // Float32Array [0.473340...], [1, 1, 64, 64]
 * ```
 */
export function flipMap(a: ImageTensor, b: ImageTensor, options: FlipOptions = {}): FlipResult {
  return flipTensors("flipMap", a, b, options, true);
}

/**
 * LDR-FLIP of two decoded 8-bit sRGB images (reference, test) of the same size: exactly the
 * input the tool builds from PNG files.
 *
 * @example
 * ```ts
 * import { readImage } from "@perceptual/lpips/bappsloader";
 * import { flipImage } from "@perceptual/lpips/baselines";
 * const ref = await readImage("ex_ref.png"), p0 = await readImage("ex_p0.png");
 * const { mean, map } = flipImage(ref, p0);
 * console.log(mean.toFixed(6), map.length); // "0.353771" 4096
 * ```
 */
export function flipImage(
  reference: RGBImage,
  test: RGBImage,
  options: FlipOptions = {},
): FlipImageResult {
  const fn = "flipImage";
  checkImage(fn, "reference", reference);
  checkImage(fn, "test", test);
  const { width: w, height: h } = reference;
  if (test.width !== w || test.height !== h) {
    throw new RangeError(
      `${fn}: sizes differ: reference is ${w}x${h}, test is ${test.width}x${test.height} ` +
        `(width x height)`,
    );
  }
  const ppd = checkPpd(fn, options);
  const map = new Float32Array(w * h);
  const plane = w * h;
  const ref = planesFromInterleaved(reference.data, plane);
  const tst = planesFromInterleaved(test.data, plane);
  const mean = new FlipRun(w, h, ppd).run(ref, tst, map, 0);
  return { mean, map, width: w, height: h };
}

function flipTensors(
  fn: string,
  a: ImageTensor,
  b: ImageTensor,
  options: FlipOptions,
  full: boolean,
): FlipResult {
  checkPair(fn, a, b);
  const ppd = checkPpd(fn, options);
  const [n, , h, w] = a.shape;
  const plane = h * w;
  const mean = new Float32Array(n);
  const map = new Float32Array(full ? n * plane : plane);
  const u8 = new Uint8Array(3 * plane);
  const run = new FlipRun(w, h, ppd);
  for (let i = 0; i < n; i++) {
    quantizeInto(a.data, i * 3 * plane, 3 * plane, u8, 0, "round");
    const ref = planesFromPlanar(u8, plane);
    quantizeInto(b.data, i * 3 * plane, 3 * plane, u8, 0, "round");
    const tst = planesFromPlanar(u8, plane);
    mean[i] = run.run(ref, tst, map, full ? i * plane : 0);
  }
  return { mean, map: { data: full ? map : new Float32Array(0), shape: [n, 1, h, w] } };
}

function checkImage(fn: string, what: string, img: RGBImage): void {
  if (img === null || typeof img !== "object") {
    throw new TypeError(`${fn}: ${what} must be an RGBImage { width, height, data }, got ${img}`);
  }
  const { width: w, height: h, data } = img;
  for (const [name, v] of [["width", w], ["height", h]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`${fn}: ${what} has ${name} ${v}, expected a whole number >= 1`);
    }
  }
  if (!(data instanceof Uint8Array)) {
    throw new TypeError(`${fn}: ${what}.data must be a Uint8Array of 8-bit RGB values`);
  }
  if (data.length !== w * h * 3) {
    throw new RangeError(
      `${fn}: ${what} has ${data.length} values but ${w}x${h} RGB needs ${w * h * 3}`,
    );
  }
}

function checkPpd(fn: string, options: FlipOptions): number {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${fn}: options must be an object, got ${options}`);
  }
  const ppd = options.ppd ?? FLIP_DEFAULT_PPD;
  // Outside these bounds no display is meant: far below, the float32 filters degenerate to NaN
  // (as in the tool); far above, they only cost time.
  if (typeof ppd !== "number" || !(ppd >= 0.01 && ppd <= 10000)) {
    throw new RangeError(
      `${fn}: ppd (pixels per degree) must be a number in [0.01, 10000], got ${ppd}`,
    );
  }
  return f(ppd);
}

// ---- Colour conversions, float32 step by step ----

/** The sRGB curve, 8-bit value -> linear, as `v / 255` then the piecewise formula in float32. */
const LINEAR_FROM_U8: Float32Array = (() => {
  const lut = new Float32Array(256);
  const t = f(0.04045), div = f(12.92), off = f(0.055), scale = f(1.055), gamma = f(2.4);
  for (let v = 0; v < 256; v++) {
    const s = f(v / 255);
    lut[v] = s <= t ? f(s / div) : f(Math.pow(f(f(s + off) / scale), gamma));
  }
  return lut;
})();

// Linear sRGB -> XYZ (D65), the exact rational entries rounded to float32.
const M11 = f(f(10135552) / f(24577794)), M12 = f(f(8788810) / f(24577794));
const M13 = f(f(4435075) / f(24577794));
const M21 = f(f(2613072) / f(12288897)), M22 = f(f(8788810) / f(12288897));
const M23 = f(f(887015) / f(12288897));
const M31 = f(f(1425312) / f(73733382)), M32 = f(f(8788810) / f(73733382));
const M33 = f(f(70074185) / f(73733382));
// XYZ -> linear sRGB.
const N11 = f(3.241003275), N12 = f(-1.537398934), N13 = f(-0.498615861);
const N21 = f(-0.969224334), N22 = f(1.875930071), N23 = f(0.041554224);
const N31 = f(0.055639423), N32 = f(-0.204011202), N33 = f(1.057148933);
// The D65 white and its reciprocal (Y = 1).
const WX = f(0.950428545), WZ = f(1.088900371);
const IWX = f(1.052156925), IWZ = f(0.91835767);

const LAB_DELTA = f(6 / 29);
const LAB_DELTA_CUBE = f(LAB_DELTA * f(LAB_DELTA * LAB_DELTA));
const LAB_FACTOR = f(1 / f(3 * f(LAB_DELTA * LAB_DELTA)));
const LAB_TERM = f(4 / 29);

const QC = f(0.7), PC = f(0.4), PT = f(0.95), W_FEATURE = f(0.082);

/** CIELab's `f(t)`: the cube root (as `pow(t, f32(1/3))`) above `(6/29)^3`, linear below. */
function labF(t: number): number {
  return t > LAB_DELTA_CUBE ? labCubeRoot(t) : f(f(LAB_FACTOR * t) + LAB_TERM);
}

/** `[L, a, b]` of a linear RGB colour with the Hunt adjustment (`a`, `b` times `0.01 L`). */
function huntLab(r: number, g: number, b: number, out: Float64Array): void {
  const x = f(f(f(f(M11 * r) + f(M12 * g)) + f(M13 * b)) * IWX);
  const y = f(f(f(M21 * r) + f(M22 * g)) + f(M23 * b));
  const z = f(f(f(f(M31 * r) + f(M32 * g)) + f(M33 * b)) * IWZ);
  const fx = labF(x), fy = labF(y), fz = labF(z);
  const l = f(f(116 * fy) - 16);
  const hunt = f(f(0.01) * l);
  out[0] = l;
  out[1] = f(hunt * f(500 * f(fx - fy)));
  out[2] = f(hunt * f(200 * f(fy - fz)));
}

/** The HyAB distance of two Hunt-adjusted Lab colours. */
function hyab(p: Float64Array, q: Float64Array): number {
  const da = f(p[1] - q[1]), db = f(p[2] - q[2]);
  return f(Math.abs(f(p[0] - q[0])) + f(Math.sqrt(f(f(da * da) + f(db * db)))));
}

/** The largest colour distance, green (0, 1, 0) to blue (0, 0, 1), to the power 0.7. */
const CMAX: number = (() => {
  const g = new Float64Array(3), b = new Float64Array(3);
  huntLab(0, 1, 0, g);
  huntLab(0, 0, 1, b);
  return f(Math.pow(hyab(g, b), QC));
})();
const PCCMAX = f(PC * CMAX);

/** Y, Cx, Cz planes of an image and its normalised luminance `(Y + 16) / 116`. */
interface Planes {
  y: Float32Array;
  cx: Float32Array;
  cz: Float32Array;
  lum: Float32Array;
}

const OVER_116 = f(1 / 116), SIXTEEN_OVER_116 = f(16 / 116);

function newPlanes(plane: number): Planes {
  return {
    y: new Float32Array(plane),
    cx: new Float32Array(plane),
    cz: new Float32Array(plane),
    lum: new Float32Array(plane),
  };
}

/** Linear RGB -> YCxCz into pixel `i` of `p`. */
function setYCxCz(p: Planes, i: number, r: number, g: number, b: number): void {
  const x = f(f(f(f(M11 * r) + f(M12 * g)) + f(M13 * b)) * IWX);
  const y = f(f(f(M21 * r) + f(M22 * g)) + f(M23 * b));
  const z = f(f(f(f(M31 * r) + f(M32 * g)) + f(M33 * b)) * IWZ);
  const yy = f(f(116 * y) - 16);
  p.y[i] = yy;
  p.cx[i] = f(500 * f(x - y));
  p.cz[i] = f(200 * f(y - z));
  p.lum[i] = f(f(yy * OVER_116) + SIXTEEN_OVER_116);
}

/** Planes from HWC interleaved 8-bit RGB. */
function planesFromInterleaved(data: Uint8Array, plane: number): Planes {
  const p = newPlanes(plane), lin = LINEAR_FROM_U8;
  for (let i = 0; i < plane; i++) {
    setYCxCz(p, i, lin[data[3 * i]], lin[data[3 * i + 1]], lin[data[3 * i + 2]]);
  }
  return p;
}

/** Planes from CHW planar 8-bit RGB. */
function planesFromPlanar(data: Uint8Array, plane: number): Planes {
  const p = newPlanes(plane), lin = LINEAR_FROM_U8;
  for (let i = 0; i < plane; i++) {
    setYCxCz(p, i, lin[data[i]], lin[data[plane + i]], lin[data[2 * plane + i]]);
  }
  return p;
}

// ---- Filters ----

const PI_SQ = f(PI * PI);

/** The paper's CSF Gaussian `a sqrt(pi / b) exp(-pi^2 x^2 / b)` (or its square root's factor). */
function csf(x2: number, a: number, b: number, sqrtAmplitude: boolean): number {
  const amp = f(a * f(Math.sqrt(f(PI / b))));
  const e = f(Math.exp(f(f(f(-PI_SQ) * x2) / b)));
  return f((sqrtAmplitude ? f(Math.sqrt(amp)) : amp) * e);
}

/** The separable CSF taps: Y, Cx (each sums to 1) and the two Cz Gaussians (jointly normalised). */
interface SpatialFilters {
  radius: number;
  y: Float64Array;
  cx: Float64Array;
  cz1: Float64Array;
  cz2: Float64Array;
}

function spatialFilters(ppd: number): SpatialFilters {
  // The widest Gaussian (b = 0.04) sets the radius: three of its standard deviations.
  const radius = Math.ceil(f(f(3 * f(Math.sqrt(f(f(0.04) / f(2 * PI_SQ))))) * ppd));
  const width = 2 * radius + 1;
  const dx = f(1 / ppd);
  const y = new Float64Array(width), cx = new Float64Array(width);
  const cz1 = new Float64Array(width), cz2 = new Float64Array(width);
  let sy = 0, scx = 0, s1 = 0, s2 = 0;
  for (let i = 0; i < width; i++) {
    const x = f((i - radius) * dx);
    const x2 = f(x * x);
    y[i] = csf(x2, 1, f(0.0047), false);
    cx[i] = csf(x2, 1, f(0.0053), false);
    cz1[i] = csf(x2, f(34.1), f(0.04), true);
    cz2[i] = csf(x2, f(13.5), f(0.025), true);
    sy = f(sy + y[i]);
    scx = f(scx + cx[i]);
    s1 = f(s1 + cz1[i]);
    s2 = f(s2 + cz2[i]);
  }
  // Cz = g1 (x) g1 + g2 (x) g2, so the two 1-D filters share one factor that makes the 2-D sum 1.
  const ny = f(1 / sy), ncx = f(1 / scx);
  const nz = f(1 / f(Math.sqrt(f(f(s1 * s1) + f(s2 * s2)))));
  for (let i = 0; i < width; i++) {
    y[i] = f(y[i] * ny);
    cx[i] = f(cx[i] * ncx);
    cz1[i] = f(cz1[i] * nz);
    cz2[i] = f(cz2[i] * nz);
  }
  return { radius, y, cx, cz1, cz2 };
}

/** Gaussian, its first and second derivative: the edge and point detectors' separable taps. */
interface FeatureFilters {
  radius: number;
  g: Float64Array;
  dg: Float64Array;
  ddg: Float64Array;
}

function featureFilters(ppd: number): FeatureFilters {
  const sd = f(f(f(0.5) * W_FEATURE) * ppd);
  const radius = Math.ceil(f(3 * sd));
  const width = 2 * radius + 1;
  const g = new Float64Array(width), dg = new Float64Array(width), ddg = new Float64Array(width);
  const twoVar = f(f(2 * sd) * sd), variance = f(sd * sd);
  let gSum = 0, dPos = 0, dNeg = 0, ddPos = 0, ddNeg = 0;
  for (let i = 0; i < width; i++) {
    const x = i - radius;
    const gi = f(Math.exp(f(-(x * x) / twoVar)));
    gSum = f(gSum + gi);
    const d = f(-x * gi);
    if (d > 0) dPos = f(dPos + d);
    else dNeg = f(dNeg - d);
    const dd = f(f(f(x * x) / variance) - 1) * gi;
    const ddr = f(dd);
    if (ddr > 0) ddPos = f(ddPos + ddr);
    else ddNeg = f(ddNeg - ddr);
    g[i] = gi;
    dg[i] = d;
    ddg[i] = ddr;
  }
  // Gaussian taps sum to 1; the positive and the negative derivative taps each to +1 and -1.
  for (let i = 0; i < width; i++) {
    g[i] = f(g[i] / gSum);
    dg[i] = f(dg[i] / (dg[i] > 0 ? dPos : dNeg));
    ddg[i] = f(ddg[i] / (ddg[i] > 0 ? ddPos : ddNeg));
  }
  return { radius, g, dg, ddg };
}

// ---- The two pipelines ----

/**
 * Correlates every row of `src` (`h` rows of `w`) with `taps` (`2 radius + 1` of them) into
 * `dst`, transposed: the result for row `y`, column `x` goes to `dst[x * h + y]`, so that a second
 * call filters the original columns and restores the layout. Each output sums its taps from the
 * most negative offset up, in float32, and reads beyond a row's ends repeat its end pixels.
 */
function correlateRowsTransposed(
  src: Float32Array,
  dst: Float32Array,
  w: number,
  h: number,
  taps: Float64Array,
  radius: number,
  pad: Float64Array,
): void {
  const k = taps.length;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const first = src[row], last = src[row + w - 1];
    for (let i = 0; i < radius; i++) {
      pad[i] = first;
      pad[radius + w + i] = last;
    }
    for (let x = 0; x < w; x++) pad[radius + x] = src[row + x];
    let x = 0;
    // Four outputs at a time, sliding the window through registers; the order per output is
    // unchanged.
    for (; x + 4 <= w; x += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let p0 = pad[x], p1 = pad[x + 1], p2 = pad[x + 2];
      for (let t = 0; t < k; t++) {
        const c = taps[t], p3 = pad[x + t + 3];
        s0 = f(s0 + f(c * p0));
        s1 = f(s1 + f(c * p1));
        s2 = f(s2 + f(c * p2));
        s3 = f(s3 + f(c * p3));
        p0 = p1;
        p1 = p2;
        p2 = p3;
      }
      dst[x * h + y] = s0;
      dst[(x + 1) * h + y] = s1;
      dst[(x + 2) * h + y] = s2;
      dst[(x + 3) * h + y] = s3;
    }
    for (; x < w; x++) {
      let s = 0;
      for (let t = 0; t < k; t++) s = f(s + f(taps[t] * pad[x + t]));
      dst[x * h + y] = s;
    }
  }
}

/** The error computation for one size and ppd; its buffers are reused across a batch. */
class FlipRun {
  readonly #w: number;
  readonly #h: number;
  readonly #spatial: SpatialFilters;
  readonly #feature: FeatureFilters;
  readonly #pad: Float64Array;
  readonly #rows: Float32Array[];
  readonly #planes: Float32Array[];

  constructor(w: number, h: number, ppd: number) {
    this.#w = w;
    this.#h = h;
    this.#spatial = spatialFilters(ppd);
    this.#feature = featureFilters(ppd);
    const radius = Math.max(this.#spatial.radius, this.#feature.radius);
    this.#pad = new Float64Array(Math.max(w, h) + 2 * radius);
    this.#rows = Array.from({ length: 3 }, () => new Float32Array(w * h));
    this.#planes = Array.from({ length: 8 }, () => new Float32Array(w * h));
  }

  /** Writes the error map of one pair at `map[at..]` and returns its float32 mean. */
  run(ref: Planes, test: Planes, map: Float32Array, at: number): number {
    const w = this.#w, h = this.#h;
    this.#colour(ref, test, map, at);
    this.#features(ref, test, map, at);
    let sum = 0;
    for (let i = 0; i < w * h; i++) sum = f(sum + map[at + i]);
    return f(sum / f(w * h));
  }

  /** Separable filtering of `src` by `row` taps along x, then `column` taps along y, into `dst`. */
  #separable(
    src: Float32Array,
    dst: Float32Array,
    row: Float64Array,
    column: Float64Array,
    radius: number,
  ): void {
    const w = this.#w, h = this.#h;
    correlateRowsTransposed(src, this.#rows[0], w, h, row, radius, this.#pad);
    correlateRowsTransposed(this.#rows[0], dst, h, w, column, radius, this.#pad);
  }

  /** The compressed colour difference of every pixel, into `map`. */
  #colour(ref: Planes, test: Planes, map: Float32Array, at: number): void {
    const plane = this.#w * this.#h;
    const { radius, y: ty, cx: tcx, cz1: tz1, cz2: tz2 } = this.#spatial;
    const [yR, cxR, z1R, z2R, yT, cxT, z1T, z2T] = this.#planes;
    for (const [src, out] of [[ref, [yR, cxR, z1R, z2R]], [test, [yT, cxT, z1T, z2T]]] as const) {
      this.#separable(src.y, out[0], ty, ty, radius);
      this.#separable(src.cx, out[1], tcx, tcx, radius);
      this.#separable(src.cz, out[2], tz1, tz1, radius);
      this.#separable(src.cz, out[3], tz2, tz2, radius);
    }
    const labR = new Float64Array(3), labT = new Float64Array(3);
    const gain = f(PT / PCCMAX), span = f(CMAX - PCCMAX), top = f(1 - PT);
    for (let i = 0; i < plane; i++) {
      filteredLab(yR[i], cxR[i], f(z1R[i] + z2R[i]), labR);
      filteredLab(yT[i], cxT[i], f(z1T[i] + z2T[i]), labT);
      const d = f(Math.pow(hyab(labR, labT), QC));
      map[at + i] = d < PCCMAX ? f(d * gain) : f(PT + f(f(f(d - PCCMAX) / span) * top));
    }
  }

  /** The feature difference of every pixel, turning the colour difference in `map` into FLIP. */
  #features(ref: Planes, test: Planes, map: Float32Array, at: number): void {
    const plane = this.#w * this.#h;
    const { radius, g, dg, ddg } = this.#feature;
    const w = this.#w, h = this.#h, pad = this.#pad;
    const [dxR, ddxR, dyR, ddyR, dxT, ddxT, dyT, ddyT] = this.#planes;
    const [hd, hdd, hg] = this.#rows;
    for (
      const [src, out] of [[ref, [dxR, ddxR, dyR, ddyR]], [test, [dxT, ddxT, dyT, ddyT]]] as const
    ) {
      // Along x: first and second derivative and the Gaussian; then along y: the Gaussian for the
      // x derivatives and the derivatives for the x-smoothed image.
      correlateRowsTransposed(src.lum, hd, w, h, dg, radius, pad);
      correlateRowsTransposed(src.lum, hdd, w, h, ddg, radius, pad);
      correlateRowsTransposed(src.lum, hg, w, h, g, radius, pad);
      correlateRowsTransposed(hd, out[0], h, w, g, radius, pad);
      correlateRowsTransposed(hdd, out[1], h, w, g, radius, pad);
      correlateRowsTransposed(hg, out[2], h, w, dg, radius, pad);
      correlateRowsTransposed(hg, out[3], h, w, ddg, radius, pad);
    }
    const norm = f(1 / f(Math.SQRT2));
    for (let i = 0; i < plane; i++) {
      const edgeR = f(Math.sqrt(f(f(dxR[i] * dxR[i]) + f(dyR[i] * dyR[i]))));
      const edgeT = f(Math.sqrt(f(f(dxT[i] * dxT[i]) + f(dyT[i] * dyT[i]))));
      const pointR = f(Math.sqrt(f(f(ddxR[i] * ddxR[i]) + f(ddyR[i] * ddyR[i]))));
      const pointT = f(Math.sqrt(f(f(ddxT[i] * ddxT[i]) + f(ddyT[i] * ddyT[i]))));
      const edge = Math.abs(f(edgeR - edgeT)), point = Math.abs(f(pointR - pointT));
      // `a > b ? a : b`, as the tool: a NaN edge term (degenerate filters) yields the point term.
      // The power qf = 0.5 as a square root (Math.pow(x, 0.5) is sqrt(x) for x >= 0 anyway).
      const feature = f(Math.sqrt(f(norm * (edge > point ? edge : point))));
      map[at + i] = f(Math.pow(map[at + i], f(1 - feature)));
    }
  }
}

/** A filtered YCxCz colour -> linear RGB clamped to [0, 1] -> Hunt-adjusted Lab, into `out`. */
function filteredLab(yc: number, cx: number, cz: number, out: Float64Array): void {
  const y = f(f(yc + 16) / 116);
  const x = f(f(y + f(cx / 500)) * WX);
  const z = f(f(y - f(cz / 200)) * WZ);
  const r = clamp01(f(f(f(N11 * x) + f(N12 * y)) + f(N13 * z)));
  const g = clamp01(f(f(f(N21 * x) + f(N22 * y)) + f(N23 * z)));
  const b = clamp01(f(f(f(N31 * x) + f(N32 * y)) + f(N33 * z)));
  huntLab(r, g, b, out);
}

/** `min(max(v, 0), 1)` written as the tool's macros (so -0 becomes +0). */
function clamp01(v: number): number {
  const m = v > 0 ? v : 0;
  return m > 1 ? 1 : m;
}
