/**
 * The contract every metric of the package implements, so that the command line, the evaluation,
 * the notebook toolkit and the benchmarks treat LPIPS, the paper's baselines and the classical
 * metrics alike (docs/metrics.md).
 *
 * A metric is described by a {@linkcode MetricInfo} (its name, aliases, direction, range, input,
 * citation, and how its score becomes a distance) and built by its `create` into a
 * {@linkcode Metric}, which scores batches and is disposed when done. The classical metrics hold
 * nothing; LPIPS holds a model (weights, an engine), so `create` is asynchronous for all.
 *
 * **Score and distance.** `scores` gives each value as the metric's authors print it (SSIM, not
 * DSSIM; PSNR in dB; MS-SSIM, FSIM, FSIMc as similarities; GMSD, FLIP, L2, LPIPS as distances).
 * `info.toDistance` turns a score into the distance that rankings, 2AFC and JND use: finite where
 * the score is, >= 0, 0 for identical images, smaller for more similar images, and a monotone
 * function of the score, so rankings by it are rankings by the score in the metric's direction.
 *
 * @module
 */
import type { ImageFile, ImageTensor, RGBImage } from "../bappsloader/image.ts";
import type { Colorspace } from "../baselines/l2.ts";
import type { LPIPSOptions } from "../lpips/lpips.ts";

/** What a metric is computed on. */
export type MetricInput = "RGB" | "luma" | "Lab|RGB";

/** One image (or a batch) in any form a metric accepts: a file, a decoded image, a tensor. */
export type MetricImage = ImageFile | RGBImage | ImageTensor;

/** The description of a metric: everything but the computation. */
export interface MetricInfo {
  /** The canonical name, lower case: `lpips`, `msssim`, ... (what `--metric` prints back). */
  readonly name: string;
  /** Other accepted spellings, lower case (pyiqa's `ms_ssim`, ...). */
  readonly aliases: readonly string[];
  /** The name as papers print it: `MS-SSIM`, `FSIMc`. */
  readonly title: string;
  /** Whether a lower score means more similar images. */
  readonly lowerIsBetter: boolean;
  /** The range of the score, `[low, high]` (`Infinity` for unbounded). */
  readonly range: readonly [number, number];
  /** What the metric is computed on. */
  readonly input: MetricInput;
  /** The paper to cite. */
  readonly citation: string;
  /** Whether the metric has a per-pixel map ({@linkcode Metric.map}). */
  readonly hasMap: boolean;
  /** The smallest image side the metric accepts, in pixels. */
  readonly minSize: number;
  /** The score -> distance transform, in words (`1 - score`), for listings and docs. */
  readonly distanceRule: string;
  /** The score -> distance transform (see the module notes). */
  toDistance(score: number): number;
  /** Builds the metric. */
  create(options?: MetricOptions): Promise<Metric>;
}

/** Options of {@linkcode MetricInfo.create}; each metric reads the ones that apply to it. */
export interface MetricOptions {
  /** l2, ssim: the colour space (default `Lab`, the reference's). */
  colorspace?: Colorspace;
  /** flip: pixels per degree (default FLIP's 67.02). */
  ppd?: number;
  /**
   * Metrics that load weight files: the folder that holds them under their official names (else
   * `$LPIPS_WEIGHTS_DIR`, the cache, a download, as `LPIPS.create`).
   */
  weightsDir?: string;
  /** Metrics on a pretrained trunk: an explicit trunk weight file. */
  trunkPath?: string;
  /** Metrics that load weight files: no download progress bar. */
  quiet?: boolean;
  /** Metrics on ONNX Runtime (LPIPS, DISTS): its intra-op threads (default: all cores). */
  threads?: number;
  /** lpips: the model's options (net, version, calibration, engine...); they win over the above. */
  lpips?: LPIPSOptions;
}

/** A per-pixel map of one image pair. */
export interface MetricMap {
  /** `width * height` values, row by row. */
  data: Float32Array;
  /** Map width (may be smaller than the image: GMSD's is half). */
  width: number;
  /** Map height. */
  height: number;
  /** `distance`: 0 where the images agree (LPIPS, FLIP); `similarity`: 1 where they agree. */
  kind: "distance" | "similarity";
  /** What the map shows, for a caption: `LDR-FLIP error`. */
  label: string;
}

/** A built metric: scores image pairs, and is disposed when done. */
export interface Metric {
  /** The metric's description. */
  readonly info: MetricInfo;
  /** A short description of the options in use (`Lab`, `alex, v0.1`), or `""`. */
  readonly setting: string;
  /**
   * The score of every pair of two NCHW batches in [-1, 1] of one shape, as the metric's authors
   * print it.
   */
  scores(a: ImageTensor, b: ImageTensor): Promise<Float64Array>;
  /** The map of the first pair (metrics with `info.hasMap` only). */
  map?(a: ImageTensor, b: ImageTensor): Promise<MetricMap>;
  /** Frees what the metric holds (LPIPS's model); the classical metrics hold nothing. */
  dispose(): void;
}
