/**
 * The help text of every command, in one style: `Usage: lpips ...`, a description, titled lists
 * of options (flags in one column, descriptions from column {@link HELP_COLUMN}), closing notes,
 * all wrapped to {@link HELP_WIDTH} columns.
 *
 * @module
 */

/**
 * The program's name in help and messages: `lpips`, as installed
 * (`deno install -g -A -n lpips jsr:@perceptual/lpips/cli`); `deno task lpips` in a clone and
 * `deno run -A jsr:@perceptual/lpips/cli` take the same arguments.
 */
export const PROGRAM = "lpips";

/** The widest line of any help text. */
export const HELP_WIDTH = 80;

/** Where option descriptions start (a longer flag puts its description on the next line). */
export const HELP_COLUMN = 28;

/** One option of a help list: the flag as typed (`--net alex|squeeze|vgg`) and what it does. */
export type OptionHelp = readonly [flag: string, description: string];

/** A titled list of options (`Model options:`). */
export interface OptionSection {
  title: string;
  options: readonly OptionHelp[];
}

/** What {@link helpText} lays out. */
export interface HelpSpec {
  /** The command line after the program's name: `compare IMG0 IMG1 [options]`. */
  usage: string;
  /** Paragraphs after the usage line. */
  about?: readonly string[];
  /** The command's own options (`Options:`). */
  options?: readonly OptionHelp[];
  /** Further titled lists, e.g. the model options. */
  sections?: readonly OptionSection[];
  /** Paragraphs at the end. */
  notes?: readonly string[];
}

/**
 * Greedy word wrap of one paragraph to `width` columns, every line starting with `indent`
 * (the first with `first`, when given). Explicit newlines are kept.
 *
 * @example
 * ```ts
 * import { wrap } from "./help.ts";
 * console.log(wrap("one two three", 9, "")); // "one two\nthree"
 * ```
 */
export function wrap(text: string, width: number, indent: string, first = indent): string {
  const lines: string[] = [];
  for (const part of text.split("\n")) {
    let line = lines.length === 0 ? first : indent;
    let empty = true;
    for (const word of part.split(/ +/).filter((w) => w !== "")) {
      if (!empty && line.length + 1 + word.length > width) {
        lines.push(line);
        line = indent + word;
      } else line += (empty ? "" : " ") + word;
      empty = false;
    }
    lines.push(line.trimEnd());
  }
  return lines.join("\n");
}

/**
 * Option rows: the flag at column 2, its description from {@link HELP_COLUMN} (on the next line
 * when the flag is longer), wrapped to {@link HELP_WIDTH}.
 *
 * @example
 * ```ts
 * import { optionRows } from "./help.ts";
 * console.log(optionRows([["--json", "print one JSON object"]]));
 * ```
 */
export function optionRows(options: readonly OptionHelp[]): string {
  const pad = " ".repeat(HELP_COLUMN);
  return options.map(([flag, description]) => {
    const head = `  ${flag}`;
    if (head.length + 2 > HELP_COLUMN) {
      return `${head}\n${wrap(description, HELP_WIDTH, pad)}`;
    }
    return wrap(description, HELP_WIDTH, pad, head.padEnd(HELP_COLUMN));
  }).join("\n");
}

/**
 * A command's whole help text.
 *
 * @example
 * ```ts
 * import { helpText } from "./help.ts";
 * console.log(helpText({ usage: "demo [options]", options: [["--json", "one JSON object"]] }));
 * ```
 */
export function helpText(spec: HelpSpec): string {
  const blocks = [`Usage: ${PROGRAM} ${spec.usage}`];
  for (const p of spec.about ?? []) blocks.push(wrap(p, HELP_WIDTH, ""));
  if (spec.options?.length) blocks.push(`Options:\n${optionRows(spec.options)}`);
  for (const s of spec.sections ?? []) blocks.push(`${s.title}:\n${optionRows(s.options)}`);
  for (const p of spec.notes ?? []) blocks.push(wrap(p, HELP_WIDTH, ""));
  return blocks.join("\n\n");
}
