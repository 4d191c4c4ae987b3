/**
 * Rendering a distance map as a colour PNG (viridis, 0 to the map's maximum), the picture the
 * reference's `test_network.py` shows with matplotlib's default colour map.
 *
 * @module
 */
import { encode } from "fast-png";

/** Viridis at nine evenly spaced points; colours between are interpolated linearly. */
const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/** The viridis colour of `t` in [0, 1] (clamped). */
export function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [VIRIDIS[i], VIRIDIS[i + 1]];
  return [0, 1, 2].map((c) => Math.round(a[c] + f * (b[c] - a[c]))) as [number, number, number];
}

/**
 * Encodes an H x W map (one image's spatial LPIPS map, say) as a viridis-coloured RGB PNG, scaled
 * from 0 (or the minimum, if negative) to `max` (default: the map's maximum).
 *
 * @example
 * ```ts
 * import { heatmapPng } from "@perceptual/lpips/lpips";
 * const png = heatmapPng(new Float32Array([0, 0.5, 1, 0.25]), 2, 2); // PNG file bytes
 * await Deno.writeFile("heatmap.png", png);
 * ```
 */
export function heatmapPng(
  map: ArrayLike<number>,
  width: number,
  height: number,
  max?: number,
): Uint8Array {
  if (map.length !== width * height) {
    throw new RangeError(`heatmap: ${map.length} values for a ${width}x${height} image`);
  }
  let lo = 0, hi = -Infinity;
  for (let i = 0; i < map.length; i++) {
    lo = Math.min(lo, map[i]);
    hi = Math.max(hi, map[i]);
  }
  const top = max ?? hi;
  const span = top > lo ? top - lo : 1;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < map.length; i++) rgb.set(viridis((map[i] - lo) / span), 3 * i);
  return encode({ width, height, data: rgb, channels: 3, depth: 8 });
}
