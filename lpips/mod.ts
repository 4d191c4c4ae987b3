/**
 * The LPIPS metric: the `LPIPS` class, trunk descriptions, backends, weight files and the safe
 * .pth reader.
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
export { PthError, type PthTensor, readPth, toFloat32, writePth } from "./pth.ts";
export {
  loadCheckpoint,
  saveCheckpoint,
  train,
  TRAIN_MODES,
  Trainer,
  type TrainerOptions,
  TrainInterrupted,
  type TrainMode,
  type TrainOptions,
  type TrainProgress,
  type TrainSummary,
} from "./train.ts";
