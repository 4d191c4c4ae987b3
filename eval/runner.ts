/**
 * The evaluation runner behind `deno task lpips eval`: the reference's `test_dataset_model.py`
 * (docs/algorithm.md §4.3). Every dataset (e.g. `val/traditional`) is listed, streamed in batches, scored
 * and bootstrapped on its own, as the reference builds one loader per dataset.
 *
 * Models, as the reference's `--model`:
 * - `lpips`: the calibrated LPIPS of `net`/`version`, heads from `modelPath` if given (the
 *   reference's `--model_path`, a `.pth` holding `lin{k}.model.1.weight`).
 * - `baseline`: LPIPS with `lpips: false` (sum over channels, no heads). **Version**: the
 *   reference's `Trainer` builds it as `LPIPS(lpips=False, net=...)`, i.e. always version 0.1,
 *   whatever `--version` says. Here `version` is honoured, as `LPIPS.create` and `compare
 *   --uncalibrated` honour it; the default (0.1) is the reference's model, and that is what
 *   `bapps-mini`'s `baseline_alex_v0.1` scores were made with. Pass `version: "0.0"` only to get
 *   the unscaled variant on purpose.
 * - `l2`, `ssim`: the paper's baselines in `colorspace` (default Lab); `ssim` is the DSSIM
 *   `(1 - SSIM) / 2` the reference ranks by. The reference forces batch size 1 for them; their
 *   distances are per image here, so the batch size only changes how many images are in memory.
 * - any other metric of the registry (`psnr`, `msssim`, `fsim`, `fsimc`, `gmsd`, `flip`, by
 *   name or alias): ranked by its distance (`MetricInfo.toDistance`: `1 - score` for the bounded
 *   similarities, `10^(-PSNR / 10)` for PSNR, the score itself for distances), so the 2AFC score
 *   and JND mAP follow the metric's direction (docs/metrics.md). MS-SSIM needs 176 px a side:
 *   on BAPPS's 64x64 patches it fails with its own one-line error.
 *
 * For 2AFC with LPIPS the reference image's features are computed once per batch and compared
 * with both `p0` and `p1` (the reference runs the trunk on `ref` twice; the numbers are the same).
 *
 * @module
 */
import type { BackendName } from "../lpips/backend.ts";
import type { NetName } from "../lpips/arch.ts";
import { type EngineName, LPIPS, type Version } from "../lpips/lpips.ts";
import {
  BAPPS_MODES,
  type BappsList,
  type BappsMode,
  distinctSubsets,
  type JNDItem,
  listJND,
  listTwoAFC,
  type TwoAFCItem,
} from "../bappsloader/layout.ts";
import {
  defaultDecodeWorkers,
  inferenceThreads,
  jndBatches,
  twoAFCBatches,
} from "../bappsloader/dataset.ts";
import { type Colorspace, COLORSPACES } from "../baselines/l2.ts";
import type { Metric } from "../metrics/contract.ts";
import { findMetric, METRIC_NAMES } from "../metrics/registry.ts";
import { type BatchScorer, lpipsScorer, metricScorer, type ScorerSpec } from "./_batch_scorer.ts";
import { type ScoredBatch, ScoringPool } from "./_scoring_pool.ts";
import { type JNDItems, scoreDataset, type TwoAFCItems } from "./score.ts";
import { fileListHash, shardRange, type ShardSpec } from "./shard.ts";

/**
 * The models `evaluate` scores: the reference's `--model` choices (`lpips`, `baseline`, `l2`,
 * `ssim`) and every other metric of the registry, by canonical name.
 */
export const EVAL_MODELS: readonly string[] = Object.freeze([
  "lpips",
  "baseline",
  ...METRIC_NAMES.filter((n) => n !== "lpips"),
]);

/**
 * A model `evaluate` scores: one of {@linkcode EVAL_MODELS}, or an alias of a metric (`ms_ssim`);
 * results name it by its canonical name.
 */
export type EvalModel = string;

