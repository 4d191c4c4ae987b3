/**
 * Streaming BAPPS batches: the reference's `TwoAFCDataset` / `JNDDataset` through a serial
 * (unshuffled) `DataLoader` (docs/algorithm.md §3).
 *
 * Each image is decoded to RGB8 (alpha dropped), resized with torchvision's `Resize(64)` (Pillow
 * BILINEAR, bit-exact) and converted with `ToTensor` + `Normalize(0.5, 0.5)` to float32 in
 * [-1, 1]; judgements are read from their `.npy` files and rounded to float32, as the reference's
 * `torch.FloatTensor` does. Batches are produced by an async generator that reads the next batch
 * while the consumer works on the current one, so at most two batches are in memory.
 *
 * @example
 * ```ts
 * import { listTwoAFC, twoAFCBatches } from "./mod.ts";
 * const list = await listTwoAFC("dataset", "val/traditional");
 * for await (const b of twoAFCBatches(list, { batchSize: 50 })) {
 *   console.log(b.start, b.ref.shape, b.judge);
 * }
 * ```
 *
 * @module
 */
import { type ImageTensor, readImage, toTensorNormalize } from "./image.ts";
import type { BappsList, JNDItem, TwoAFCItem } from "./layout.ts";
import { NpyError, npyScalar, readNpy } from "./npy.ts";
import { resizeShorterSide } from "./resize.ts";
import { WorkerPool } from "./worker_pool.ts";

/** Options of the batch generators. */
export interface BatchOptions {
  /** Items per batch (the reference's `--batch_size`, default 50); the last batch may be smaller. */
  batchSize?: number;
  /** `Resize(loadSize)`: the shorter side of every image (default 64). */
  loadSize?: number;
  /**
   * Images read and decoded at once (default 8 on this thread; with workers, four batches' worth,
   * so that the workers stay busy while the consumer holds this thread).
   */
  concurrency?: number;
  /**
   * Decode and resize images in this many Web Workers, in parallel with the consumer (which, for
   * ONNX Runtime inference, holds this thread while it runs). Default: one per logical core but
   * one, or none for lists of at most two batches; 0: on this thread. The workers inherit the
   * permissions.
   */
  workers?: number;
  /** Read the next batch while the consumer works on this one (default true). */
  prefetch?: boolean;
}

/** A batch of 2AFC triplets. */
export interface TwoAFCBatch {
  /** Index (in the list) of the first item. */
  start: number;
  /** The batch's triplets (their files). */
  items: TwoAFCItem[];
  /** The reference patches, (N, 3, 64, 64) in [-1, 1] with the default `loadSize`. */
  ref: ImageTensor;
  /** The first distorted patches, same shape. */
  p0: ImageTensor;
  /** The second distorted patches, same shape. */
  p1: ImageTensor;
  /** Fraction preferring p1, rounded to float32. */
  judge: Float32Array;
}

/** A batch of JND pairs. */
export interface JNDBatch {
  /** Index (in the list) of the first item. */
  start: number;
  /** The batch's pairs (their files). */
  items: JNDItem[];
  /** The first patches, (N, 3, 64, 64) in [-1, 1] with the default `loadSize`. */
  p0: ImageTensor;
  /** The second patches, same shape. */
  p1: ImageTensor;
  /** Fraction saying "same", rounded to float32. */
  same: Float32Array;
}

/**
 * The decode workers used when none are asked for: half the logical cores (at least one), for
 * lists of more than two batches, leaving the other half to inference (the evaluation and training
 * runners give ONNX Runtime the cores the workers leave); 0 (this thread) for smaller lists, where
 * starting workers costs more than it saves.
 *
 * @example
 * ```ts
 * import { defaultDecodeWorkers } from "./dataset.ts";
 * console.log(defaultDecodeWorkers(3600, 50)); // 1 on a 2-core machine
 * ```
 */
export function defaultDecodeWorkers(items: number, batchSize: number): number {
  if (items <= 2 * batchSize) return 0;
  return Math.max(1, Math.floor((navigator.hardwareConcurrency ?? 1) / 2));
}

