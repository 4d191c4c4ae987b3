/**
 * Command line: `lpips <command>` once installed
 * (`deno install -g -A -n lpips jsr:@perceptual/lpips/cli`), and `deno task lpips <command>` in a
 * clone (the contract of README's "Command line"). Results go to stdout, progress and errors to
 * stderr; a user mistake is one line on stderr and exit status 1.
 *
 * @example
 * ```sh
 * deno run -A jsr:@perceptual/lpips/cli compare ex_ref.png ex_p0.png
 * deno install -g -A -n lpips jsr:@perceptual/lpips/cli   # then: lpips compare a.png b.png
 * ```
 *
 * @module
 */
import denoJson from "./deno.json" with { type: "json" };
import { COMMANDS, overview } from "./cli/commands.ts";
import { unknownOption } from "./cli/args.ts";
import { closest } from "./cli/suggest.ts";
import { PROGRAM } from "./cli/help.ts";
import { debugging, errorLine } from "./cli/error_line.ts";

/** Runs one command line; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || (name === "help" && rest.length === 0)) {
    console.log(overview(denoJson.version));
    return name ? 0 : 1;
  }
  if (name === "--version" || name === "-V") {
    console.log(denoJson.version);
    return 0;
  }
  if (name === "help") return await main([rest[0], "--help"]);
  const command = COMMANDS[name];
  if (!command) {
    if (name.startsWith("-")) {
      console.error(`${PROGRAM}: ${unknownOption(name, ["help", "version"])}`);
      return 1;
    }
    const guess = closest(name, Object.keys(COMMANDS));
    const hint = guess ? `did you mean ${guess}?` : `${PROGRAM} --help lists the commands`;
    console.error(`${PROGRAM}: unknown command "${name}" (${hint})`);
    return 1;
  }
  try {
    await command.run(rest);
    return 0;
  } catch (e) {
    if (debugging()) console.error(e);
    console.error(`${PROGRAM} ${name}: ${errorLine(e)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