/** The six 2AFC validation sets, the reference's default `--datasets`. */
export const TWOAFC_VAL_DATASETS: readonly string[] = Object.freeze([
  "val/traditional",
  "val/cnn",
  "val/superres",
  "val/deblur",
  "val/color",
  "val/frameinterp",
]);

/** The two JND validation sets. */
export const JND_VAL_DATASETS: readonly string[] = Object.freeze(["val/traditional", "val/cnn"]);

/** Progress of one dataset, reported after every batch. */
export interface EvalProgress {
  /** The dataset being scored, e.g. `val/traditional`. */
  dataset: string;
  /** Items (triplets or pairs) scored so far in this dataset. */
  done: number;
  /** Items of this dataset (of this shard, when sharded). */
  total: number;
  /** Items scored so far in all datasets, and their number. */
  allDone: number;
  /** Items of all datasets. */
  allTotal: number;
}

/** Options of {@link evaluate}. Defaults follow the reference's `test_dataset_model.py`. */
export interface EvaluateOptions {
  /** The folder that holds `2afc/` and `jnd/` (the reference's `--dataroot`). */
  root: string;
  /** `2afc` (default) or `jnd`. */
  mode?: BappsMode;
  /**
   * Subsets, each evaluated separately (default: the six 2AFC val sets, or `val/traditional`
   * and `val/cnn` for JND).
   */
  datasets?: readonly string[];
  /** Default `lpips`. */
  model?: EvalModel;
  /** lpips/baseline: trunk (default alex). */
  net?: NetName | "vgg16";
  /** lpips/baseline: "0.1" (default) or "0.0" (see the module notes on `baseline`). */
  version?: Version;
  /** l2/ssim: default Lab. */
  colorspace?: Colorspace;
  /** Items per batch (default 50). */
  batchSize?: number;
  /** lpips: an explicit linear-head file (the reference's `--model_path`). */
  modelPath?: string;
  /** An explicit trunk weight file. */
  trunkPath?: string;
  /** lpips/baseline: folder of the weight files (else `$LPIPS_WEIGHTS_DIR`, see `LPIPS.create`). */
  weightsDir?: string;
  /** lpips/baseline: the engine (default "auto": ONNX Runtime when it loads, else TF.js). */
  engine?: EngineName;
  /** lpips/baseline: the TF.js backend (default "wasm"). */
  backend?: BackendName;
  /** No weight-download progress bar. */
  quiet?: boolean;
  /**
   * lpips/baseline: an already created model to use instead of building one (it is not
   * disposed). Its net, version and calibration then define the model.
   */
  metric?: LPIPS;
  /** Bootstrap resamples for `ci95` (default 1000; 0: no interval). */
  bootstrap?: number;
  /** Bootstrap seed (default 0). */
  seed?: number;
  /**
   * Web Workers that read, decode and score whole batches side by side, each with its own copy
   * of the model (default: one per logical core, at most 8, or none for datasets of at most two
   * batches; 0: all on this thread). With a given `metric`, or LPIPS on the TF.js engine, they
   * decode images only, and this thread scores (default: half the cores).
   */
  workers?: number;
  /**
   * ONNX Runtime intra-op threads of each model (default: the cores shared out among the scoring
   * workers, at least one; without them, the cores the decode workers leave).
   */
  threads?: number;
  /** Called after every batch. */
  onProgress?: (p: EvalProgress) => void;
  /**
   * Compute only this shard's items of every dataset (contiguous blocks of whole batches); scores
   * and intervals then cover those items only, and every result records where its items sit in
   * the whole dataset.
   */
  shard?: ShardSpec;
}

export type { JNDItems, TwoAFCItems } from "./score.ts";

