/**
 * The BAPPS evaluation: 2AFC score, JND mAP, bootstrap intervals, per-item CSV files, and the
 * runner behind `deno task lpips eval` ({@link evaluate}).
 *
 * @example
 * ```ts
 * import { jndMAP, score2AFC } from "./mod.ts";
 * console.log(score2AFC([0.1, 0.5, 0.3, 0.2], [0.2, 0.4, 0.3, 0.9], [0, 0.6, 1, 0.2])); // 0.725
 * console.log(jndMAP([0.05, 0.4, 0.1, 0.8, 0.2, 0.6], [1, 0, 2 / 3, 1 / 3, 1, 0]));
 * ```
 *
 * @module
 */
export * from "./twoafc.ts";
export * from "./jnd.ts";
export * from "./bootstrap.ts";
export * from "./csv.ts";
export * from "./runner.ts";
export { parseShard, shardRange, type ShardSpec } from "./shard.ts";
export {
  readShardFile,
  type ShardFile,
  ShardFileError,
  type ShardHeader,
  type ShardRow,
} from "./shard_file.ts";
export { mergedEvaluation, type MergedRun, MergeError, mergeShards } from "./merge.ts";
export * from "./score.ts";
