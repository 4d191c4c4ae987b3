/**
 * The evaluation's scoring pool: Web Workers that each build the run's model and read, decode and
 * score whole batches (`_scoring_worker.ts`), so that every core does the same work and none waits
 * on another. Results come back in list order whatever worker finishes first.
 *
 * @module
 */
import type { JNDItem, TwoAFCItem } from "../bappsloader/layout.ts";
import { type PostedError, rebuiltError } from "../bappsloader/worker_error.ts";
import type { ScorerSpec } from "./_batch_scorer.ts";

/** What a scoring worker is asked: build the model, or score one batch. */
type Task =
  | { type: "open"; spec: ScorerSpec }
  | { type: "batch"; mode: "2afc" | "jnd"; items: TwoAFCItem[] | JNDItem[]; loadSize: number };

/** A message to a scoring worker: a task and the id its reply carries. */
export type ScoringRequest = Task & { id: number };

/** A scoring worker's answer: 2AFC `[d0, d1, judge]`, JND `[d, same]`, or the error. */
export interface ScoringReply {
  id: number;
  values?: Float32Array[];
  error?: PostedError;
}

/** One scored batch: the index of its first item and its columns (see {@link ScoringReply}). */
export interface ScoredBatch {
  start: number;
  values: Float32Array[];
}

/** A fixed set of scoring workers. */
export class ScoringPool {
  readonly #workers: Worker[] = [];
  readonly #pending = new Map<number, {
    worker: number;
    resolve: (values: Float32Array[]) => void;
    reject: (e: Error) => void;
  }>();
  readonly #busy: number[] = [];
  #nextId = 0;

  private constructor(n: number) {
    const url = new URL("./_scoring_worker.ts", import.meta.url).href;
    for (let i = 0; i < n; i++) {
      const w = new Worker(url, { type: "module" });
      w.onmessage = (e: MessageEvent<ScoringReply>) => this.#reply(e.data);
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#failWorker(i, new Error(`scoring worker failed: ${e.message}`));
      };
      this.#workers.push(w);
      this.#busy.push(0);
    }
  }

  /** Starts `n` workers and builds `spec`'s model in each (an error if any cannot). */
  static async open(n: number, spec: ScorerSpec): Promise<ScoringPool> {
    const pool = new ScoringPool(n);
    try {
      await Promise.all(pool.#workers.map((_, i) => pool.#send(i, { type: "open", spec })));
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
      let w = 0;
      for (let i = 1; i < this.#busy.length; i++) if (this.#busy[i] < this.#busy[w]) w = i;
      const p = this.#send(w, { type: "batch", mode, items: chunk, loadSize });
      p.catch(() => {}); // handled when awaited
      return p;
    };
    const inFlight: Promise<Float32Array[]>[] = [];
    let next = 0;
    const window = 2 * this.#workers.length;
    for (const start of starts) {
      while (next < starts.length && inFlight.length < window) inFlight.push(send(starts[next++]));
      yield { start, values: await inFlight.shift()! };
    }
  }

  /** Stops the workers; what is still pending is rejected. */
  close(): void {
    for (const w of this.#workers) w.terminate();
    for (const p of this.#pending.values()) p.reject(new Error("scoring pool closed"));
    this.#pending.clear();
  }

  #send(worker: number, task: Task): Promise<Float32Array[]> {
    const id = this.#nextId++;
    this.#busy[worker]++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { worker, resolve, reject });
      this.#workers[worker].postMessage({ ...task, id });
    });
  }

  #reply({ id, values, error }: ScoringReply): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    this.#busy[p.worker]--;
    if (error) p.reject(rebuiltError(error));
    else p.resolve(values ?? []);
  }

  #failWorker(worker: number, e: Error): void {
    for (const [id, p] of this.#pending) {
      if (p.worker !== worker) continue;
      this.#pending.delete(id);
      p.reject(e);
    }
  }
}
