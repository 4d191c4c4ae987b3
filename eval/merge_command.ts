/**
 * `deno task lpips merge SHARD_FILES...`: joins the files of a sharded `eval`, `dirs` or
 * `allpairs` run (`--shard K/N --out FILE`) and prints what one unsharded run prints: the same
 * scores, `n`, bootstrap intervals (same resamples and seed: the same interval) and `--json`
 * object, the same `--per-item` CSV files, or the same `dirs`/`allpairs` lines.
 *
 * @module
 */
import { type Command, integer, parse, UsageError } from "../lpips/_cli.ts";
import {
  allpairsLine,
  type AllpairsRow,
  dirsLine,
  type DirsRow,
  finishAllpairs,
  finishDirs,
} from "../lpips/commands.ts";
import type { NetName } from "../lpips/arch.ts";
import type { Version } from "../lpips/lpips.ts";
import type { BackendName } from "../lpips/backend.ts";
import type { BappsMode } from "../bappsloader/layout.ts";
import type { Colorspace } from "../baselines/l2.ts";
import { bootstrap2AFC, bootstrapJND } from "./bootstrap.ts";
import { jndMAP } from "./jnd.ts";
import { score2AFC } from "./twoafc.ts";
import { reportEval } from "./command.ts";
import { type MergedRun, mergeShards } from "./merge.ts";
import { readShardFile, rowNumber, type ShardRow } from "./shard_file.ts";
import type { DatasetResult, EvalModel, EvaluateResult } from "./runner.ts";
import { trapInterrupts } from "./_interrupt.ts";

/**
 * The whole evaluation of a merged sharded `eval` run: scores and intervals recomputed from
 * every item, exactly as `evaluate` computes them in one run.
 *
 * @example
 * ```ts
 * import { readShardFile } from "./shard_file.ts";
 * import { mergeShards } from "./merge.ts";
 * import { mergedEvaluation } from "./merge_command.ts";
 * const run = mergeShards(await Promise.all(["s0.jsonl", "s1.jsonl"].map(readShardFile)));
 * const r = mergedEvaluation(run, { resamples: 1000, seed: 0 });
 * console.log(r.results.map((d) => [d.dataset, d.score, d.ci95]));
 * ```
 */
export function mergedEvaluation(
  run: MergedRun,
  boot: { resamples: number; seed: number },
): EvaluateResult {
  const c = run.config;
  const mode = c.dataset_mode as BappsMode;
  const results: DatasetResult[] = run.lists.map(({ name, rows }) => {
    const n = rows.length;
    const col = (key: string) => Float32Array.from(rows, (r) => rowNumber(r[key]));
    const paths = <T>() => rows.map((r) => r.paths as T);
    const common = { dataset: name, n, start: 0, total: n, listHash: "", seconds: 0 };
    if (mode === "2afc") {
      const d0 = col("d0"), d1 = col("d1"), judge = col("judge");
      const ci = boot.resamples > 0 && n > 0 ? bootstrap2AFC(d0, d1, judge, boot) : undefined;
      return {
        ...common,
        score: score2AFC(d0, d1, judge),
        ci95: ci ? [ci.low, ci.high] : null,
        items: {
          d0,
          d1,
          judge,
          paths: paths<{ ref: string; p0: string; p1: string; judge: string }>(),
        },
      };
    }
    const d = col("d"), same = col("same");
    const ci = boot.resamples > 0 && n > 0 ? bootstrapJND(d, same, boot) : undefined;
    return {
      ...common,
      score: jndMAP(d, same),
      ci95: ci ? [ci.low, ci.high] : null,
      items: { d, same, paths: paths<{ p0: string; p1: string; same: string }>() },
    };
  });
  return {
    mode,
    model: c.model as EvalModel,
    net: c.net as NetName | null,
    version: c.version as Version | null,
    colorspace: c.colorspace as Colorspace | null,
    batchSize: c.batch_size as number,
    bootstrap: boot,
    engine: c.engine as "onnx" | "tfjs" | null,
    backend: c.backend as BackendName | null,
    shard: null,
    results,
  };
}

const MERGE_OPTIONS = {
  bootstrap: { type: "string" },
  seed: { type: "string" },
  "per-item": { type: "string" },
  out: { type: "string" },
  quiet: { type: "boolean", short: "q" },
} as const;

/** `merge`: the scores of a sharded run from its shard files. */
export const mergeCommand: Command = {
  summary: "merge SHARD_FILES   join the --shard K/N --out files of eval, dirs or allpairs",
  usage: `Usage: deno task lpips merge SHARD_FILE... [options]

Joins the files that \`eval\`, \`dirs\` or \`allpairs\` wrote with --shard K/N --out FILE (K from 0;
every K of one run exactly once, in any order) and prints what the unsharded run prints. The
files must come from one run: same command and configuration (mode, model, net, version,
colorspace, datasets, batch size, engine, ...), same shard count, the same file lists.

  --json              eval: the eval --json object; dirs/allpairs: their --json output
  --bootstrap N       eval: bootstrap resamples (default: the shards' --bootstrap)
  --seed S            eval: bootstrap seed (default: the shards' --seed)
  --per-item OUT.csv  eval: the per-item CSV files of eval --per-item
  --out FILE          dirs: the "name: distance" file of dirs --out
  --quiet, -q         no messages on stderr`,
  async run(args) {
    const { values, positionals: files } = parse(args, MERGE_OPTIONS);
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
    only("out", "dirs");
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
            perItem: values["per-item"] as string | undefined,
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
      finishAllpairs(rows, json);
    }
  },
};

/** The named fields of a row, in that order (`distance` as a number). */
function pick<T>(r: ShardRow, keys: string[]): T {
  const o: Record<string, unknown> = {};
  for (const k of keys) o[k] = k === "distance" ? rowNumber(r[k]) : r[k];
  return o as T;
}
