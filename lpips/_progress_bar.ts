/**
 * A cli-progress bar on stderr, typed (the package ships no types). Shared by the download and
 * evaluation progress displays.
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
