/**
 * Progress on stderr: a typed cli-progress bar (the package ships no types), shared by the
 * evaluation, and the download display built on it.
 *
 * @module
 */
import process from "node:process";
import cliProgress from "cli-progress";

/** The part of cli-progress's SingleBar used here. */
export interface Bar {
  start(total: number, start: number, payload?: Record<string, string>): void;
  update(value: number, payload?: Record<string, string>): void;
  stop(): void;
}

interface CliProgress {
  SingleBar: new (opts: Record<string, unknown>, preset?: unknown) => Bar;
  Presets: { shades_classic: unknown };
}

/** A new bar on stderr with cli-progress's `format` template (not started yet). */
export function progressBar(format: string): Bar {
  const lib = cliProgress as unknown as CliProgress;
  return new lib.SingleBar(
    { format, stream: process.stderr, hideCursor: true },
    lib.Presets.shades_classic,
  );
}

/** A download progress display (see {@linkcode startProgress}). */
export interface Progress {
  update(received: number): void;
  stop(savedAs: string | undefined): void;
}

/**
 * Progress on stderr for a download: a bar on a terminal, a few plain lines otherwise.
 * `stop(undefined)` prints nothing more.
 */
export function startProgress(
  name: string,
  url: string,
  total: number | undefined,
  quiet: boolean,
): Progress {
  if (quiet) return { update() {}, stop() {} };
  const size = total !== undefined ? ` (${mib(total)} MiB)` : "";
  if (total !== undefined && total > 0 && Deno.stderr.isTerminal()) {
    const bar = progressBar(`${name} [{bar}] {percentage}% {got}/{size} MiB`);
    console.error(`lpips: downloading ${name}${size} from ${url}`);
    bar.start(total, 0, { got: mib(0), size: mib(total) });
    return {
      update(n) {
        bar.update(n, { got: mib(n), size: mib(total) });
      },
      stop(savedAs) {
        bar.stop();
        if (savedAs) console.error(`lpips: saved ${savedAs} (sha256 verified)`);
      },
    };
  }
  // Not a terminal: a few plain lines, each 10% for large files (every 16 MiB if size unknown).
  console.error(`lpips: downloading ${name}${size} from ${url}`);
  const big = total === undefined || total >= 4 * 1048576;
  const step = total !== undefined ? total / 10 : 16 * 1048576;
  let next = step;
  return {
    update(n) {
      if (!big || n < next || (total !== undefined && n >= total)) return;
      while (next <= n) next += step;
      const pct = total !== undefined ? ` ${Math.floor((100 * n) / total)}%` : "";
      console.error(`lpips: ${name}${pct} (${mib(n)} MiB)`);
    },
    stop(savedAs) {
      if (savedAs) console.error(`lpips: saved ${savedAs} (sha256 verified)`);
    },
  };
}

function mib(n: number): string {
  return (n / 1048576).toFixed(1);
}
