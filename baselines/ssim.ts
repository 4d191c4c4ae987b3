/**
 * SSIM and the paper's DSSIM baseline, as scikit-image's `structural_similarity` computes them,
 * with two presets:
 *
 * | preset | window | covariance | pixels from a [-1, 1] tensor |
 * |---|---|---|---|
 * | `"paper"` (default) | uniform 7x7 | sample (49/48) | truncating `tensor2im`, as the reference |
 * | `"gaussian"` | Gaussian sigma 1.5, truncated at 3.5 sigma (11x11) | population | rounded (the stored image) |
 *
 * Both use K1 = 0.01, K2 = 0.03, data range 255 for RGB and 100 for Lab, average SSIM only over
 * windows that lie fully inside the image (scikit-image's crop of `(win - 1) / 2` pixels) and
 * then over the channels. `"paper"` is the reference's `lpips.DSSIM` (old `compare_ssim`
 * defaults); `"gaussian"` is `structural_similarity(gaussian_weights=True, sigma=1.5,
 * use_sample_covariance=False)`, the setting of Wang et al. (2004).
 *
 * Window means are separable running sums (uniform) or separable correlations (Gaussian) over a
 * ring of `win` rows, so memory is O(win x width) per channel beyond the inputs, and there is no
 * per-window loop. Everything is float64.
 *
 * @module
 */
import type { ImageSource, ImageTensor } from "../bappsloader/image.ts";
import { withImages } from "./_files.ts";
import { checkQuantize, type Quantize, quantizeInto } from "./_quantize.ts";
import { checkColorspace, checkFinite, checkPair, type Colorspace } from "./_validate.ts";
import { labInto } from "./lab.ts";

/** The two named SSIM settings (see the module documentation). */
export type SsimPreset = "paper" | "gaussian";

/** How the local statistics are weighted; every field overrides the preset. */
export interface SsimWindowOptions {
  /** Gaussian-weighted (true) or uniform (false) window. */
  gaussianWeights?: boolean;
  /**
   * Uniform window side, odd and >= 3 (default 7). With Gaussian weights the side is
   * `2 * trunc(truncate * sigma + 0.5) + 1` (SciPy's radius); a different value is an error.
   */
  winSize?: number;
  /** Standard deviation of the Gaussian window in pixels (default 1.5). */
  sigma?: number;
  /** Gaussian radius in standard deviations, as SciPy's `truncate` (default 3.5, scikit-image's). */
  truncate?: number;
  /** Sample covariance `NP / (NP - 1)` (true) or population covariance (false). */
  sampleCovariance?: boolean;
  /** Luminance constant (default 0.01). */
  k1?: number;
  /** Contrast constant (default 0.03). */
  k2?: number;
}

/** Options of {@linkcode ssim}, {@linkcode ssimMap} and {@linkcode dssim}. */
export interface SsimOptions extends SsimWindowOptions {
  /** Default `"paper"`. */
  preset?: SsimPreset;
  /** Default `"Lab"`, the reference's default. */
  colorspace?: Colorspace;
  /**
   * How the tensors become uint8 first; default `"truncate"` (the reference's `tensor2im`) for
   * `"paper"`, `"round"` (the stored pixels) for `"gaussian"`.
   */
  quantize?: Quantize;
  /** Default 255 for RGB, 100 for Lab. */
  dataRange?: number;
}

/** Options of {@linkcode structuralSimilarity}. */
export interface StructuralSimilarityOptions extends SsimWindowOptions {
  /** Default `"paper"`. */
  preset?: SsimPreset;
  /** The dynamic range of the values (255 for 8-bit images, 100 for Lab L). */
  dataRange: number;
  /** Also return the SSIM map. */
  full?: boolean;
}

