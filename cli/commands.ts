/**
 * The commands of the command line, by name, and the overview that lists them.
 *
 * @module
 */
import type { Command } from "./args.ts";
import { allpairs } from "./allpairs.ts";
import { compare } from "./compare.ts";
import { demo } from "./demo.ts";
import { dirs } from "./dirs.ts";
import { download } from "./download.ts";
import { evalCommand } from "./eval.ts";
import { mergeCommand } from "./merge.ts";
import { metricsCommand } from "./metrics.ts";
import { trainCommand } from "./train.ts";
import { helpText, PROGRAM } from "./help.ts";

/** Every command, by the name typed after `lpips`. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  compare,
  dirs,
  allpairs,
  metrics: metricsCommand,
  eval: evalCommand,
  merge: mergeCommand,
  train: trainCommand,
  demo,
  download,
};

/**
 * `lpips --help`: what the program is, its version, its commands and its own options.
 *
 * @example
 * ```ts
 * import { overview } from "./commands.ts";
 * console.log(overview("0.2.0"));
 * ```
 */
export function overview(version: string): string {
  return helpText({
    usage: "<command> [options]",
    about: [`LPIPS perceptual similarity (Zhang et al., CVPR 2018), version ${version}.`],
    sections: [
      {
        title: "Commands",
        options: Object.values(COMMANDS).map((c) => [c.synopsis, c.summary] as const),
      },
      {
        title: "Options",
        options: [
          ["--help, -h", `this overview (${PROGRAM} COMMAND --help: its options)`],
          ["--version, -V", "the package version"],
        ],
      },
    ],
  });
}