/** The result of one dataset. */
export interface DatasetResult {
  /** The dataset, its name in canonical form (`val//traditional/` gives `val/traditional`). */
  dataset: string;
  /** 2AFC score or JND mAP, a fraction in [0, 1]. */
  score: number;
  /** Items scored. */
  n: number;
  /** Index of the first scored item in the whole dataset (0 unless sharded). */
  start: number;
  /** Items in the whole dataset (`n` unless sharded). */
  total: number;
  /** SHA-256 of the dataset's file list, relative to the root (shards of one run share it). */
  listHash: string;
  /** Bootstrap 95% percentile interval `[low, high]`, or null with `bootstrap: 0`. */
  ci95: [number, number] | null;
  /** Wall-clock seconds for this dataset (loading and distances). */
  seconds: number;
  /** Per-item values: 2AFC `TwoAFCItems`, JND `JNDItems`. */
  items: TwoAFCItems | JNDItems;
}

/** What {@link evaluate} returns. */
export interface EvaluateResult {
  /** `2afc` or `jnd`. */
  mode: BappsMode;
  /** The model scored. */
  model: EvalModel;
  /** lpips/baseline only (else null). */
  net: NetName | null;
  /** lpips/baseline only (else null). */
  version: Version | null;
  /** l2/ssim only (else null). */
  colorspace: Colorspace | null;
  /** Items per batch. */
  batchSize: number;
  /** Resamples and seed of the intervals. */
  bootstrap: { resamples: number; seed: number };
  /** lpips/baseline: the engine that computed the distances (else null). */
  engine: "onnx" | "tfjs" | null;
  /** lpips/baseline on the tfjs engine: its TF.js backend (else null). */
  backend: BackendName | null;
  /** The shard computed, or null for all items. */
  shard: ShardSpec | null;
  /** One entry per dataset, in the order given. */
  results: DatasetResult[];
}

/**
 * Evaluates a model on BAPPS datasets: the 2AFC score or JND mAP of every dataset, a seeded
 * bootstrap interval, and the per-item distances.
 *
 * @example
 * ```ts
 * import { evaluate } from "@perceptual/lpips/eval";
 * // "dataset" holds 2afc/ and jnd/; ssim is the paper's SSIM baseline (ranked by DSSIM).
 * const r = await evaluate({ root: "dataset", mode: "jnd", datasets: ["val/cnn"], model: "ssim" });
 * for (const d of r.results) console.log(d.dataset, (100 * d.score).toFixed(2), d.ci95);
 * ```
 */
