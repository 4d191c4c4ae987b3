/**
 * The checks of the display options that comparisons and rankings share.
 *
 * @module
 */
import type { ComparisonDisplayOptions } from "./comparison.ts";

/** Checked display options with their defaults (`size` defaults to `defaultSize`). */
export function displayOptions(
  fn: string,
  o: ComparisonDisplayOptions,
  defaultSize: number,
): Required<ComparisonDisplayOptions> {
  const size = o.size ?? defaultSize, alpha = o.alpha ?? 0.6, scale = o.scale ?? 0;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`${fn}: size must be a whole number of pixels >= 1, got ${size}`);
  }
  if (!(alpha >= 0 && alpha <= 1)) {
    throw new RangeError(`${fn}: alpha must be between 0 and 1, got ${alpha}`);
  }
  if (o.scale !== undefined && !(scale > 0 && Number.isFinite(scale))) {
    throw new RangeError(`${fn}: scale must be a positive number, got ${o.scale}`);
  }
  return { size, alpha, scale };
}