/**
 * The logical cores that `workers` decode workers leave to inference (at least one): the ONNX
 * Runtime threads the evaluation and training runners use by default.
 *
 * @example
 * ```ts
 * import { inferenceThreads } from "./dataset.ts";
 * console.log(inferenceThreads(1)); // 1 on a 2-core machine
 * ```
 */
export function inferenceThreads(workers: number): number {
  return Math.max(1, (navigator.hardwareConcurrency ?? 1) - workers);
}

/**
 * One dataset image as the reference's loader produces it: decode -> `Resize(loadSize)` ->
 * `ToTensor` -> `Normalize(0.5, 0.5)`, as a 1x3xHxW float32 tensor.
 *
 * @example
 * ```ts
 * import { loadDatasetImage } from "@perceptual/lpips/bappsloader";
 * const t = await loadDatasetImage("dataset/2afc/val/cnn/ref/000000.png"); // [1, 3, 64, 64]
 * ```
 */
export async function loadDatasetImage(path: string, loadSize = 64): Promise<ImageTensor> {
  return toTensorNormalize(resizeShorterSide(await readImage(path), loadSize));
}

/**
 * A judgement file's single value rounded to float32 (`np.load(p).reshape(1,1,1)` then
 * `torch.FloatTensor`): any numeric dtype, any one-element shape. The value is a fraction of
 * human judges: one that is not finite or lies outside [0, 1] is an {@link NpyError} naming the
 * file and the value.
 *
 * @example
 * ```ts
 * import { readJudgement } from "@perceptual/lpips/bappsloader";
 * console.log(await readJudgement("dataset/2afc/val/cnn/judge/000000.npy")); // e.g. 0.6000000238418579
 * ```
 */
export async function readJudgement(path: string): Promise<number> {
  const v = npyScalar(await readNpy(path), path);
  if (!Number.isFinite(v)) throw new NpyError(`${path}: judgement is not a finite number (${v})`);
  // A fraction of human judges: a value outside [0, 1] would score silently (a 2AFC score over
  // 100 %, a negative JND precision), and train a model on an impossible target.
  if (!(v >= 0 && v <= 1)) {
    throw new NpyError(`${path}: judgement ${v} is outside [0, 1] (a fraction of the judges)`);
  }
  return Math.fround(v);
}

/**
 * Streams 2AFC batches in list order, as the reference's serial `DataLoader` yields them: images
 * decoded and resized (in workers for large lists), the next batch read while you work on this one.
 *
 * @example
 * ```ts
 * import { listTwoAFC, twoAFCBatches } from "@perceptual/lpips/bappsloader";
 * for await (const b of twoAFCBatches(await listTwoAFC("dataset", "val/cnn"))) {
 *   console.log(b.items.length, b.p0.shape);
 * }
 * ```
 */
export function twoAFCBatches(
  list: BappsList<TwoAFCItem> | readonly TwoAFCItem[],
  options: BatchOptions = {},
): AsyncGenerator<TwoAFCBatch> {
  const items = Array.isArray(list) ? list : (list as BappsList<TwoAFCItem>).items;
  return batches(items, options, async (chunk, start, ctx) => {
    const [ref, p0, p1, judge] = await Promise.all([
      loadStack(chunk.map((it) => it.ref), ctx),
      loadStack(chunk.map((it) => it.p0), ctx),
      loadStack(chunk.map((it) => it.p1), ctx),
      loadJudgements(chunk.map((it) => it.judge), ctx.run),
    ]);
    return { start, items: chunk, ref, p0, p1, judge };
  });
}

/**
 * Streams JND batches in list order, as {@link twoAFCBatches} does 2AFC ones.
 *
 * @example
 * ```ts
 * import { jndBatches, listJND } from "@perceptual/lpips/bappsloader";
 * for await (const b of jndBatches(await listJND("dataset", "val/cnn"), { batchSize: 25 })) {
 *   console.log(b.same);
 * }
 * ```
 */
