/**
 * The paper's baselines: L2 and SSIM/DSSIM in RGB and Lab, PSNR, and the colour conversion and
 * `tensor2im` round trip they rest on, reproducing the reference LPIPS code's numbers
 * (docs/algorithm.md §5), plus the Gaussian SSIM in common use today.
 *
 * @example
 * ```ts
 * import { loadImage } from "../bappsloader/image.ts";
 * import { dssim, l2 } from "./mod.ts";
 * const ref = await loadImage("ex_ref.png"), p0 = await loadImage("ex_p0.png");
 * console.log(l2(ref, p0, { colorspace: "Lab" }), dssim(ref, p0, { colorspace: "RGB" }));
 * ```
 *
 * @module
 */
export { D65_WHITE, rgb2lab, srgbToLab, tensor2tensorlab, XYZ_FROM_RGB } from "./lab.ts";
export type { TensorLabOptions } from "./lab.ts";
export { tensor2im } from "./tensor2im.ts";
export type { Quantize, Tensor2imOptions, Uint8Tensor } from "./tensor2im.ts";
export { COLORSPACES, l2 } from "./l2.ts";
export type { Colorspace, L2Options } from "./l2.ts";
export { dssim, ssim, SSIM_PRESETS, ssimMap, structuralSimilarity } from "./ssim.ts";
export type {
  SsimOptions,
  SsimPreset,
  SsimResult,
  SsimWindowOptions,
  StructuralSimilarityOptions,
} from "./ssim.ts";
export { psnr } from "./psnr.ts";
export type { PsnrOptions } from "./psnr.ts";
