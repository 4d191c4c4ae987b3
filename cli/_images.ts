/**
 * What the commands that score image files share: the number format, the help text on how
 * images are read, output files, folder listing, scoring pairs of files, and the rows, lines and
 * shard files of `dirs` and `allpairs` (which `merge` prints too).
 *
 * @module
 */
import { writeFileAtomic } from "../_internal/atomic_write.ts";
import { writeFailure } from "../_internal/fs_errors.ts";
import {
  IMAGE_FILE_EXTENSIONS,
  ImageDecodeError,
  type ImageTensor,
  loadImage,
} from "../bappsloader/image.ts";
import type { LPIPS } from "../lpips/lpips.ts";
import type { Metric } from "../metrics/contract.ts";
import { InputError } from "../lpips/validate.ts";
import { UsageError } from "./args.ts";
import type { OptionHelp } from "./help.ts";
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
  "Images (PNG, JPEG, BMP, TIFF, WebP or GIF) are read as the reference's scripts do: decoded to " +
  "RGB8, then u/127.5 - 1.";

/** The `--out` and `--shard` help of `dirs` and `allpairs`: the same rule for both. */
export function outShardHelp(items: string): OptionHelp[] {
  return [
    ["--out FILE", "also write the lines printed without --json to FILE"],
    [
      "--shard K/N",
      `compute only shard K of N (K from 0, e.g. $SLURM_ARRAY_TASK_ID/4): ${items}, cut into ` +
      "N contiguous blocks; writes the shard's mergeable JSON Lines file to --out FILE " +
      "(needed) instead, and prints nothing; `lpips merge` of all N files prints what one run " +
      "prints",
    ],
  ];
}

/** How `dirs` and `allpairs` go on when a pair fails (their help text). */
export const PAIR_FAILURES =
  "A pair that cannot be scored (a file that cannot be read or decoded, images of different " +
  "sizes) is named on stderr and the other pairs go on; the lines of the pairs that were scored " +
  'are printed (--json: the failed ones with "distance": null and "error"), then "N of M pairs ' +
  'failed" ends the run with exit status 1, and no mean, --out file or shard file is written.';

/**
 * Scores `pairs` of image files in order: a pair whose files cannot be read or decoded, differ
 * in size, or do not suit the net is reported on stderr (`<prefix>: <why>`, naming both files)
 * and skipped; every other error stops the run. `onScore` gets each pair's index and distance (or
 * error message) as soon as it is known. Returns the number of failed pairs.
 */
export async function scorePairs(
  score: PairScore,
  pairs: readonly (readonly [string, string])[],
  prefix: string,
  onScore: (index: number, distance: number | null, error?: string) => void,
): Promise<number> {
  // allpairs meets a file in two consecutive pairs (or many with --all-pairs): each file is
  // decoded once and kept until its last pair.
  const lastUse = new Map<string, number>();
  pairs.forEach(([a, b], i) => lastUse.set(a, i).set(b, i));
  const cache = new Map<string, Promise<ImageTensor>>();
  const load = (path: string) => {
    if (!cache.has(path)) cache.set(path, loadImage(path));
    return cache.get(path)!;
  };
  let failed = 0;
  for (const [i, [a, b]] of pairs.entries()) {
    let distance: number;
    try {
      const both = Promise.all([load(a), load(b)]);
      for (const path of [a, b]) if (lastUse.get(path) === i) cache.delete(path);
      const [x, y] = await both;
      const size = (t: ImageTensor) => `${t.shape[3]}x${t.shape[2]}`;
      if (size(x) !== size(y)) {
        throw new InputError(`${a} (${size(x)}) and ${b} (${size(y)}) differ in size`);
      }
      try {
        distance = await score(x, y);
      } catch (e) {
        if (e instanceof InputError) throw new InputError(`${a} and ${b}: ${e.message}`);
        throw e;
      }
    } catch (e) {
      if (!(e instanceof ImageDecodeError || e instanceof InputError)) throw e;
      const pair = e instanceof ImageDecodeError ? `; pair ${a}, ${b} skipped` : "";
      const message = e.message.split("\n")[0] + pair;
      console.error(`${prefix}: ${message}`);
      failed++;
      onScore(i, null, message);
      continue;
    }
    onScore(i, distance, undefined);
  }
  return failed;
}

