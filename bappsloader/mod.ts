/**
 * Images and BAPPS on disk (`@perceptual/lpips/bappsloader`): decoding image files into the NCHW
 * float tensors the metrics take ({@link loadImage}), the Pillow-exact `Resize(64)` of the
 * BAPPS loader, `.npy` files, the 2AFC and JND layout ({@link listTwoAFC}, {@link listJND}),
 * streaming batch loaders ({@link twoAFCBatches}, {@link jndBatches}) and the dataset download.
 * BAPPS (Berkeley-Adobe Perceptual Patch Similarity) is the paper's data set of human judgements:
 * 2AFC triplets (which of two distorted patches is closer to a reference) and JND pairs (are two
 * patches the same).
 *
 * @example Stream a 2AFC subset in batches
 * ```ts
 * import { listTwoAFC, twoAFCBatches } from "@perceptual/lpips/bappsloader";
 *
 * // "dataset" holds 2afc/ and jnd/ (`deno task lpips download --root dataset`).
 * const list = await listTwoAFC("dataset", "val/traditional");
 * for await (const b of twoAFCBatches(list, { batchSize: 50 })) {
 *   console.log(b.start, b.ref.shape, b.judge.length); // 0 [50, 3, 64, 64] 50, then 50, 100 ...
 * }
 * ```
 *
 * @module
 */
// Everything in image.ts is API: decoding, loading and converting images.
export * from "./image.ts";
export {
  resizeBicubic,
  resizeBicubicPlanes,
  resizeBilinear,
  resizedSize,
  resizeShorterSide,
} from "./resize.ts";
export {
  type NpyArray,
  type NpyData,
  type NpyDtype,
  NpyError,
  npyScalar,
  npyToFloat64,
  parseNpy,
  readNpy,
  saveNpy,
  writeNpy,
  type WriteNpyOptions,
} from "./npy.ts";
export {
  BAPPS_MODES,
  BappsLayoutError,
  type BappsList,
  type BappsMode,
  distinctSubsets,
  type JNDItem,
  listJND,
  listTwoAFC,
  normalizeSubset,
  type SubsetRange,
  type TwoAFCItem,
} from "./layout.ts";
export {
  type BatchOptions,
  type JNDBatch,
  jndBatches,
  loadDatasetImage,
  readJudgement,
  type TwoAFCBatch,
  twoAFCBatches,
} from "./dataset.ts";
export {
  BAPPS_ARCHIVES,
  BAPPS_BASE_URL,
  type BappsArchive,
  type BappsArchiveName,
  BappsDownloadError,
  type BappsDownloadOptions,
  type BappsDownloadResult,
  downloadBapps,
} from "./download.ts";