/** SSIM values and, when asked for, the map. */
export interface SsimResult {
  /** Per image: the mean over channels of each channel's mean SSIM. */
  ssim: Float64Array;
  /** Per image and channel (`n x c`, row-major): the mean SSIM of each channel. */
  perChannel: Float64Array;
  /**
   * The local SSIM of every window that lies fully inside the image, NCHW with
   * `[n, c, h - win + 1, w - win + 1]` (scikit-image's `full=True` map cropped by `(win - 1) / 2`,
   * which is the part its mean uses; the border values there depend on a padding mode).
   */
  map?: { data: Float64Array; shape: [number, number, number, number] };
}

/** The settings behind each preset (plus K1 = 0.01, K2 = 0.03). */
export const SSIM_PRESETS: Readonly<
  Record<SsimPreset, Readonly<SsimWindowOptions & { quantize: Quantize }>>
> = Object.freeze({
  paper: Object.freeze({
    gaussianWeights: false,
    winSize: 7,
    sampleCovariance: true,
    quantize: "truncate" as const,
  }),
  gaussian: Object.freeze({
    gaussianWeights: true,
    sigma: 1.5,
    truncate: 3.5,
    sampleCovariance: false,
    quantize: "round" as const,
  }),
});

/**
 * Mean SSIM of every image pair of two NCHW float32 batches in [-1, 1], in RGB (0..255) or Lab
 * (the default, as in the reference). Either side may be an image file (a path or `file:` URL,
 * read with `loadImage`): the result is then a promise.
 *
 * @returns one float64 value per batch item
 * @example
 * ```ts
 * import { loadImage } from "@perceptual/lpips/bappsloader";
 * import { ssim } from "@perceptual/lpips/baselines";
 * const ref = await loadImage("ex_ref.png"), p0 = await loadImage("ex_p0.png");
 * console.log(ssim(ref, p0, { colorspace: "RGB" })); // Float64Array [0.47643...]
 * console.log(ssim(ref, p0, { colorspace: "RGB", preset: "gaussian" })); // [0.43674...]
 * console.log(await ssim("ex_ref.png", "ex_p0.png", { colorspace: "RGB" })); // files: [0.47643...]
 * ```
 */
export function ssim(a: ImageTensor, b: ImageTensor, options?: SsimOptions): Float64Array;
/** {@linkcode ssim} of image files (paths or `file:` URLs) or tensors, once the files are read. */
export function ssim(a: ImageSource, b: ImageSource, options?: SsimOptions): Promise<Float64Array>;
export function ssim(
  a: ImageSource,
  b: ImageSource,
  options: SsimOptions = {},
): Float64Array | Promise<Float64Array> {
  return withImages(a, b, (x, y) => ssimTensors("ssim", x, y, options, false).ssim);
}

/**
 * Like {@linkcode ssim}, also returning the per-channel means and the SSIM map (files too, then
 * as a promise).
 *
 * @example
 * ```ts
 * import { loadImage } from "@perceptual/lpips/bappsloader";
 * import { ssimMap } from "@perceptual/lpips/baselines";
 * const ref = await loadImage("ex_ref.png"), p1 = await loadImage("ex_p1.png");
 * const { ssim, map } = ssimMap(ref, p1, { colorspace: "RGB" });
 * console.log(ssim, map!.shape); // Float64Array [0.31263...], [1, 3, 58, 58]
 * ```
 */
export function ssimMap(a: ImageTensor, b: ImageTensor, options?: SsimOptions): SsimResult;
/** {@linkcode ssimMap} of image files (paths or `file:` URLs) or tensors, once they are read. */
export function ssimMap(a: ImageSource, b: ImageSource, options?: SsimOptions): Promise<SsimResult>;
export function ssimMap(
  a: ImageSource,
  b: ImageSource,
  options: SsimOptions = {},
): SsimResult | Promise<SsimResult> {
  return withImages(a, b, (x, y) => ssimTensors("ssimMap", x, y, options, true));
}

