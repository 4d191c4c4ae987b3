/**
 * Command line: `deno task lpips <command>` (DESIGN.md's contract). Results go to stdout, progress
 * and errors to stderr; a user mistake is one line on stderr and exit status 1.
 *
 * @module
 */
import type { Command } from "./lpips/_cli.ts";
import { allpairs, compare, demo, dirs } from "./lpips/commands.ts";
import { download } from "./bappsloader/download_command.ts";
import { evalCommand } from "./eval/command.ts";
import { mergeCommand } from "./eval/merge_command.ts";
import { trainCommand } from "./lpips/train_command.ts";

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