/**
 * The value of one pair of images in {@linkcode scorePairs}; an `InputError` skips the pair
 * (images the metric cannot take), any other error ends the run.
 */
export type PairScore = (a: ImageTensor, b: ImageTensor) => Promise<number>;

/** {@linkcode PairScore} of an LPIPS model: its distance. */
export function lpipsPairScore(m: LPIPS): PairScore {
  return async (a, b) => (await m.distance(a, b))[0];
}

/**
 * {@linkcode PairScore} of a registered metric: its score; the images it refuses (MS-SSIM under
 * 176 px, ...) are skipped like those LPIPS refuses.
 */
export function metricPairScore(m: Metric): PairScore {
  return async (a, b) => {
    try {
      return (await m.scores(a, b))[0];
    } catch (e) {
      if (e instanceof RangeError) throw new InputError(e.message);
      throw e;
    }
  };
}

/**
 * The error that ends a run in which `failed` of `total` pairs failed, saying what was not
 * written (`x.txt not written`), if anything.
 */
export function pairsFailed(failed: number, total: number, skipped?: string): UsageError {
  const s = total === 1 ? "" : "s";
  return new UsageError(
    `${failed} of ${total} pair${s} failed (named above)${skipped ? `; ${skipped}` : ""}`,
  );
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

/** One result of `dirs` (`distance: null` and `error` for a pair that failed). */
export interface DirsRow {
  file: string;
  /** The distance (LPIPS's, or a metric's `toDistance` of its score). */
  distance: number | null;
  /** With `--metric` other than lpips: the score as the metric's authors print it. */
  score?: number | null;
  error?: string;
}

/** One result of `allpairs` (`distance: null` and `error` for a pair that failed). */
export interface AllpairsRow {
  a: string;
  b: string;
  /** The distance (LPIPS's, or a metric's `toDistance` of its score). */
  distance: number | null;
  /** With `--metric` other than lpips: the score as the metric's authors print it. */
  score?: number | null;
  error?: string;
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
  return `${r.file}: ${fmt(r.score ?? r.distance!)}`;
}

/**
 * What `dirs` prints after its rows (the JSON array with `json`) and its `--out` text file (the
 * lines it prints). Shared with `merge`.
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
  if (options.out) await writeText(options.out, rows.map(dirsLine));
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
  return `${r.a}, ${r.b}: ${fmt(r.score ?? r.distance!)}`;
}

/**
 * What `allpairs` prints after its rows: the mean and its standard error of the printed values
 * (the distances; the scores with a `--metric` other than lpips) (the reference's
 * `Avg:` line), or the whole JSON object with `json` (`mean` and `stderr` null when a pair
 * failed); with `out`, the pair lines and the `Avg:` line go to that file too. Shared with `merge`.
 *
 * @example
 * ```ts
 * import { finishAllpairs } from "./_images.ts";
 * await finishAllpairs([{ a: "a.png", b: "b.png", distance: 0.5 }], { json: false });
 * // Avg: 0.50000 +/- 0.00000
 * ```
 */
export async function finishAllpairs(
  rows: readonly AllpairsRow[],
  options: { json: boolean; out?: string },
): Promise<void> {
  const ds = rows.map((r) => r.score === undefined ? r.distance : r.score);
  const complete = ds.every((d) => d !== null);
  let avg: string | undefined, mean = null, stderr = null;
  if (complete) {
    const n = ds.length;
    mean = (ds as number[]).reduce((s, d) => s + d, 0) / n;
    const std = Math.sqrt((ds as number[]).reduce((s, d) => s + (d - mean!) ** 2, 0) / n);
    stderr = std / Math.sqrt(n);
    avg = `Avg: ${mean.toFixed(5)} +/- ${stderr.toFixed(5)}`;
  }
  if (options.json) console.log(JSON.stringify({ pairs: rows, mean, stderr }));
  else if (avg) console.log(avg);
  if (options.out) await writeText(options.out, [...rows.map(allpairsLine), avg!]);
}

/** Writes `lines` (each ended by a newline) to `path`, via `path.part`. */
function writeText(path: string, lines: string[]): Promise<void> {
  return writeOutput(path, new TextEncoder().encode(lines.map((l) => `${l}\n`).join("")));
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
