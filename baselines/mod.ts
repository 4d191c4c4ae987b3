/**
 * The paper's baselines (`@perceptual/lpips/baselines`): L2 and SSIM/DSSIM in RGB and Lab, PSNR,
 * and the colour conversion and `tensor2im` round trip they rest on, reproducing the reference
 * LPIPS code's numbers (docs/algorithm.md §5), plus the Gaussian SSIM in common use today, and
 * LDR-FLIP as NVIDIA's FLIP tool computes it (§11). They take the same NCHW float32 batches in
 * [-1, 1] as LPIPS, and return one value per image pair. GMSD, MS-SSIM, FSIM and FSIMc, as their
 * authors' MATLAB code computes them (§12), take two decoded 8-bit images (their `...Batch` forms
 * take the NCHW batches).
 *
 * @example The example patches under L2 (Lab) and DSSIM (RGB)
 * ```ts
 * import { loadImage } from "@perceptual/lpips/bappsloader";
 * import { dssim, l2 } from "@perceptual/lpips/baselines";
 * const ref = await loadImage("ex_ref.png"), p0 = await loadImage("ex_p0.png");
 * console.log(l2(ref, p0, { colorspace: "Lab" }), dssim(ref, p0, { colorspace: "RGB" }));
 * // Float32Array [0.004374...] Float32Array [0.261782...]
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
export { flip, FLIP_DEFAULT_PPD, flipImage, flipMap, flipPixelsPerDegree } from "./flip.ts";
export type { FlipImageResult, FlipOptions, FlipResult } from "./flip.ts";
export { rgb2gray, RGB2GRAY_WEIGHTS } from "./gray.ts";
export type { GrayImage } from "./gray.ts";
export { gmsd, GMSD_C, gmsdBatch, gmsdMap } from "./gmsd.ts";
export type { GmsdResult } from "./gmsd.ts";
export { msssim, MSSSIM_MIN_SIZE, MSSSIM_WEIGHTS, msssimBatch, msssimScales } from "./msssim.ts";
export type { MsssimResult } from "./msssim.ts";
export { featureSimilarity, fsim, fsimBatch, fsimc, fsimcBatch } from "./fsim.ts";
export type { FsimResult } from "./fsim.ts";
