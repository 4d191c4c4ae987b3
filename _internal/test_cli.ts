/**
 * Tests only: runs the command line (`cli.ts`) in a subprocess as a user would, offline (weights
 * from the test data's `weights/`), with no colour and no standard input.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { TEST_DATA, testData } from "./test_data.ts";

/** The path of `cli.ts`. */
export const CLI: string = fileURLToPath(new URL("../cli.ts", import.meta.url));

/** How to start the command line. */
export interface CliOptions {
  /** Extra environment variables (added to LPIPS_WEIGHTS_DIR and NO_COLOR). */
  env?: Record<string, string>;
  /** Deno permission flags (default `-A`). */
  permissions?: string[];
}

/** The outcome of a finished command. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `deno run -A cli.ts ARGS` as a command, to run, spawn or signal. */
export function cliCommand(args: string[], opts: CliOptions = {}): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...(opts.permissions ?? ["-A"]), CLI, ...args],
    env: {
      LPIPS_WEIGHTS_DIR: TEST_DATA ? testData("weights") : "",
      NO_COLOR: "1",
      ...opts.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs the command line to the end and returns its exit status and decoded output. */
export async function runCli(args: string[], opts: CliOptions = {}): Promise<CliRun> {
  const out = await cliCommand(args, opts).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}