export async function evaluate(options: EvaluateOptions): Promise<EvaluateResult> {
  const mode = options.mode ?? "2afc";
  if (!BAPPS_MODES.includes(mode)) {
    throw new RangeError(`unknown dataset mode "${mode}" (expected 2afc or jnd)`);
  }
  const model = evalModel(options.model ?? "lpips");
  const given = options.datasets ?? (mode === "2afc" ? TWOAFC_VAL_DATASETS : JND_VAL_DATASETS);
  if (given.length === 0) throw new RangeError("no datasets given");
  // One folder, one name: `val//traditional` is `val/traditional`, and is not scored twice.
  const datasets = distinctSubsets(given);
  const batchSize = options.batchSize ?? 50;
  const resamples = options.bootstrap ?? 1000;
  const seed = options.seed ?? 0;
  for (
    const [name, v, min] of [["batchSize", batchSize, 1], ["bootstrap", resamples, 0]] as const
  ) {
    if (!Number.isInteger(v) || v < min) {
      throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
    }
  }
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const shard = options.shard ?? null;
  if (
    shard &&
    !(Number.isInteger(shard.count) && shard.count >= 1 && Number.isInteger(shard.index) &&
      shard.index >= 0 && shard.index < shard.count)
  ) {
    throw new RangeError(`shard must be K/N with 0 <= K < N, got ${shard.index}/${shard.count}`);
  }
  const deep = model === "lpips" || model === "baseline";
  if (!deep && (options.modelPath !== undefined || options.metric !== undefined)) {
    throw new RangeError(`a model path or LPIPS model does not apply to --model ${model}`);
  }
  if (model === "baseline" && options.modelPath !== undefined) {
    throw new RangeError("the baseline has no linear heads: a model path does not apply");
  }
  if (options.metric && options.metric.lpips !== (model === "lpips")) {
    throw new RangeError(
      `the given LPIPS model is ${options.metric.lpips ? "calibrated" : "uncalibrated"}, ` +
        `but the model is "${model}"`,
    );
  }
  const info = deep ? null : findMetric(model);
  const colorspace = model === "l2" || model === "ssim" ? options.colorspace ?? "Lab" : null;
  if (colorspace !== null && !COLORSPACES.includes(colorspace)) {
    throw new RangeError(`unknown colorspace "${colorspace}" (expected Lab or RGB)`);
  }

  // List every dataset first: a missing folder fails before any weights are loaded.
  const lists: (BappsList<TwoAFCItem> | BappsList<JNDItem>)[] = [];
  for (const ds of datasets) {
    lists.push(
      mode === "2afc" ? await listTwoAFC(options.root, ds) : await listJND(options.root, ds),
    );
  }

  const batches = Math.max(...lists.map((l) => Math.ceil(l.items.length / batchSize)));
  const cores = navigator.hardwareConcurrency ?? 1;
  // Scoring workers rebuild the model from the options: not for a given model (nor for TF.js,
  // below). Small datasets are scored here: starting workers would cost more than they save.
  const poolWorkers = options.metric
    ? 0
    : options.workers ?? (batches > 2 ? Math.min(cores, 8) : 0);
  const poolThreads = options.threads ?? Math.max(1, Math.floor(cores / Math.max(1, poolWorkers)));
  const decodeWorkers = options.workers ??
    defaultDecodeWorkers(Math.max(...lists.map((l) => l.items.length)), batchSize);
  let metric = options.metric;
  const owned = deep && !metric;
  const lpipsOptions = {
    net: options.net,
    version: options.version,
    lpips: model === "lpips",
    engine: options.engine,
    backend: options.backend,
    weightsDir: options.weightsDir,
    trunkPath: options.trunkPath,
    linPath: options.modelPath,
    quiet: options.quiet,
  };
  const metricOptions = {
    colorspace: colorspace ?? undefined,
    weightsDir: options.weightsDir,
    trunkPath: options.trunkPath,
    quiet: options.quiet,
  };
  let other: Metric | undefined;
  let pool: ScoringPool | undefined;
  try {
    // This thread's model first: it checks (or downloads) the weight files and settles the engine.
    if (owned) {
      metric = await LPIPS.create({
        ...lpipsOptions,
        threads: options.threads ?? inferenceThreads(decodeWorkers),
      });
    }
    other = info ? await info.create(metricOptions) : undefined;
    // LPIPS on TF.js stays on this thread, with decode workers: a wasm module per worker would
    // cost more than the workers save.
    const quietly = { quiet: true, threads: poolThreads };
    const spec: ScorerSpec | undefined = poolWorkers === 0 || (metric && metric.engine !== "onnx")
      ? undefined
      : metric
      ? { kind: "lpips", options: { ...lpipsOptions, ...quietly, engine: "onnx" } }
      : { kind: "metric", name: model, options: { ...metricOptions, ...quietly } };
    if (spec) pool = await ScoringPool.open(poolWorkers, spec);
    const scorer: BatchScorer = metric ? lpipsScorer(metric) : metricScorer(other!, info!);
    const batchOptions = { batchSize, workers: decodeWorkers };
    const boot = { resamples, seed };
    const results: DatasetResult[] = [];
    const ranges = lists.map((l) =>
      shard ? shardRange(l.items.length, batchSize, shard) : { start: 0, end: l.items.length }
    );
    const allTotal = ranges.reduce((s, r) => s + r.end - r.start, 0);
    let allBefore = 0;
    for (let k = 0; k < datasets.length; k++) {
      const dataset = datasets[k];
      const t0 = performance.now();
      const { start, end } = ranges[k];
      const total = end - start;
      const where = {
        start,
        total: lists[k].items.length,
        listHash: fileListHash(options.root, itemFiles(lists[k])),
      };
      const report = (done: number) =>
        options.onProgress?.({ dataset, done, total, allDone: allBefore + done, allTotal });
      report(0);
      let scored: TwoAFCItems | JNDItems;
      if (lists[k].mode === "2afc") {
        const items = (lists[k] as BappsList<TwoAFCItem>).items.slice(start, end);
        const columns = [0, 1, 2].map(() => new Float32Array(total));
        for await (const b of scoredTwoAFC(items, scorer, pool, batchOptions)) {
          b.values.forEach((v, c) => columns[c].set(v, b.start));
          report(b.start + b.values[0].length);
        }
        const [d0, d1, judge] = columns;
        scored = {
          d0,
          d1,
          judge,
          paths: items.map(({ ref, p0, p1, judge }) => ({ ref, p0, p1, judge })),
        };
      } else {
        const items = (lists[k] as BappsList<JNDItem>).items.slice(start, end);
        const columns = [0, 1].map(() => new Float32Array(total));
        for await (const b of scoredJND(items, scorer, pool, batchOptions)) {
          b.values.forEach((v, c) => columns[c].set(v, b.start));
          report(b.start + b.values[0].length);
        }
        const [d, same] = columns;
        scored = {
          d,
          same,
          paths: items.map(({ p0, p1, same }) => ({ p0, p1, same })),
        };
      }
      const { score, ci95 } = scoreDataset(scored, boot, {
        name: lists[k].subsets[0]?.dir ?? dataset,
        partial: shard !== null && shard.count > 1,
      });
      const seconds = (performance.now() - t0) / 1000;
      results.push({ dataset, score, n: total, ...where, ci95, seconds, items: scored });
      allBefore += total;
    }
    return {
      mode,
      model,
      net: metric ? metric.net : null,
      version: metric ? metric.version : null,
      colorspace,
      batchSize,
      bootstrap: { resamples, seed },
      engine: metric ? metric.engine : null,
      backend: metric && metric.engine === "tfjs" ? metric.backend : null,
      shard,
      results,
    };
  } finally {
    pool?.close();
    if (owned) metric?.dispose();
    other?.dispose();
  }
}

