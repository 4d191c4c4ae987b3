/**
 * What the commands that score image files share: the number format, the help text on how
 * images are read, output files, folder listing, and the rows, lines and shard files of `dirs`
 * and `allpairs` (which `merge` prints too).
 *
 * @module
 */
import { writeFileAtomic } from "../_internal/atomic_write.ts";
import { writeFailure } from "../_internal/fs_errors.ts";
import { IMAGE_FILE_EXTENSIONS } from "../bappsloader/image.ts";
import type { LPIPS } from "../lpips/lpips.ts";
import { UsageError } from "./args.ts";
import { parseShard, type ShardSpec } from "../eval/shard.ts";
import {
  SHARD_FILE_VERSION,
  type ShardHeader,
  type ShardRow,
  writeShardFile,
} from "../eval/shard_file.ts";

/** A distance as the commands print it. */
export const fmt = (d: number) => d.toFixed(6);

/** How the commands read images. */
export const READING =
  "Images (PNG, JPEG, BMP, TIFF, WebP or GIF) are read as the reference's scripts do: decoded to\n" +
  "RGB8, then u/127.5 - 1.";

/** The \`--shard\` help of \`dirs\` and \`allpairs\`. */
export function shardUsage(items: string): string {
  return `  --shard K/N  compute only shard K of N (K from 0, e.g. $SLURM_ARRAY_TASK_ID/4): ${items},
               cut into N contiguous blocks; writes the shard's mergeable JSON Lines file to
               --out FILE (needed) and prints nothing; \`lpips merge\` of all N files prints
               what one run prints`;
}

/** Writes `bytes` to `path` via `path.part`; one-line errors. */
export function writeOutput(path: string, bytes: Uint8Array): Promise<void> {
  return writeFileAtomic(path, bytes, {
    onError: (p, e) => new UsageError(`${p}: cannot write (${writeFailure(e, p)})`),
  });
}

/** The image files of a folder (any case of {@link IMAGE_FILE_EXTENSIONS}), by name. */
export async function listImages(dir: string): Promise<string[]> {
  const names: string[] = [];
  const isImage = (name: string) =>
    IMAGE_FILE_EXTENSIONS.some((ext) => name.toLowerCase().endsWith(ext));
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && isImage(e.name)) names.push(e.name);
    }
  } catch (e) {
    throw new UsageError(`cannot read folder ${dir} (${e instanceof Error ? e.message : e})`);
  }
  return names.sort();
}

/** One result of `dirs`. */
export interface DirsRow {
  file: string;
  distance: number;
}

/** One result of `allpairs`. */
export interface AllpairsRow {
  a: string;
  b: string;
  distance: number;
}

/**
 * The line `dirs` prints for one file.
 *
 * @example
 * ```ts
 * import { dirsLine } from "./_images.ts";
 * console.log(dirsLine({ file: "a.png", distance: 0.25 })); // a.png: 0.250000
 * ```
 */
export function dirsLine(r: DirsRow): string {
  return `${r.file}: ${fmt(r.distance)}`;
}

/**
 * What `dirs` prints after its rows (the JSON array with `json`) and its `--out` text file.
 * Shared with `merge`.
 *
 * @example
 * ```ts
 * import { finishDirs } from "./_images.ts";
 * await finishDirs([{ file: "a.png", distance: 0.25 }], { json: true });
 * ```
 */
export async function finishDirs(
  rows: readonly DirsRow[],
  options: { json: boolean; out?: string },
): Promise<void> {
  if (options.json) console.log(JSON.stringify(rows));
  if (options.out) {
    await writeOutput(
      options.out,
      new TextEncoder().encode(rows.map((r) => `${dirsLine(r)}\n`).join("")),
    );
  }
}

/**
 * The line `allpairs` prints for one pair.
 *
 * @example
 * ```ts
 * import { allpairsLine } from "./_images.ts";
 * console.log(allpairsLine({ a: "a.png", b: "b.png", distance: 0.5 })); // a.png, b.png: 0.500000
 * ```
 */
export function allpairsLine(r: AllpairsRow): string {
  return `${r.a}, ${r.b}: ${fmt(r.distance)}`;
}

/**
 * What `allpairs` prints after its rows: the mean and its standard error (the reference's
 * `Avg:` line), or the whole JSON object with `json`. Shared with `merge`.
 *
 * @example
 * ```ts
 * import { finishAllpairs } from "./_images.ts";
 * finishAllpairs([{ a: "a.png", b: "b.png", distance: 0.5 }], false); // Avg: 0.50000 +/- 0.00000
 * ```
 */
export function finishAllpairs(rows: readonly AllpairsRow[], json: boolean): void {
  const ds = rows.map((r) => r.distance);
  const mean = ds.reduce((s, d) => s + d, 0) / ds.length;
  const std = Math.sqrt(ds.reduce((s, d) => s + (d - mean) ** 2, 0) / ds.length);
  const stderr = std / Math.sqrt(ds.length);
  if (json) console.log(JSON.stringify({ pairs: rows, mean, stderr }));
  else console.log(`Avg: ${mean.toFixed(5)} +/- ${stderr.toFixed(5)}`);
}

/** \`--shard K/N\` (then \`--out\` is needed and \`--json\` does not apply). */
export function shardOption(values: Record<string, unknown>): ShardSpec | undefined {
  if (values.shard === undefined) return undefined;
  let shard: ShardSpec;
  try {
    shard = parseShard(values.shard as string);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.out === undefined) {
    throw new UsageError("--shard K/N needs --out FILE (the shard's mergeable results)");
  }
  if (values.json) throw new UsageError("--json belongs to `lpips merge` of all shards");
  return shard;
}

export function pairsShardHeader(
  command: "dirs" | "allpairs",
  m: LPIPS,
  shard: ShardSpec,
  list: ShardHeader["lists"][number],
  inputs: ShardHeader["inputs"],
): ShardHeader {
  return {
    format: "lpips-shard",
    version: SHARD_FILE_VERSION,
    command,
    config: {
      net: m.net,
      version: m.version,
      lpips: m.lpips,
      engine: m.engine,
      backend: m.engine === "tfjs" ? m.backend : null,
    },
    shard,
    lists: [list],
    inputs,
  };
}

export async function writeShard(
  out: string,
  header: ShardHeader,
  rows: readonly (DirsRow | AllpairsRow)[],
  start: number,
  command: string,
): Promise<void> {
  const list = header.lists[0].name;
  const lines: ShardRow[] = rows.map((r, i) => ({ list, index: start + i, ...r }));
  try {
    await writeShardFile(out, header, lines);
  } catch (e) {
    throw new UsageError(`cannot write ${out} (${e instanceof Error ? e.message : e})`);
  }
  const { index, count } = header.shard;
  console.error(`lpips ${command}: wrote ${out} (shard ${index}/${count}, ${rows.length} items)`);
}
