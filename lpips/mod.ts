/**
 * The LPIPS metric (`@perceptual/lpips/lpips`): the {@link LPIPS} class, which compares images
 * through a pretrained trunk (alex, squeeze or vgg) and learnt linear heads, the trunks'
 * descriptions, the TF.js backends, the weight-file names, the safe `.pth` reader and writer, and
 * the distance-map heatmap, and {@link DISTS} (Ding et al. 2020), which shares LPIPS-vgg's trunk
 * file. Calibration training is `@perceptual/lpips/train`.
 *
 * Weights are found in this order: an explicit path option, `weightsDir` /
 * `$LPIPS_WEIGHTS_DIR` (files under their official names, {@link trunkFileName} and
 * {@link linFileName}), the user cache (`$XDG_CACHE_HOME/lpips` or `~/.cache/lpips`), then a
 * download from the official URL, verified, into that cache.
 *
 * @example Distances and a distance map
 * ```ts
 * import { LPIPS } from "@perceptual/lpips/lpips";
 * import { loadImage } from "@perceptual/lpips/bappsloader";
 *
 * const m = await LPIPS.create({ net: "alex", version: "0.1" });
 * const ref = await loadImage("ex_ref.png"); // { data, shape: [1, 3, 64, 64] } in [-1, 1]
 * const d = await m.distance(ref, await loadImage("ex_p0.png")); // Float32Array [0.7219]
 * const r = await m.distance(ref, await loadImage("ex_p1.png"), { spatial: true, perLayer: true });
 * console.log(d[0], r.distance[0], r.map?.shape, r.layers?.length); // 0.7219 0.1376 [1, 1, 64, 64] 5
 * m.dispose();
 * ```
 *
 * @module
 */
export {
  type DistanceMap,
  type DistanceMask,
  type DistanceOptions,
  type DistanceResult,
  Features,
  LPIPS,
  type LPIPSInput,
  type LPIPSOptions,
  type Resized,
  type ResizeMode,
} from "./lpips.ts";
export {
  ENGINE_NAMES,
  type EngineKind,
  type EngineName,
  type Version,
  VERSIONS,
} from "./engine.ts";
export type { Tensor, Tensor4D } from "./tensor_types.ts";
export type { DistanceGradient } from "./distance_gradient.ts";
export type { OnnxDevice } from "./onnx_engine.ts";
export {
  type Arch,
  arch,
  type ConvLayer,
  type Layer,
  minInputSize,
  NET_NAMES,
  type NetName,
} from "./arch.ts";
export { BACKEND_NAMES, type BackendName, useBackend } from "./backend.ts";
export { InputError } from "./validate.ts";
export { heatmapPng } from "./heatmap.ts";
export { defaultTileSide, needsTiling, TILE_BUDGET_BYTES, TILE_THRESHOLD_BYTES } from "./tiled.ts";
export { linFileName, trunkFileName } from "./weight_files.ts";
export { WeightsError } from "./weights.ts";
export { DISTS, DISTS_RESIZE_SIDE, type DISTSOptions } from "./dists.ts";
export type { DistsWeightSource } from "./weight_files.ts";
export {
  MAX_PTH_BYTES,
  type PthData,
  type PthDType,
  PthError,
  type PthTensor,
  readPth,
  readPthFile,
  toFloat32,
  writePth,
} from "./pth/pth.ts";
