/**
 * LPIPS, the learned perceptual image patch similarity of Zhang et al., "The Unreasonable
 * Effectiveness of Deep Features as a Perceptual Metric" (CVPR 2018), with the numbers of the
 * paper's reference implementation. This entry point re-exports the whole package:
 *
 * - `@perceptual/lpips/lpips`: the metric, {@link LPIPS} (trunks, engines, weights, `.pth` files);
 * - `@perceptual/lpips/train`: calibration training of the linear heads ({@link train});
 * - `@perceptual/lpips/baselines`: the paper's L2 and SSIM baselines in RGB and Lab, PSNR, and
 *   LDR-FLIP;
 * - `@perceptual/lpips/bappsloader`: image loading and the BAPPS data set on disk;
 * - `@perceptual/lpips/eval`: the 2AFC score, JND mAP and the BAPPS evaluation ({@link evaluate}).
 *
 * Inputs are NCHW float32 batches in [-1, 1], `{ data: Float32Array, shape: [n, 3, h, w] }` or a
 * TF.js `Tensor4D`, as {@link loadImage} returns them.
 *
 * @example Which patch is closer to the reference?
 * ```ts
 * import { loadImage, LPIPS } from "@perceptual/lpips";
 *
 * const m = await LPIPS.create({ net: "alex" }); // the weights are downloaded once, then cached
 * const ref = await loadImage("ex_ref.png");
 * const [d0] = await m.distance(ref, await loadImage("ex_p0.png"));
 * const [d1] = await m.distance(ref, await loadImage("ex_p1.png"));
 * console.log(d0, d1); // 0.7219 0.1376: ex_p1 is closer
 * m.dispose();
 * ```
 *
 * @module
 */
export * from "./lpips/mod.ts";
export * from "./lpips/train/mod.ts";
export * from "./baselines/mod.ts";
export * from "./bappsloader/mod.ts";
export * from "./eval/mod.ts";
