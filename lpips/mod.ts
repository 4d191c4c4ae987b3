/**
 * The LPIPS metric: the `LPIPS` class, trunk descriptions, backends, weight files and the safe
 * .pth reader. Calibration training is `./train/mod.ts`.
 *
 * @module
 */
export * from "./lpips.ts";
export { type Arch, arch, minInputSize, NET_NAMES, type NetName } from "./arch.ts";
export { BACKEND_NAMES, type BackendName, useBackend } from "./backend.ts";
export { InputError } from "./validate.ts";
export { heatmapPng } from "./heatmap.ts";
export { defaultTileSide, needsTiling, TILE_BUDGET_BYTES, TILE_THRESHOLD_BYTES } from "./tiled.ts";
export {
  linFileName,
  resolveFile,
  type ResolveOptions,
  trunkFileName,
  userCacheDir,
  WeightsError,
} from "./weights.ts";
export { PthError, type PthTensor, readPth, toFloat32, writePth } from "./pth/pth.ts";
