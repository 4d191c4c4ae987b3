/**
 * Splitting a job over machines: `--shard K/N` of `eval`, `dirs` and `allpairs`.
 *
 * **Numbering**: `K` is 0-based, `0 <= K < N`, as Kubernetes' `JOB_COMPLETION_INDEX` and a Slurm
 * array `--array=0-(N-1)` count (`--shard $SLURM_ARRAY_TASK_ID/4`).
 *
 * **Rule**: every dataset (or file list) is split on its own, in its sorted order, into `N`
 * contiguous blocks of whole batches: with `B = ceil(total / batchSize)` batches, shard `K` gets
 * batches `floor(K*B/N)` up to (not including) `floor((K+1)*B/N)`. A shard therefore computes
 * every item in exactly the batch it has in a single run, so the merged distances are the single
 * run's, bit for bit, whatever the engine. A shard may be empty (more shards than batches).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { relative, sep } from "node:path";

/**
 * Shard `index` (0-based) of `count`: a sharded run computes only its share of every dataset
 * (contiguous blocks of whole batches), and `deno task lpips merge` joins the shards' files.
 */
export interface ShardSpec {
  /** Which shard, from 0 to `count - 1`. */
  index: number;
  /** How many shards the run is split into. */
  count: number;
}

/**
 * Parses `K/N` (0-based `K`), e.g. `--shard $JOB_COMPLETION_INDEX/4`. Throws a one-line
 * `RangeError` naming the problem (e.g. an unset variable leaving `/4`).
 *
 * @example
 * ```ts
 * import { parseShard } from "@perceptual/lpips/eval";
 * console.log(parseShard("2/4")); // { index: 2, count: 4 }
 * ```
 */
export function parseShard(text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) {
    const hint = /^\s*\//.test(text)
      ? " (is the index variable, e.g. $SLURM_ARRAY_TASK_ID, set?)"
      : "";
    throw new RangeError(`--shard must be K/N with 0 <= K < N, e.g. 0/4 (got "${text}")${hint}`);
  }
  const index = Number(m[1]), count = Number(m[2]);
  if (count < 1 || count > 2 ** 31 - 1) {
    throw new RangeError(
      `--shard ${index}/${count}: N, the number of shards, must be a positive integer below 2^31`,
    );
  }
  if (index >= count) {
    throw new RangeError(
      `--shard ${index}/${count}: K counts from 0 and must be below N (0/${count} to ${
        count - 1
      }/${count})`,
    );
  }
  return { index, count };
}

/**
 * The items `[start, end)` of a list of `total` items that shard `index` of `count` computes,
 * in whole batches of `batchSize` (see the module notes).
 *
 * @example
 * ```ts
 * import { shardRange } from "./shard.ts";
 * console.log(shardRange(120, 50, { index: 1, count: 2 })); // { start: 50, end: 120 }
 * ```
 */
export function shardRange(
  total: number,
  batchSize: number,
  shard: ShardSpec,
): { start: number; end: number } {
  const batches = Math.ceil(total / batchSize);
  const first = Math.floor((shard.index * batches) / shard.count);
  const last = Math.floor(((shard.index + 1) * batches) / shard.count);
  return { start: Math.min(total, first * batchSize), end: Math.min(total, last * batchSize) };
}

/**
 * A SHA-256 of a list of file paths (relative to `root`, with `/` separators, so machines that
 * mount the data at different places agree): shards of one run must have listed the same files.
 *
 * @example
 * ```ts
 * import { fileListHash } from "./shard.ts";
 * console.log(fileListHash("/data", [["/data/a.png", "/data/b.png"]]).slice(0, 12));
 * ```
 */
export function fileListHash(root: string, items: readonly (readonly string[])[]): string {
  const h = createHash("sha256");
  for (const files of items) {
    h.update(files.map((f) => relative(root, f).split(sep).join("/")).join("\t") + "\n");
  }
  return h.digest("hex");
}
