/**
 * LPIPS perceptual similarity (Zhang et al., CVPR 2018) for Deno, with the paper's baselines and
 * the BAPPS evaluation.
 *
 * @module
 */
export * from "./bappsloader/mod.ts";
