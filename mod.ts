/**
 * LPIPS, the learned perceptual image patch similarity of Zhang et al., "The Unreasonable
 * Effectiveness of Deep Features as a Perceptual Metric" (CVPR 2018), with the numbers of the
 * paper's reference implementation. This entry point holds what most users need: the metric
 * ({@link LPIPS}), image loading ({@link loadImage}), the paper's baselines ({@link l2},
 * {@link ssim}, {@link dssim}, {@link psnr}, {@link flip}, {@link msssim}, {@link gmsd},
 * {@link fsim} and {@link fsimc}), every metric by name ({@link findMetric}, {@link measure}),
 * the BAPPS data set ({@link listTwoAFC},
 * {@link twoAFCBatches}, {@link downloadBapps}) and its evaluation ({@link evaluate}). The rest
 * lives on sub-entries:
 *
 * - `@perceptual/lpips/lpips`: trunk descriptions, TF.js backends, tiling, the `.pth` reader
 *   and writer, the heatmap;
 * - `@perceptual/lpips/train`: calibration training of the linear heads;
 * - `@perceptual/lpips/baselines`: the colour conversions and `tensor2im` behind the baselines,
 *   FLIP's viewing conditions and its image form;
 * - `@perceptual/lpips/bappsloader`: resizing, `.npy` files, the BAPPS conversions, decoders;
 * - `@perceptual/lpips/metrics`: the metric contract and registry (each metric's description);
 * - `@perceptual/lpips/eval`: bootstrap intervals, per-item CSV files, shards, sorting helpers;
 * - `@perceptual/lpips/notebook`: displays for Jupyter notebooks;
 * - `@perceptual/lpips/cli`: the `lpips` command line.
 *
 * Images are files (paths or `file:` URLs) or NCHW float32 batches in [-1, 1],
 * `{ data: Float32Array, shape: [n, 3, h, w] }` (or one grey channel) or a TF.js `Tensor4D`, as
 * {@link loadImage} returns them.
 *
 * @example Which patch is closer to the reference?
 * ```ts
 * import { LPIPS } from "@perceptual/lpips";
 *
 * const m = await LPIPS.create({ net: "alex" }); // the weights are downloaded once, then cached
 * const [d0] = await m.distance("ex_ref.png", "ex_p0.png");
 * const [d1] = await m.distance("ex_ref.png", "ex_p1.png");
 * console.log(d0, d1); // 0.7219 0.1376: ex_p1 is closer
 * m.dispose();
 * ```
 *
 * @module
 */
// `deno doc` lists symbols by kind (functions, constants, classes, interfaces, types), then by
// name, whatever the order here: the module doc above is what opens the page, with LPIPS.
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
} from "./lpips/lpips.ts";
export { InputError } from "./lpips/validate.ts";
export {
  ENGINE_NAMES,
  type EngineKind,
  type EngineName,
  type Version,
  VERSIONS,
} from "./lpips/engine.ts";
export { NET_NAMES, type NetName } from "./lpips/arch.ts";
export { BACKEND_NAMES, type BackendName } from "./lpips/backend.ts";
export type { OnnxDevice } from "./lpips/onnx_engine.ts";
export type { Tensor, Tensor4D } from "./lpips/tensor_types.ts";
export { linFileName, trunkFileName } from "./lpips/weight_files.ts";
export { WeightsError } from "./lpips/weights.ts";
// Images.
export {
  decodeImage,
  im2tensor,
  ImageDecodeError,
  type ImageFile,
  type ImageSource,
  type ImageTensor,
  loadImage,
  readImage,
  type RGBImage,
  stack,
} from "./bappsloader/image.ts";
// The paper's baselines.
export { type Colorspace, COLORSPACES, l2, type L2Options } from "./baselines/l2.ts";
export {
  dssim,
  ssim,
  ssimMap,
  type SsimOptions,
  type SsimPreset,
  type SsimResult,
} from "./baselines/ssim.ts";
export { psnr, type PsnrOptions } from "./baselines/psnr.ts";
export { flip, flipMap, type FlipOptions, type FlipResult } from "./baselines/flip.ts";
export { gmsd, gmsdMap } from "./baselines/gmsd.ts";
export { msssim } from "./baselines/msssim.ts";
export { fsim, fsimc } from "./baselines/fsim.ts";
export type { Quantize } from "./baselines/tensor2im.ts";
// Every metric behind one contract.
export {
  findMetric,
  findMetrics,
  measure,
  type Metric,
  type MetricInfo,
  METRICS,
  type MetricScores,
} from "./metrics/mod.ts";
// BAPPS on disk.
export {
  BAPPS_MODES,
  BappsLayoutError,
  type BappsList,
  type BappsMode,
  type JNDItem,
  listJND,
  listTwoAFC,
  type SubsetRange,
  type TwoAFCItem,
} from "./bappsloader/layout.ts";
export {
  type BatchOptions,
  type JNDBatch,
  jndBatches,
  type TwoAFCBatch,
  twoAFCBatches,
} from "./bappsloader/dataset.ts";
export {
  BAPPS_ARCHIVES,
  type BappsArchive,
  type BappsArchiveName,
  BappsDownloadError,
  type BappsDownloadOptions,
  type BappsDownloadResult,
  downloadBapps,
} from "./bappsloader/download.ts";
// Evaluation.
export {
  type DatasetResult,
  EVAL_MODELS,
  type EvalModel,
  type EvalProgress,
  evaluate,
  type EvaluateOptions,
  type EvaluateResult,
  JND_VAL_DATASETS,
  TWOAFC_VAL_DATASETS,
} from "./eval/runner.ts";
export { score2AFC } from "./eval/twoafc.ts";
export { jndMAP } from "./eval/jnd.ts";
export type { JNDItems, TwoAFCItems } from "./eval/score.ts";
