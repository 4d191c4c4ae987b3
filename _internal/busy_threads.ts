/**
 * Worker threads that must finish what they are doing before the process exits. A worker in the
 * middle of native code (an ONNX Runtime run) cannot be stopped from JavaScript, and a process
 * that exits meanwhile tears the library down under it: ONNX Runtime then prints errors after the
 * last line a command meant to print, or worse. A pool registers a way to quiesce its workers;
 * an exit on a signal (the command line's interrupt trap) waits for them first.
 *
 * @module
 */

const quiescers = new Set<() => Promise<void>>();

/**
 * Registers `quiesce` (send no new work, resolve once none is running); returns the function that
 * unregisters it.
 *
 * @example
 * ```ts
 * import { registerBusyThreads } from "./busy_threads.ts";
 * const unregister = registerBusyThreads(() => Promise.resolve());
 * unregister();
 * ```
 */
export function registerBusyThreads(quiesce: () => Promise<void>): () => void {
  quiescers.add(quiesce);
  return () => quiescers.delete(quiesce);
}

/**
 * Waits until every registered pool is quiet, or `timeoutMs` has passed (default 10 s).
 *
 * @example
 * ```ts
 * import { quiesceBusyThreads } from "./busy_threads.ts";
 * await quiesceBusyThreads(); // at once when no pool is registered
 * ```
 */
export async function quiesceBusyThreads(timeoutMs = 10_000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, timeoutMs));
  try {
    await Promise.race([Promise.allSettled([...quiescers].map((q) => q())), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
