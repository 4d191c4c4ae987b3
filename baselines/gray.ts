/**
 * The luma that MATLAB's `rgb2gray` computes from an 8-bit RGB image, the input of MS-SSIM and
 * GMSD in their authors' code (docs/algorithm.md §12.1).
 *
 * @module
 */
import type { RGBImage } from "../bappsloader/image.ts";
import { checkRgbImage } from "./_classic_input.ts";

/** An 8-bit single-channel image, row-major (`data.length === height * width`). */
export interface GrayImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** One grey level per pixel, row by row. */
  data: Uint8Array;
}

/**
 * MATLAB's luma weights: the first row of the inverse of the NTSC YIQ matrix, as `rgb2gray`
 * uses them (Octave's `rgb2gray` rounds them to six decimals, which moves 236 of the 2^24 colours
 * by one grey level).
 */
export const RGB2GRAY_WEIGHTS: readonly [number, number, number] = [
  0.298936021293775,
  0.587043074451121,
  0.114020904255103,
];

/**
 * MATLAB's `rgb2gray` of an 8-bit RGB image: `R*0.298936021293775 + G*0.587043074451121 +
 * B*0.114020904255103` in float64, rounded half away from zero to uint8.
 *
 * @example
 * ```ts
 * import { rgb2gray } from "@perceptual/lpips/baselines";
 * const img = { width: 2, height: 1, data: new Uint8Array([255, 0, 0, 0, 49, 138]) };
 * console.log(rgb2gray(img).data); // Uint8Array [76, 44]
 * ```
 */
export function rgb2gray(img: RGBImage): GrayImage {
  checkRgbImage("rgb2gray", "img", img);
  const n = img.width * img.height, src = img.data, out = new Uint8Array(n);
  const [wr, wg, wb] = RGB2GRAY_WEIGHTS;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    // Non-negative, at most 255.0000000000: floor(x + 0.5) is MATLAB's round to uint8.
    out[i] = Math.floor(wr * src[j] + wg * src[j + 1] + wb * src[j + 2] + 0.5);
  }
  return { width: img.width, height: img.height, data: out };
}

/** The float64 planes of `rgb2gray(img)` (MATLAB's `double(rgb2gray(img))`). */
export function grayPlane(img: RGBImage): Float64Array {
  return new Float64Array(rgb2gray(img).data);
}