/**
 * The paper's DSSIM baseline `(1 - SSIM) / 2` (`lpips.DSSIM`), rounded to float32 as the
 * reference returns it. Files (paths or `file:` URLs) are read with `loadImage`; the result is
 * then a promise.
 *
 * @example
 * ```ts
 * import { loadImage } from "@perceptual/lpips/bappsloader";
 * import { dssim } from "@perceptual/lpips/baselines";
 * const ref = await loadImage("ex_ref.png"), p0 = await loadImage("ex_p0.png");
 * console.log(dssim(ref, p0, { colorspace: "RGB" })); // Float32Array [0.261782...]
 * console.log(await dssim("ex_ref.png", "ex_p0.png", { colorspace: "RGB" })); // the same, from files
 * ```
 */
export function dssim(a: ImageTensor, b: ImageTensor, options?: SsimOptions): Float32Array;
/** {@linkcode dssim} of image files (paths or `file:` URLs) or tensors, once the files are read. */
export function dssim(a: ImageSource, b: ImageSource, options?: SsimOptions): Promise<Float32Array>;
export function dssim(
  a: ImageSource,
  b: ImageSource,
  options: SsimOptions = {},
): Float32Array | Promise<Float32Array> {
  return withImages(a, b, (x, y) => dssimTensors(x, y, options));
}

function dssimTensors(a: ImageTensor, b: ImageTensor, options: SsimOptions): Float32Array {
  const s = ssimTensors("dssim", a, b, options, false).ssim;
  const out = new Float32Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = (1 - s[i]) / 2;
  return out;
}

/**
 * SSIM of two planar arrays of any number of channels, given their shape `[n, c, h, w]` and data
 * range: scikit-image's `structural_similarity(x, y, data_range, channel_axis=...)` for each of
 * the `n` images. Values are used as they are (no quantizing, no colour conversion).
 *
 * @example
 * ```ts
 * import { structuralSimilarity } from "@perceptual/lpips/baselines";
 * const x = new Uint8Array(64 * 64).map((_, i) => (i * 7) % 256);
 * const y = x.map((v) => 255 - v); // the negative image
 * const r = structuralSimilarity(x, y, [1, 1, 64, 64], { dataRange: 255, preset: "gaussian" });
 * console.log(r.ssim[0]); // -0.97791...: anti-correlated structure
 * ```
 */
