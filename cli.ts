/**
 * Command line: `deno task lpips <command>` in a clone (the contract of README's "Command line"),
 * and the package's `./cli` export. Results go to stdout, progress and errors to stderr; a user
 * mistake is one line on stderr and exit status 1.
 *
 * @example
 * ```sh
 * deno run -A jsr:@perceptual/lpips/cli compare ex_ref.png ex_p0.png
 * deno install -g -A -n lpips jsr:@perceptual/lpips/cli   # then: lpips compare a.png b.png
 * ```
 *
 * @module
 */
import type { Command } from "./cli/args.ts";
import { allpairs } from "./cli/allpairs.ts";
import { compare } from "./cli/compare.ts";
import { demo } from "./cli/demo.ts";
import { dirs } from "./cli/dirs.ts";
import { download } from "./cli/download.ts";
import { evalCommand } from "./cli/eval.ts";
import { mergeCommand } from "./cli/merge.ts";
import { trainCommand } from "./cli/train.ts";

const COMMANDS: Record<string, Command> = {
  compare,
  dirs,
  allpairs,
  eval: evalCommand,
  merge: mergeCommand,
  train: trainCommand,
  demo,
  download,
};

const USAGE = `LPIPS perceptual similarity (Zhang et al., CVPR 2018)

Usage: deno task lpips <command> [options]    (deno task lpips <command> --help for its options)

Commands:
${Object.values(COMMANDS).map((c) => `  ${c.summary}`).join("\n")}`;

/** Runs one command line; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(USAGE);
    return name ? 0 : 1;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`lpips: unknown command "${name}" (try --help)`);
    return 1;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (e) {
    if (Deno.env.get("LPIPS_DEBUG")) console.error(e);
    const msg = e instanceof Error ? e.message : String(e);
    console.error(`lpips ${name}: ${msg.split("\n")[0]}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
