/**
 * Joining the shard files of one sharded run (`--shard K/N --out FILE`) back into the items of
 * the whole run, after checking that they belong together: one command and configuration, one
 * shard count, the same file lists, every shard present once and every item exactly once.
 *
 * @module
 */
import type { NetName } from "../lpips/arch.ts";
import type { Version } from "../lpips/lpips.ts";
import type { BackendName } from "../lpips/backend.ts";
import type { BappsMode } from "../bappsloader/layout.ts";
import type { Colorspace } from "../baselines/l2.ts";
import {
  type ConfigValue,
  rowNumber,
  type ShardFile,
  type ShardHeader,
  type ShardRow,
} from "./shard_file.ts";
import type { DatasetResult, EvalModel, EvaluateResult } from "./runner.ts";
import { type JNDItems, scoreDataset, type TwoAFCItems } from "./score.ts";

/** A mistake in the set of shard files given to `merge`; the message is one line. */
export class MergeError extends Error {
  override name = "MergeError";
}

/** One list of the merged run, all its items in order. */
export interface MergedList {
  name: string;
  rows: ShardRow[];
}

/** What {@link mergeShards} returns: the run's header fields and every list's rows. */
export interface MergedRun {
  command: ShardHeader["command"];
  config: ShardHeader["config"];
  /** The inputs of shard 0 (where it read its data). */
  inputs: ShardHeader["inputs"];
  count: number;
  lists: MergedList[];
}

const show = (v: ConfigValue | undefined) =>
  v === undefined ? "(none)" : Array.isArray(v) ? v.join(",") : String(v);

/**
 * Checks that `files` are the shards of one run and joins their items.
 *
 * @example Needs the files of an `eval --shard K/2 --out sK.jsonl` run (not run as a doc test).
 * ```ts ignore
 * import { readShardFile } from "./shard_file.ts";
 * import { mergeShards } from "./merge.ts";
 * const run = mergeShards(await Promise.all(["s0.jsonl", "s1.jsonl"].map(readShardFile)));
 * console.log(run.lists.map((l) => [l.name, l.rows.length]));
 * ```
 */
export function mergeShards(files: readonly ShardFile[]): MergedRun {
  if (files.length === 0) throw new MergeError("no shard files given");
  const first = files[0];
  const h0 = first.header;
  for (const f of files.slice(1)) {
    const h = f.header;
    const differ = (what: string) => {
      throw new MergeError(
        `shards come from different runs: ${what} (${first.path}, ${f.path})`,
      );
    };
    if (h.command !== h0.command) differ(`command ${h0.command} vs ${h.command}`);
    if (h.shard.count !== h0.shard.count) {
      differ(`shard count ${h0.shard.count} vs ${h.shard.count}`);
    }
    const keys = [...new Set([...Object.keys(h0.config), ...Object.keys(h.config)])];
    for (const k of keys) {
      const a = h0.config[k], b = h.config[k];
      if (show(a) !== show(b) || typeof a !== typeof b) differ(`${k} ${show(a)} vs ${show(b)}`);
    }
    const names0 = h0.lists.map((l) => l.name).join(","), names = h.lists.map((l) => l.name);
    if (names0 !== names.join(",")) differ(`lists ${names0} vs ${names.join(",")}`);
    h.lists.forEach((l, i) => {
      const l0 = h0.lists[i];
      if (l.total !== l0.total) differ(`${l.name} has ${l0.total} vs ${l.total} items`);
      if (l.files !== l0.files) differ(`the files of ${l.name} differ`);
    });
  }

  const owners = h0.lists.map((l) => new Array<string | undefined>(l.total));
  const index = new Map(h0.lists.map((l, i) => [l.name, i]));
  const named = h0.lists.length > 1 || h0.command === "eval";
  const item = (i: number, list: string) => `item ${i}${named ? ` of ${list}` : ""}`;
  const rows = h0.lists.map((l) => new Array<ShardRow>(l.total));
  for (const f of files) {
    for (const r of f.rows) {
      const k = index.get(r.list)!;
      const owner = owners[k][r.index];
      if (owner !== undefined) {
        throw new MergeError(`${item(r.index, r.list)} in both ${owner} and ${f.path}`);
      }
      owners[k][r.index] = f.path;
      rows[k][r.index] = r;
    }
  }

  const seen = new Map<number, string>();
  for (const f of files) {
    const other = seen.get(f.header.shard.index);
    if (other !== undefined) {
      throw new MergeError(
        `shard ${f.header.shard.index}/${h0.shard.count} given twice (${other}, ${f.path})`,
      );
    }
    seen.set(f.header.shard.index, f.path);
  }
  const missing: string[] = [];
  for (let k = 0; k < h0.shard.count; k++) {
    if (!seen.has(k)) missing.push(`${k}/${h0.shard.count}`);
  }
  if (missing.length > 0) {
    throw new MergeError(
      missing.length === 1
        ? `shard ${missing[0]} missing`
        : `shards ${missing.slice(0, 8).join(", ")}${missing.length > 8 ? ", ..." : ""} missing`,
    );
  }
  h0.lists.forEach((l, k) => {
    const gap = owners[k].findIndex((o) => o === undefined);
    if (gap >= 0) throw new MergeError(`${item(gap, l.name)} missing from every shard`);
  });

  const byIndex = [...files].sort((a, b) => a.header.shard.index - b.header.shard.index);
  return {
    command: h0.command,
    config: h0.config,
    inputs: byIndex[0].header.inputs,
    count: h0.shard.count,
    lists: h0.lists.map((l, k) => ({ name: l.name, rows: rows[k] })),
  };
}

/**
 * The whole evaluation of a merged sharded `eval` run: scores and intervals recomputed from
 * every item, exactly as `evaluate` computes them in one run.
 *
 * @example Needs the files of an `eval --shard K/2 --out sK.jsonl` run (not run as a doc test).
 * ```ts ignore
 * import { readShardFile } from "./shard_file.ts";
 * import { mergedEvaluation, mergeShards } from "./merge.ts";
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
    const items: TwoAFCItems | JNDItems = mode === "2afc"
      ? {
        d0: col("d0"),
        d1: col("d1"),
        judge: col("judge"),
        paths: paths<TwoAFCItems["paths"][number]>(),
      }
      : { d: col("d"), same: col("same"), paths: paths<JNDItems["paths"][number]>() };
    return { ...common, ...scoreDataset(items, boot, { name }), items };
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