export function jndBatches(
  list: BappsList<JNDItem> | readonly JNDItem[],
  options: BatchOptions = {},
): AsyncGenerator<JNDBatch> {
  const items = Array.isArray(list) ? list : (list as BappsList<JNDItem>).items;
  return batches(items, options, async (chunk, start, ctx) => {
    const [p0, p1, same] = await Promise.all([
      loadStack(chunk.map((it) => it.p0), ctx),
      loadStack(chunk.map((it) => it.p1), ctx),
      loadJudgements(chunk.map((it) => it.same), ctx.run),
    ]);
    return { start, items: chunk, p0, p1, same };
  });
}

// ---------------------------------------------------------------------------------------------

type Run = <T>(task: () => Promise<T>) => Promise<T>;

/** A limiter: at most `n` tasks in flight. */
function limiter(n: number): Run {
  let active = 0;
  const queue: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    // A finishing task hands its slot straight to the next waiter, so `active` never exceeds n.
    if (active >= n) await new Promise<void>((resolve) => queue.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      const next = queue.shift();
      if (next) next();
      else active--;
    }
  };
}

interface LoadContext {
  run: Run;
  image: (path: string) => Promise<ImageTensor>;
}

async function* batches<I, B>(
  items: readonly I[],
  options: BatchOptions,
  load: (chunk: I[], start: number, ctx: LoadContext) => Promise<B>,
): AsyncGenerator<B> {
  const batchSize = options.batchSize ?? 50;
  const workers = options.workers ?? defaultDecodeWorkers(items.length, batchSize);
  const concurrency = options.concurrency ?? (workers > 0 ? Math.max(8, 4 * batchSize) : 8);
  const loadSize = options.loadSize ?? 64;
  for (
    const [name, v, min] of [
      ["batchSize", batchSize, 1],
      ["concurrency", concurrency, 1],
      ["workers", workers, 0],
      ["loadSize", loadSize, 1],
    ] as const
  ) {
    if (!Number.isInteger(v) || v < min) {
      throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
    }
  }
  const prefetch = options.prefetch ?? true;
  const url = new URL("./_decode_worker.ts", import.meta.url);
  const pool = workers > 0
    ? new WorkerPool<{ path: string; loadSize: number }, ImageTensor>(url, workers, "decode worker")
    : undefined;
  const ctx: LoadContext = {
    run: limiter(concurrency),
    image: pool
      ? (path) => pool.call({ path, loadSize })
      : (path) => loadDatasetImage(path, loadSize),
  };
  const starts: number[] = [];
  for (let s = 0; s < items.length; s += batchSize) starts.push(s);
  const start = (k: number) => {
    const p = load(items.slice(starts[k], starts[k] + batchSize), starts[k], ctx);
    p.catch(() => {}); // handled when awaited; avoids an unhandled rejection if never awaited
    return p;
  };
  try {
    let pending = starts.length > 0 ? start(0) : undefined;
    for (let k = 0; k < starts.length; k++) {
      const batch = await pending!;
      const more = k + 1 < starts.length;
      pending = prefetch && more ? start(k + 1) : undefined;
      yield batch;
      if (!prefetch && more) pending = start(k + 1);
    }
  } finally {
    pool?.close();
  }
}

/** Loads images into one N x 3 x H x W tensor. */
async function loadStack(paths: string[], ctx: LoadContext): Promise<ImageTensor> {
  const tensors = await Promise.all(paths.map((p) => ctx.run(() => ctx.image(p))));
  const [, c, h, w] = tensors[0].shape;
  const per = c * h * w;
  const data = new Float32Array(per * tensors.length);
  tensors.forEach((t, i) => {
    if (t.shape[2] !== h || t.shape[3] !== w) {
      throw new RangeError(
        `${paths[i]}: resized to ${t.shape[3]}x${t.shape[2]}, but ${paths[0]} to ${w}x${h}; ` +
          `images of one batch must have the same size (use batchSize 1)`,
      );
    }
    data.set(t.data, i * per);
  });
  return { data, shape: [tensors.length, c, h, w] };
}

async function loadJudgements(paths: string[], run: Run): Promise<Float32Array> {
  const values = await Promise.all(paths.map((p) => run(() => readJudgement(p))));
  return Float32Array.from(values);
}
