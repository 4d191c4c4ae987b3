/**
 * `lpips merge SHARD_FILES...`: joins the files of a sharded `eval`, `dirs` or
 * `allpairs` run (`--shard K/N --out FILE`) and prints what one unsharded run prints: the same
 * scores, `n`, bootstrap intervals (same resamples and seed: the same interval) and `--json`
 * object, the same `--per-item` CSV files, or the same `dirs`/`allpairs` lines.
 *
 * @module
 */
import {
  type Command,
  COMMON_OPTIONS,
  integer,
  type OptionTypes,
  parse,
  UsageError,
} from "./args.ts";
import { helpText } from "./help.ts";
import {
  allpairsLine,
  type AllpairsRow,
  dirsLine,
  type DirsRow,
  finishAllpairs,
  finishDirs,
} from "./_images.ts";
import { perItemPath, reportEval } from "./eval.ts";
import { checkOutputFiles } from "../_internal/output_path.ts";
import { mergedEvaluation, mergeShards } from "../eval/merge.ts";
import { readShardFile, rowNumber, type ShardRow } from "../eval/shard_file.ts";
import { trapInterrupts } from "./interrupt.ts";

const MERGE_OPTIONS: OptionTypes = {
  bootstrap: { type: "string" },
  seed: { type: "string" },
  "per-item": { type: "string" },
  out: { type: "string" },
  quiet: { type: "boolean", short: "q" },
};

/** `merge`: the scores of a sharded run from its shard files. */
export const mergeCommand: Command = {
  synopsis: "merge SHARD_FILE...",
  summary: "join the shard files of eval, dirs or allpairs",
  usage: helpText({
    usage: "merge SHARD_FILE... [options]",
    about: [
      "Joins the files that `eval`, `dirs` or `allpairs` wrote with --shard K/N --out FILE (K " +
      "from 0; every K of one run exactly once, in any order) and prints what the unsharded run " +
      "prints. The files must come from one run: same command and configuration (mode, model, " +
      "net, version, colorspace, datasets, batch size, engine, ...), same shard count, the same " +
      "file lists.",
    ],
    options: [
      ["--json", "eval: the eval --json object; dirs/allpairs: their --json output"],
      ["--bootstrap N", "eval: bootstrap resamples (default: the shards' --bootstrap)"],
      ["--seed S", "eval: bootstrap seed (default: the shards' --seed)"],
      ["--per-item OUT.csv", "eval: the per-item CSV files of eval --per-item"],
      ["--out FILE", "dirs/allpairs: the text file of dirs/allpairs --out"],
      ["--quiet, -q", "no messages on stderr"],
    ],
  }),
  async run(args) {
    const { values, positionals: files } = parse(args, MERGE_OPTIONS, COMMON_OPTIONS);
    if (values.help) return console.log(this.usage);
    if (files.length === 0) throw new UsageError("expected shard files: merge SHARD_FILE...");
    const run = mergeShards(await Promise.all(files.map(readShardFile)));
    const json = !!values.json;
    const only = (option: string, command: string) => {
      if (values[option] !== undefined && run.command !== command) {
        throw new UsageError(`--${option} applies to ${command} shards (these are ${run.command})`);
      }
    };
    only("bootstrap", "eval");
    only("seed", "eval");
    only("per-item", "eval");
    if (values.out !== undefined && run.command === "eval") {
      throw new UsageError("--out applies to dirs and allpairs shards (these are eval)");
    }
    const perItem = values["per-item"] as string | undefined;
    if (perItem !== undefined) {
      const n = run.lists.length;
      await checkOutputFiles(run.lists.map((l) => perItemPath(perItem, l.name, n)));
    }
    if (values.out !== undefined) await checkOutputFiles([values.out as string]);
    if (run.command === "eval") {
      const boot = {
        resamples: integer("bootstrap", values.bootstrap, run.config.bootstrap as number, 0),
        seed: integer("seed", values.seed, run.config.seed as number, -(2 ** 31)),
      };
      const r = mergedEvaluation(run, boot);
      const trap = trapInterrupts("lpips merge", () => "merging");
      try {
        await reportEval(
          r,
          {
            json,
            perItem,
            quiet: !!values.quiet,
            prefix: "lpips merge",
          },
          trap.parts,
        );
      } finally {
        trap.release();
      }
    } else if (run.command === "dirs") {
      const rows = run.lists[0].rows.map((r) => pick<DirsRow>(r, ["file", "distance"]));
      if (!json) { for (const r of rows) console.log(dirsLine(r)); }
      await finishDirs(rows, { json, out: values.out as string | undefined });
    } else {
      const rows = run.lists[0].rows.map((r) => pick<AllpairsRow>(r, ["a", "b", "distance"]));
      if (!json) { for (const r of rows) console.log(allpairsLine(r)); }
      await finishAllpairs(rows, { json, out: values.out as string | undefined });
    }
  },
};

/** The named fields of a row, in that order (`distance` as a number). */
function pick<T>(r: ShardRow, keys: string[]): T {
  const o: Record<string, unknown> = {};
  for (const k of keys) o[k] = k === "distance" ? rowNumber(r[k]) : r[k];
  return o as T;
}
