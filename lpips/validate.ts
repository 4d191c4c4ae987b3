/**
 * Input checks for the metric: shapes, channel counts, minimum size, value range and finiteness,
 * with messages that say what was probably passed instead.
 *
 * @module
 */

/** Thrown for inputs the metric cannot score; the message says what is wrong. */
export class InputError extends Error {
  /** Always `"InputError"`. */
  override name = "InputError";
}

/** Checks that two NCHW shapes match, have 3 channels and are at least `minSize` on each side. */
export function checkShapes(
  s0: readonly number[],
  s1: readonly number[],
  minSize: number,
  net: string,
): void {
  for (const [i, s] of [s0, s1].entries()) {
    if (s.length !== 4 || !s.every((d) => Number.isInteger(d) && d > 0)) {
      throw new InputError(`input ${i} has shape [${s}]; expected [N, 3, H, W]`);
    }
    if (s[1] !== 3) {
      throw new InputError(
        `input ${i} has ${s[1]} channels; expected 3 (RGB, NCHW layout${
          s[3] === 3 ? "; it looks like NHWC: transpose it to NCHW" : ""
        })`,
      );
    }
  }
  if (s0.some((d, k) => d !== s1[k])) {
    throw new InputError(`inputs differ in shape: [${s0}] vs [${s1}]`);
  }
  if (s0[2] < minSize || s0[3] < minSize) {
    throw new InputError(
      `images are ${s0[3]}x${s0[2]} (WxH); net "${net}" needs at least ${minSize} px on each side`,
    );
  }
}

/**
 * Checks that values are finite and in [-1, 1] (or [0, 1] with `normalize`), allowing float32
 * rounding slack, and names the range that was probably passed instead.
 */
export function checkRange(data: ArrayLike<number>, normalize: boolean, which: number): void {
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(v >= min)) {
      if (Number.isNaN(v)) throw new InputError(`input ${which} contains NaN (at index ${i})`);
      min = v;
    }
    if (v > max) max = v;
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    throw new InputError(`input ${which} contains infinite values`);
  }
  const [lo, hi] = normalize ? [0, 1] : [-1, 1];
  const slack = 1e-5;
  if (min >= lo - slack && max <= hi + slack) return;
  let guess = "";
  if (min >= 0 && max <= 255 && max > 1.5) {
    guess = normalize
      ? "; it looks like [0, 255]: divide by 255"
      : "; it looks like [0, 255]: use x / 127.5 - 1 (or x / 255 with normalize: true)";
  } else if (normalize && min >= -1 - slack && max <= 1 + slack) {
    guess = "; it looks like [-1, 1]: drop normalize";
  }
  throw new InputError(
    `input ${which} has values in [${min}, ${max}]; expected [${lo}, ${hi}]${guess}`,
  );
}
