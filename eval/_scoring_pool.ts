/**
 * The evaluation's scoring pool: Web Workers that each build the run's model and read, decode and
 * score whole batches (`_scoring_worker.ts`), so that every core does the same work and none waits
 * on another. Results come back in list order whatever worker finishes first.
 *
 * @module
 */
import type { JNDItem, TwoAFCItem } from "../bappsloader/layout.ts";
import { WorkerPool } from "../bappsloader/worker_pool.ts";
import type { ScorerSpec } from "./_batch_scorer.ts";

/**
 * What a scoring worker is asked: build the model, or score one batch (its answer: 2AFC
 * `[d0, d1, judge]`, JND `[d, same]`).
 */
export type ScoringRequest =
  | { type: "open"; spec: ScorerSpec }
  | { type: "batch"; mode: "2afc" | "jnd"; items: TwoAFCItem[] | JNDItem[]; loadSize: number };

/** One scored batch: the index of its first item and its columns (see {@link ScoringRequest}). */
export interface ScoredBatch {
  start: number;
  values: Float32Array[];
}

/** A fixed set of scoring workers. */
export class ScoringPool {
  readonly #pool: WorkerPool<ScoringRequest, Float32Array[]>;

  private constructor(n: number) {
    const url = new URL("./_scoring_worker.ts", import.meta.url);
    this.#pool = new WorkerPool(url, n, "scoring worker");
  }

  /** Starts `n` workers and builds `spec`'s model in each (an error if any cannot). */
  static async open(n: number, spec: ScorerSpec): Promise<ScoringPool> {
    const pool = new ScoringPool(n);
    try {
      await Promise.all(
        Array.from({ length: n }, (_, i) => pool.#pool.call({ type: "open", spec }, i)),
      );
      return pool;
    } catch (e) {
      pool.close();
      throw e;
    }
  }

  /**
   * Scores `items` in batches of `batchSize`, at most two batches per worker at a time (one
   * running, one waiting), and yields them in order.
   */
  async *batches(
    mode: "2afc" | "jnd",
    items: readonly TwoAFCItem[] | readonly JNDItem[],
    batchSize: number,
    loadSize = 64,
  ): AsyncGenerator<ScoredBatch> {
    const starts: number[] = [];
    for (let s = 0; s < items.length; s += batchSize) starts.push(s);
    const send = (start: number) => {
      const chunk = items.slice(start, start + batchSize) as TwoAFCItem[] | JNDItem[];
      const p = this.#pool.call({ type: "batch", mode, items: chunk, loadSize });
      p.catch(() => {}); // handled when awaited
      return p;
    };
    const inFlight: Promise<Float32Array[]>[] = [];
    let next = 0;
    for (const start of starts) {
      while (next < starts.length && inFlight.length < 2 * this.#pool.size) {
        inFlight.push(send(starts[next++]));
      }
      yield { start, values: await inFlight.shift()! };
    }
  }

  /** Stops the workers; what is still pending is rejected. */
  close(): void {
    this.#pool.close();
  }
}
