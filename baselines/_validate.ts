/**
 * Input checks shared by the baseline metrics. Every message names the function and says what is
 * wrong, so a user mistake never surfaces as a NaN or an index error further down.
 *
 * @module
 */
import type { ImageTensor } from "../bappsloader/image.ts";

/** The colour spaces a baseline compares in (Lab is the reference's default). */
export const COLORSPACES = ["Lab", "RGB"] as const;

/** The colour space a baseline compares in. */
export type Colorspace = typeof COLORSPACES[number];

/** Checks one NCHW float32 tensor: its type, shape, length and (optionally) finiteness. */
export function checkTensor(fn: string, what: string, t: ImageTensor, finite = true): void {
  if (t === null || typeof t !== "object") {
    throw new TypeError(`${fn}: ${what} must be an ImageTensor { data, shape }, got ${t}`);
  }
  if (!(t.data instanceof Float32Array)) {
    const data: unknown = t.data;
    const got = data === null || typeof data !== "object" ? typeof data : data.constructor.name;
    throw new TypeError(`${fn}: ${what}.data must be a Float32Array, got ${got}`);
  }
  const shape = t.shape;
  if (!Array.isArray(shape) || shape.length !== 4) {
    throw new TypeError(
      `${fn}: ${what}.shape must be [n, 3, height, width], got ${JSON.stringify(shape)}`,
    );
  }
  const [n, c, h, w] = shape;
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`${fn}: ${what} has batch size ${n}, expected a whole number >= 0`);
  }
  for (const [name, v] of [["height", h], ["width", w]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`${fn}: ${what} has ${name} ${v}, expected a whole number >= 1`);
    }
  }
  if (c !== 3) {
    const nhwc = w === 3 ? "; it looks like NHWC: transpose it to NCHW" : "";
    throw new RangeError(
      `${fn}: ${what} has ${c} channels (shape [${shape}]); RGB tensors need 3${nhwc}`,
    );
  }
  const len = n * c * h * w;
  if (t.data.length !== len) {
    throw new RangeError(
      `${fn}: ${what} has ${t.data.length} values but shape [${shape}] needs ${len}`,
    );
  }
  if (finite) checkFinite(fn, what, t.data, shape);
}

/** Throws a RangeError naming the first NaN or infinite value and its NCHW position. */
export function checkFinite(
  fn: string,
  what: string,
  data: Float32Array | Float64Array,
  shape: readonly number[],
): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    // `v - v` is NaN exactly for NaN and +-Infinity; cheaper than Number.isFinite in a hot loop.
    if (v - v !== 0) {
      throw new RangeError(
        `${fn}: ${what} has ${v} at [${unravel(i, shape)}]; values must be finite`,
      );
    }
  }
}

/**
 * Checks that finite values lie in [-1, 1] (with float32 rounding slack), naming the range that was
 * probably passed instead. Data in [0, 1] cannot be told apart from dark [-1, 1] images and passes.
 */
export function checkUnitRange(fn: string, what: string, data: Float32Array): void {
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const slack = 1e-5;
  if (data.length === 0 || (min >= -1 - slack && max <= 1 + slack)) return;
  const guess = min >= 0 && max <= 255 && max > 1.5
    ? "; it looks like [0, 255]: use x / 127.5 - 1"
    : "";
  throw new RangeError(`${fn}: ${what} has values in [${min}, ${max}]; expected [-1, 1]${guess}`);
}

/** Checks two tensors (shape, finiteness, the [-1, 1] range) and that their shapes agree. */
export function checkPair(fn: string, a: ImageTensor, b: ImageTensor, finite = true): void {
  checkTensor(fn, "a", a, finite);
  checkTensor(fn, "b", b, finite);
  if (a.shape.some((v, i) => v !== b.shape[i])) {
    throw new RangeError(`${fn}: shapes differ: a is [${a.shape}], b is [${b.shape}]`);
  }
  if (finite) {
    checkUnitRange(fn, "a", a.data);
    checkUnitRange(fn, "b", b.data);
  }
}

function unravel(index: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = index % shape[d];
    index = Math.floor(index / shape[d]);
  }
  return out;
}

/** Validates a `colorspace` option (undefined means `"Lab"`, the reference's default). */
export function checkColorspace(fn: string, cs: unknown): Colorspace {
  if (cs === undefined) return "Lab";
  if (COLORSPACES.includes(cs as Colorspace)) return cs as Colorspace;
  throw new RangeError(`${fn}: colorspace must be "RGB" or "Lab", got ${JSON.stringify(cs)}`);
}
