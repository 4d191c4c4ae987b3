/**
 * LPIPS perceptual similarity (Zhang et al., CVPR 2018) for Deno, with the paper's L2 and SSIM
 * baselines and the BAPPS evaluation.
 *
 * @example
 * ```ts
 * import { loadImage, LPIPS } from "@perceptual/lpips";
 * const m = await LPIPS.create({ net: "alex" });
 * const d = await m.distance(await loadImage("ex_ref.png"), await loadImage("ex_p0.png"));
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
