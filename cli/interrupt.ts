/**
 * A clean Ctrl-C (SIGINT) or SIGTERM for long commands: files still being written (`*.part`)
 * are removed, one line says how far the run got, and the process exits with 130 (SIGINT) or
 * 143 (SIGTERM), as a shell reports a process killed by that signal.
 *
 * @module
 */
import { quiesceBusyThreads } from "../_internal/busy_threads.ts";

/** What {@link trapInterrupts} returns. */
export interface InterruptTrap {
  /** Files to remove if the run is interrupted (add each `.part` file before writing it). */
  parts: Set<string>;
  /** Removes the signal listeners (call in a `finally`). */
  release(): void;
}

/**
 * Installs SIGINT/SIGTERM listeners that clean up and exit with a one-line message
 * `<prefix>: interrupted: no results written (<progress()>)`.
 *
 * @example
 * ```ts
 * import { trapInterrupts } from "./interrupt.ts";
 * let done = 0;
 * const trap = trapInterrupts("lpips eval", () => `${done} of 10 items done`);
 * try {
 *   for (; done < 10; done++) await new Promise((r) => setTimeout(r, 10));
 * } finally {
 *   trap.release();
 * }
 * ```
 */
export function trapInterrupts(prefix: string, progress: () => string): InterruptTrap {
  const parts = new Set<string>();
  const handlers: [Deno.Signal, () => void][] = [];
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    const handler = async () => {
      // Worker threads finish the batch they run first (busy_threads.ts).
      await quiesceBusyThreads();
      for (const p of parts) {
        try {
          Deno.removeSync(p);
        } catch {
          // not written yet
        }
      }
      const nl = Deno.stderr.isTerminal() ? "\n" : ""; // end a progress bar
      console.error(`${nl}${prefix}: interrupted: no results written (${progress()})`);
      Deno.exit(code);
    };
    try {
      Deno.addSignalListener(signal, handler);
      handlers.push([signal, handler]);
    } catch {
      // SIGTERM cannot be listened to on Windows
    }
  }
  return {
    parts,
    release() {
      for (const [signal, handler] of handlers) Deno.removeSignalListener(signal, handler);
    },
  };
}