/** The canonical name of a model: `lpips`, `baseline`, or a registered metric's name. */
function evalModel(model: string): EvalModel {
  if (model === "lpips" || model === "baseline") return model;
  try {
    return findMetric(model).name;
  } catch {
    throw new RangeError(`unknown model "${model}" (expected ${EVAL_MODELS.join(", ")})`);
  }
}

/** Every item's files, in the list's order (what `fileListHash` hashes). */
function itemFiles(list: BappsList<TwoAFCItem> | BappsList<JNDItem>): string[][] {
  return list.mode === "2afc"
    ? (list as BappsList<TwoAFCItem>).items.map((it) => [it.ref, it.p0, it.p1, it.judge])
    : (list as BappsList<JNDItem>).items.map((it) => [it.p0, it.p1, it.same]);
}

/** Options of the loader when this thread scores. */
interface LoaderOptions {
  batchSize: number;
  workers: number;
}

/** A 2AFC list's batches scored in the pool, or loaded and scored here: `[d0, d1, judge]`. */
async function* scoredTwoAFC(
  items: TwoAFCItem[],
  scorer: BatchScorer,
  pool: ScoringPool | undefined,
  options: LoaderOptions,
): AsyncGenerator<ScoredBatch> {
  if (pool) return yield* pool.batches("2afc", items, options.batchSize);
  for await (const b of twoAFCBatches(items, options)) {
    yield { start: b.start, values: [...await scorer.twoAFC(b.ref, b.p0, b.p1), b.judge] };
  }
}

/** A JND list's batches scored in the pool, or loaded and scored here: `[d, same]`. */
async function* scoredJND(
  items: JNDItem[],
  scorer: BatchScorer,
  pool: ScoringPool | undefined,
  options: LoaderOptions,
): AsyncGenerator<ScoredBatch> {
  if (pool) return yield* pool.batches("jnd", items, options.batchSize);
  for await (const b of jndBatches(items, options)) {
    yield { start: b.start, values: [await scorer.pairs(b.p0, b.p1), b.same] };
  }
}
