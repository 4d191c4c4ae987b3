/**
 * A fixed set of Web Workers that answer requests, and the loop a worker runs to answer them: the
 * loader's decode pool and the evaluation's scoring pool are both this. Each request carries an
 * id; the reply carries the same id with a result or the error, rebuilt with its class on this
 * side (worker_error.ts). The workers inherit the permissions.
 *
 * @module
 */
import { type PostedError, postedError, rebuiltError } from "./worker_error.ts";
import { registerBusyThreads } from "../_internal/busy_threads.ts";

/** A worker's answer to one request. */
export interface WorkerReply<R> {
  /** The request's id. */
  id: number;
  /** What the request computed. */
  result?: R;
  /** Why it failed. */
  error?: PostedError;
}

/**
 * Workers running the module at `url` (which calls {@link serveRequests}), each request sent to
 * the worker with the fewest pending unless one is named.
 *
 * @example
 * ```ts ignore
 * import { WorkerPool } from "./worker_pool.ts";
 * const pool = new WorkerPool<string, number>(new URL("./_length_worker.ts", import.meta.url), 2, "length worker");
 * console.log(await pool.call("four")); // 4
 * pool.close();
 * ```
 */
export class WorkerPool<Q, R> {
  readonly #workers: Worker[] = [];
  readonly #busy: number[] = [];
  readonly #pending = new Map<number, {
    worker: number;
    resolve: (r: R) => void;
    reject: (e: Error) => void;
  }>();
  #nextId = 0;
  #quiet?: () => void;
  readonly #unregister: () => void;

  /**
   * Starts `n` workers; `what` names them in the error of one that dies. Until {@link close}, an
   * exit on a signal waits for the requests they are running (busy_threads.ts).
   */
  constructor(url: URL, n: number, what: string) {
    this.#unregister = registerBusyThreads(() => this.#quiesce());
    for (let i = 0; i < n; i++) {
      const w = new Worker(url.href, { type: "module" });
      w.onmessage = (e: MessageEvent<WorkerReply<R>>) => this.#reply(e.data);
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#failWorker(i, new Error(`${what} failed: ${e.message}`));
      };
      this.#workers.push(w);
      this.#busy.push(0);
    }
  }

  /** How many workers there are. */
  get size(): number {
    return this.#workers.length;
  }

  /** Sends `request` to worker `worker` (default: the least busy) and waits for its result. */
  call(request: Q, worker: number = this.#leastBusy()): Promise<R> {
    // Quiescing for an exit: nothing new starts, and the caller waits until the process ends.
    if (this.#quiet) return new Promise<R>(() => {});
    const id = this.#nextId++;
    this.#busy[worker]++;
    return new Promise<R>((resolve, reject) => {
      this.#pending.set(id, { worker, resolve, reject });
      this.#workers[worker].postMessage({ id, request });
    });
  }

  /** Stops the workers; what is still pending is rejected. */
  close(): void {
    this.#unregister();
    for (const w of this.#workers) w.terminate();
    for (const p of this.#pending.values()) p.reject(new Error("worker pool closed"));
    this.#pending.clear();
  }

  /** Sends nothing more; resolves once no request is running. */
  #quiesce(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#quiet = resolve;
      if (this.#pending.size === 0) resolve();
    });
  }

  #leastBusy(): number {
    let w = 0;
    for (let i = 1; i < this.#busy.length; i++) if (this.#busy[i] < this.#busy[w]) w = i;
    return w;
  }

  #reply({ id, result, error }: WorkerReply<R>): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    this.#busy[p.worker]--;
    if (this.#quiet) {
      // An exit is waiting: this result goes nowhere.
      if (this.#pending.size === 0) this.#quiet();
      return;
    }
    if (error) p.reject(rebuiltError(error));
    else p.resolve(result as R);
  }

  #failWorker(worker: number, e: Error): void {
    for (const [id, p] of this.#pending) {
      if (p.worker !== worker) continue;
      this.#pending.delete(id);
      if (!this.#quiet) p.reject(e);
    }
    if (this.#quiet && this.#pending.size === 0) this.#quiet();
  }
}

/**
 * The worker's side: answers each request with `handle`'s result (its array buffers transferred,
 * not copied) or its error, one request at a time, in the order they arrive.
 *
 * @example
 * ```ts ignore
 * import { serveRequests } from "./worker_pool.ts";
 * serveRequests<string, number>((s) => Promise.resolve(s.length)); // a worker's whole module
 * ```
 */
export function serveRequests<Q, R>(handle: (request: Q) => Promise<R>): void {
  const scope = globalThis as unknown as {
    onmessage: (e: MessageEvent<{ id: number; request: Q }>) => void;
    postMessage(message: WorkerReply<R>, options: { transfer: ArrayBuffer[] }): void;
  };
  let queue = Promise.resolve();
  scope.onmessage = (e) => {
    const { id, request } = e.data;
    queue = queue.then(async () => {
      let reply: WorkerReply<R>;
      try {
        reply = { id, result: await handle(request) };
      } catch (err) {
        reply = { id, error: postedError(err) };
      }
      scope.postMessage(reply, { transfer: [...buffersOf(reply.result)] });
    });
  };
}

/** The distinct array buffers of the typed arrays in `x` (itself, an array or an object's values). */
function buffersOf(x: unknown): Set<ArrayBuffer> {
  const out = new Set<ArrayBuffer>();
  const visit = (v: unknown) => {
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer) out.add(v.buffer);
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === "object") Object.values(v).forEach(visit);
  };
  visit(x);
  return out;
}
