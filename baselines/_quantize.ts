/**
 * The two ways a [-1, 1] value becomes a uint8 pixel, shared by tensor2im and the metrics.
 *
 * @module
 */

/**
 * How a [-1, 1] value becomes a uint8 pixel:
 * - `"truncate"`: the reference, `trunc(f32(f32(t + 1) * 127.5))`, clipped to 0..255;
 * - `"round"`: nearest integer of `(t + 1) * 127.5` (halves up), clipped to 0..255; this undoes
 *   both of the reference's uint8 -> tensor conversions exactly.
 */
export type Quantize = "truncate" | "round";

/** Validates a `quantize` option (undefined means `"truncate"`). */
export function checkQuantize(fn: string, q: unknown): Quantize {
  if (q === undefined || q === "truncate") return "truncate";
  if (q === "round") return "round";
  throw new RangeError(`${fn}: quantize must be "truncate" or "round", got ${JSON.stringify(q)}`);
}

/** Quantizes `count` values of `src` from `srcOff` into `dst` from `dstOff` (no checks). */
export function quantizeInto(
  src: Float32Array,
  srcOff: number,
  count: number,
  dst: Uint8Array,
  dstOff: number,
  quantize: Quantize,
): void {
  const f = Math.fround;
  if (quantize === "truncate") {
    for (let i = 0; i < count; i++) {
      const v = f(f(src[srcOff + i] + 1) * 127.5);
      dst[dstOff + i] = v >= 255 ? 255 : v > 0 ? v | 0 : 0;
    }
  } else {
    for (let i = 0; i < count; i++) {
      const v = Math.floor((src[srcOff + i] + 1) * 127.5 + 0.5);
      dst[dstOff + i] = v >= 255 ? 255 : v > 0 ? v : 0;
    }
  }
}