export function structuralSimilarity(
  x: Float64Array | Float32Array | Uint8Array,
  y: Float64Array | Float32Array | Uint8Array,
  shape: readonly [number, number, number, number],
  options: StructuralSimilarityOptions,
): SsimResult {
  const fn = "structuralSimilarity";
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${fn}: options with a dataRange are required, got ${options}`);
  }
  if (!Array.isArray(shape) || shape.length !== 4) {
    throw new TypeError(`${fn}: shape must be [n, c, height, width], got ${JSON.stringify(shape)}`);
  }
  const [n, c, h, w] = shape;
  for (
    const [name, v, min] of [["n", n, 0], ["c", c, 1], ["height", h, 1], ["width", w, 1]] as const
  ) {
    if (!Number.isInteger(v) || v < min) {
      throw new RangeError(`${fn}: ${name} is ${v}, expected a whole number >= ${min}`);
    }
  }
  const len = n * c * h * w;
  for (const [what, arr] of [["x", x], ["y", y]] as const) {
    if (
      !(arr instanceof Float64Array || arr instanceof Float32Array || arr instanceof Uint8Array)
    ) {
      throw new TypeError(`${fn}: ${what} must be a Float64Array, Float32Array or Uint8Array`);
    }
    if (arr.length !== len) {
      throw new RangeError(
        `${fn}: ${what} has ${arr.length} values but shape [${shape}] needs ${len}`,
      );
    }
    if (!(arr instanceof Uint8Array)) checkFinite(fn, what, arr, shape);
  }
  const win = resolveWindow(fn, options, options.preset);
  checkSize(fn, win, h, w);
  const dataRange = checkDataRange(fn, options.dataRange);
  const plane = h * w;
  const run = new SsimRun(win, dataRange, n, c, h, w, options.full === true);
  const xs = x instanceof Float64Array ? x : Float64Array.from(x);
  const ys = y instanceof Float64Array ? y : Float64Array.from(y);
  for (let p = 0; p < n * c; p++) run.plane(xs, ys, p * plane, p);
  return run.result();
}

function ssimTensors(
  fn: string,
  a: ImageTensor,
  b: ImageTensor,
  options: SsimOptions,
  full: boolean,
): SsimResult {
  checkPair(fn, a, b);
  const preset = options.preset;
  const colorspace = checkColorspace(fn, options.colorspace);
  const win = resolveWindow(fn, options, preset);
  const quantize = options.quantize === undefined
    ? SSIM_PRESETS[preset ?? "paper"].quantize
    : checkQuantize(fn, options.quantize);
  const dataRange = options.dataRange === undefined
    ? (colorspace === "RGB" ? 255 : 100)
    : checkDataRange(fn, options.dataRange);
  const [n, , h, w] = a.shape;
  checkSize(fn, win, h, w);
  const plane = h * w;
  const per = 3 * plane;
  const run = new SsimRun(win, dataRange, n, 3, h, w, full);
  const u8 = new Uint8Array(per);
  const lab = colorspace === "Lab" ? new Float32Array(per) : null;
  const xs = new Float64Array(per);
  const ys = new Float64Array(per);
  const toPlanes = (src: Float32Array, off: number, dst: Float64Array) => {
    quantizeInto(src, off, per, u8, 0, quantize);
    if (lab) {
      // The reference casts the float64 Lab arrays to float32, then scikit-image to float64.
      labInto(u8, 0, 1, plane, plane, lab, 0, 1, plane);
      dst.set(lab);
    } else {
      dst.set(u8);
    }
  };
  for (let i = 0; i < n; i++) {
    toPlanes(a.data, i * per, xs);
    toPlanes(b.data, i * per, ys);
    for (let ch = 0; ch < 3; ch++) run.plane(xs, ys, ch * plane, i * 3 + ch);
  }
  return run.result();
}

/** A resolved window: side, Gaussian taps (or null for uniform), covariance factor, K1, K2. */
interface Window {
  size: number;
  weights: Float64Array | null;
  covNorm: number;
  k1: number;
  k2: number;
}

function resolveWindow(
  fn: string,
  o: SsimWindowOptions,
  preset: SsimPreset | undefined,
): Window {
  if (preset !== undefined && preset !== "paper" && preset !== "gaussian") {
    throw new RangeError(
      `${fn}: preset must be "paper" or "gaussian", got ${JSON.stringify(preset)}`,
    );
  }
  const p = SSIM_PRESETS[preset ?? "paper"];
  const gaussian = o.gaussianWeights ?? p.gaussianWeights ?? false;
  const sampleCov = o.sampleCovariance ?? p.sampleCovariance ?? true;
  const k1 = o.k1 ?? 0.01;
  const k2 = o.k2 ?? 0.03;
  for (const [name, v] of [["k1", k1], ["k2", k2]] as const) {
    if (!(Number.isFinite(v) && v >= 0)) {
      throw new RangeError(`${fn}: ${name} must be a finite number >= 0, got ${v}`);
    }
  }
  let size: number;
  let weights: Float64Array | null = null;
  if (gaussian) {
    const sigma = o.sigma ?? p.sigma ?? 1.5;
    const truncate = o.truncate ?? p.truncate ?? 3.5;
    if (!(Number.isFinite(sigma) && sigma > 0)) {
      throw new RangeError(`${fn}: sigma must be a finite number > 0, got ${sigma}`);
    }
    if (!(Number.isFinite(truncate) && truncate > 0)) {
      throw new RangeError(`${fn}: truncate must be a finite number > 0, got ${truncate}`);
    }
    const radius = Math.trunc(truncate * sigma + 0.5); // SciPy's gaussian_filter radius
    size = 2 * radius + 1;
    if (o.winSize !== undefined && o.winSize !== size) {
      throw new RangeError(
        `${fn}: winSize ${o.winSize} contradicts the Gaussian window (sigma ${sigma}, truncate ` +
          `${truncate} give ${size}x${size}); leave winSize out or change sigma/truncate`,
      );
    }
    if (size < 3) {
      throw new RangeError(`${fn}: sigma ${sigma} and truncate ${truncate} give a 1x1 window`);
    }
    weights = gaussianTaps(sigma, radius);
  } else {
    size = o.winSize ?? p.winSize ?? 7;
    if (!Number.isInteger(size) || size < 3 || size % 2 !== 1) {
      throw new RangeError(`${fn}: winSize must be an odd whole number >= 3, got ${size}`);
    }
  }
  const np = size * size;
  return { size, weights, covNorm: sampleCov ? np / (np - 1) : 1, k1, k2 };
}

/** SciPy's `_gaussian_kernel1d(sigma, 0, radius)`: `exp(-x^2 / (2 sigma^2))`, normalised. */
function gaussianTaps(sigma: number, radius: number): Float64Array {
  const taps = new Float64Array(2 * radius + 1);
  const c = -0.5 / (sigma * sigma);
  let sum = 0;
  for (let i = 0; i < taps.length; i++) {
    const x = i - radius;
    taps[i] = Math.exp(c * x * x);
    sum += taps[i];
  }
  for (let i = 0; i < taps.length; i++) taps[i] /= sum;
  return taps;
}

function checkSize(fn: string, win: Window, h: number, w: number): void {
  if (h < win.size || w < win.size) {
    throw new RangeError(
      `${fn}: a ${w}x${h} image (width x height) is smaller than the ${win.size}x${win.size} SSIM window`,
    );
  }
}

function checkDataRange(fn: string, r: unknown): number {
  if (typeof r !== "number" || !(Number.isFinite(r) && r > 0)) {
    throw new RangeError(`${fn}: dataRange must be a finite number > 0, got ${r}`);
  }
  return r;
}

/**
 * One SSIM computation over planes of one size: owns the ring buffers (win rows of window sums
 * for x, y, x^2, y^2, xy) and the outputs.
 */
class SsimRun {
  readonly #k: number;
  readonly #weights: Float64Array | null;
  readonly #covNorm: number;
  readonly #c1: number;
  readonly #c2: number;
  readonly #h: number;
  readonly #w: number;
  readonly #ow: number;
  readonly #oh: number;
  readonly #c: number;
  readonly #ring: Float64Array[];
  readonly #col: Float64Array[];
  readonly #products: Float64Array[];
  readonly #perPlane: Float64Array;
  readonly #map: Float64Array | null;

  constructor(
    win: Window,
    dataRange: number,
    n: number,
    c: number,
    h: number,
    w: number,
    full: boolean,
  ) {
    this.#k = win.size;
    this.#weights = win.weights;
    this.#covNorm = win.covNorm;
    this.#c1 = (win.k1 * dataRange) ** 2;
    this.#c2 = (win.k2 * dataRange) ** 2;
    this.#h = h;
    this.#w = w;
    this.#c = c;
    this.#ow = w - win.size + 1;
    this.#oh = h - win.size + 1;
    const ring = win.size * this.#ow;
    this.#ring = Array.from({ length: 5 }, () => new Float64Array(ring));
    this.#col = Array.from({ length: 5 }, () => new Float64Array(this.#ow));
    this.#products = win.weights ? Array.from({ length: 5 }, () => new Float64Array(w)) : [];
    this.#perPlane = new Float64Array(n * c);
    this.#map = full ? new Float64Array(n * c * this.#oh * this.#ow) : null;
  }

  /** Mean SSIM of the planes starting at `off` in `x` and `y`, stored as plane number `p`. */
  plane(x: Float64Array, y: Float64Array, off: number, p: number): void {
    const mapOff = p * this.#oh * this.#ow;
    const total = this.#weights
      ? this.#gaussianPlane(x, y, off, this.#weights, mapOff)
      : this.#uniformPlane(x, y, off, mapOff);
    this.#perPlane[p] = total / (this.#oh * this.#ow);
  }

  result(): SsimResult {
    const c = this.#c;
    const n = this.#perPlane.length / c;
    const ssim = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let ch = 0; ch < c; ch++) s += this.#perPlane[i * c + ch];
      ssim[i] = s / c;
    }
    const out: SsimResult = { ssim, perChannel: this.#perPlane };
    if (this.#map) out.map = { data: this.#map, shape: [n, c, this.#oh, this.#ow] };
    return out;
  }

  /** Uniform window: running sums along each row, then running column sums down the rows. */
  #uniformPlane(x: Float64Array, y: Float64Array, off: number, mapOff: number): number {
    const k = this.#k, w = this.#w, h = this.#h, ow = this.#ow;
    const [rx, ry, rxx, ryy, rxy] = this.#ring;
    const [cx, cy, cxx, cyy, cxy] = this.#col;
    for (const a of this.#ring) a.fill(0);
    for (const a of this.#col) a.fill(0);
    let total = 0;
    for (let r = 0; r < h; r++) {
      const row = off + r * w;
      const slot = (r % k) * ow;
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let t = 0; t < k; t++) {
        const a = x[row + t], b = y[row + t];
        sx += a;
        sy += b;
        sxx += a * a;
        syy += b * b;
        sxy += a * b;
      }
      for (let j = 0;; j++) {
        // Replace the row that leaves the vertical window (zeros while the ring fills).
        const o = slot + j;
        cx[j] += sx - rx[o];
        cy[j] += sy - ry[o];
        cxx[j] += sxx - rxx[o];
        cyy[j] += syy - ryy[o];
        cxy[j] += sxy - rxy[o];
        rx[o] = sx;
        ry[o] = sy;
        rxx[o] = sxx;
        ryy[o] = syy;
        rxy[o] = sxy;
        if (j === ow - 1) break;
        const a0 = x[row + j], b0 = y[row + j];
        const a1 = x[row + j + k], b1 = y[row + j + k];
        sx += a1 - a0;
        sy += b1 - b0;
        sxx += a1 * a1 - a0 * a0;
        syy += b1 * b1 - b0 * b0;
        sxy += a1 * b1 - a0 * b0;
      }
      if (r >= k - 1) {
        total += this.#emitRow(cx, cy, cxx, cyy, cxy, k * k, mapOff + (r - k + 1) * ow);
      }
    }
    return total;
  }

  /**
   * Gaussian window: a k-tap correlation along each row, then down the ring of k rows. The taps
   * are symmetric, so each pass adds mirrored pairs before weighting them, centre first, as
   * SciPy's `correlate1d` does.
   */
  #gaussianPlane(
    x: Float64Array,
    y: Float64Array,
    off: number,
    g: Float64Array,
    mapOff: number,
  ): number {
    const k = this.#k, w = this.#w, h = this.#h, ow = this.#ow;
    const rad = (k - 1) >> 1, gc = g[rad];
    const [rx, ry, rxx, ryy, rxy] = this.#ring;
    const [cx, cy, cxx, cyy, cxy] = this.#col;
    const slots = new Int32Array(k);
    const [px, py, pxx, pyy, pxy] = this.#products;
    let total = 0;
    for (let r = 0; r < h; r++) {
      const row = off + r * w;
      const slot = (r % k) * ow;
      // Products once per pixel (and a * b, never (g a) b, so that SSIM stays symmetric).
      for (let j = 0; j < w; j++) {
        const a = x[row + j], b = y[row + j];
        px[j] = a;
        py[j] = b;
        pxx[j] = a * a;
        pyy[j] = b * b;
        pxy[j] = a * b;
      }
      for (let j = 0; j < ow; j++) {
        const c = j + rad;
        let sx = gc * px[c], sy = gc * py[c];
        let sxx = gc * pxx[c], syy = gc * pyy[c], sxy = gc * pxy[c];
        for (let t = 1; t <= rad; t++) {
          const gt = g[rad + t], lo = c - t, hi = c + t;
          sx += gt * (px[lo] + px[hi]);
          sy += gt * (py[lo] + py[hi]);
          sxx += gt * (pxx[lo] + pxx[hi]);
          syy += gt * (pyy[lo] + pyy[hi]);
          sxy += gt * (pxy[lo] + pxy[hi]);
        }
        rx[slot + j] = sx;
        ry[slot + j] = sy;
        rxx[slot + j] = sxx;
        ryy[slot + j] = syy;
        rxy[slot + j] = sxy;
      }
      if (r < k - 1) continue;
      const top = r - k + 1;
      for (let t = 0; t < k; t++) slots[t] = ((top + t) % k) * ow;
      const mid = slots[rad];
      for (let j = 0; j < ow; j++) {
        let sx = gc * rx[mid + j], sy = gc * ry[mid + j];
        let sxx = gc * rxx[mid + j], syy = gc * ryy[mid + j], sxy = gc * rxy[mid + j];
        for (let t = 1; t <= rad; t++) {
          const gt = g[rad + t], lo = slots[rad - t] + j, hi = slots[rad + t] + j;
          sx += gt * (rx[lo] + rx[hi]);
          sy += gt * (ry[lo] + ry[hi]);
          sxx += gt * (rxx[lo] + rxx[hi]);
          syy += gt * (ryy[lo] + ryy[hi]);
          sxy += gt * (rxy[lo] + rxy[hi]);
        }
        cx[j] = sx;
        cy[j] = sy;
        cxx[j] = sxx;
        cyy[j] = syy;
        cxy[j] = sxy;
      }
      total += this.#emitRow(cx, cy, cxx, cyy, cxy, 1, mapOff + top * ow);
    }
    return total;
  }

  /**
   * SSIM of one output row from the window sums `s*` of `count` weights (1 for the normalised
   * Gaussian). With means `u = s / N`, numerator and denominator are both multiplied by `N^4`:
   * `S = (2 sx sy + C1 N^2) (2 cn (N sxy - sx sy) + C2 N^2) / ((sx^2 + sy^2 + C1 N^2)
   * (cn (N sxx - sx^2 + N syy - sy^2) + C2 N^2))`. For 8-bit data every term is an exact integer
   * (no division per window, flat windows have exactly zero variance), and `S` is exactly 1 for
   * identical windows and exactly symmetric in x and y.
   */
  #emitRow(
    cx: Float64Array,
    cy: Float64Array,
    cxx: Float64Array,
    cyy: Float64Array,
    cxy: Float64Array,
    count: number,
    mapAt: number,
  ): number {
    const cn = this.#covNorm, map = this.#map, ow = this.#ow;
    const c1 = this.#c1 * count * count, c2 = this.#c2 * count * count;
    let total = 0;
    for (let j = 0; j < ow; j++) {
      const sx = cx[j], sy = cy[j];
      const sxsy = sx * sy, sx2 = sx * sx, sy2 = sy * sy;
      const num = (2 * sxsy + c1) * (cn * (2 * (count * cxy[j] - sxsy)) + c2);
      const den = (sx2 + sy2 + c1) *
        (cn * (count * cxx[j] - sx2 + (count * cyy[j] - sy2)) + c2);
      const v = num / den;
      total += v;
      if (map !== null) map[mapAt + j] = v;
    }
    return total;
  }
}
