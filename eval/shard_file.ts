/**
 * The mergeable result file of a sharded run (`--shard K/N --out FILE`), read by `lpips merge`.
 *
 * JSON Lines, UTF-8:
 * 1. a header object: `format: "lpips-shard"`, `version: 2`, `command` (`eval`, `dirs` or
 *    `allpairs`), `config` (everything that decides the numbers: mode, model, net, version,
 *    colorspace, datasets, batch size, engine, ...; shards of one run have equal configs),
 *    `shard` `{index, count}`, `lists` (per dataset or file list: `name`, `total` items in the whole
 *    list, this shard's `[start, end)`, and `files`, a SHA-256 of the whole sorted file list) and
 *    `inputs` (where the data was read from; informative, not compared);
 * 2. one object per item, in list order: `list`, `index` (the item's index in the whole sorted
 *    list) and its values (eval 2AFC: `d0 d1 judge paths{ref,p0,p1,judge}`; JND:
 *    `d same paths{p0,p1,same}`; dirs: `file distance`; allpairs: `a b distance`);
 * 3. an end line `{"end": true, "items": N, "sha256": HEX}`: the SHA-256 of every byte before it
 *    (the header, so the configuration, and every item line).
 *
 * **Integrity.** {@link parseShardFile} recomputes the digest and refuses a file whose bytes
 * changed after it was written: an edited number, a dropped, added or reordered line, lines
 * spliced in from another file. It guards against accidents (a bad copy, a truncated transfer, a
 * hand edit) and against results changed unnoticed; it is not a signature (whoever edits a file
 * can recompute the digest). Every value is also checked against its domain (distances finite
 * and >= 0, judgements in [0, 1]). Files of version 1 (no digest) are refused: re-run the shard.
 *
 * Numbers are written as JSON numbers, the shortest decimal that reads back to the same float64,
 * so float32 distances and judgements round-trip exactly. The file is
 * written to `FILE.part` and renamed to `FILE` once complete: a file under the final name is
 * always whole.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readFailure } from "../_internal/fs_errors.ts";
import { readRegularFile } from "../_internal/read_file.ts";
import { writeFileAtomic } from "../_internal/atomic_write.ts";
import type { ShardSpec } from "./shard.ts";

/** The commands whose runs can be sharded. */
export type ShardCommand = "eval" | "dirs" | "allpairs";

/** A configuration value (compared between shards with `===`, lists element by element). */
export type ConfigValue = string | number | boolean | null | readonly string[];

/** One dataset or file list of a shard file. */
export interface ShardList {
  name: string;
  /** Items in the whole list. */
  total: number;
  /** This shard's items `[start, end)`. */
  start: number;
  end: number;
  /** SHA-256 of the whole list's file names (see `fileListHash`). */
  files: string;
}

/** The first line of a shard file. */
export interface ShardHeader {
  format: "lpips-shard";
  /** The format's version: 2 (with the end line's digest). */
  version: 2;
  command: ShardCommand;
  config: Record<string, ConfigValue>;
  shard: ShardSpec;
  lists: ShardList[];
  inputs: Record<string, ConfigValue>;
}

/** One item line: its list, its index in the whole list, and its values. */
export interface ShardRow {
  list: string;
  index: number;
  [value: string]: unknown;
}

/** A parsed shard file. */
export interface ShardFile {
  path: string;
  header: ShardHeader;
  rows: ShardRow[];
}

/** A file that is not a complete, well-formed shard file; the message names the file. */
export class ShardFileError extends Error {
  override name = "ShardFileError";
}

/**
 * A shard file's text: header, one line per row, end line.
 *
 * @example
 * ```ts
 * import { shardFileText } from "./shard_file.ts";
 * const text = shardFileText({
 *   format: "lpips-shard", version: 2, command: "dirs", config: { net: "alex" },
 *   shard: { index: 0, count: 1 }, inputs: {},
 *   lists: [{ name: "files", total: 1, start: 0, end: 1, files: "..." }],
 * }, [{ list: "files", index: 0, file: "a.png", distance: 0.25 }]);
 * console.log(text.split("\n").length); // 4 (3 lines and a final newline)
 * ```
 */
export function shardFileText(header: ShardHeader, rows: readonly ShardRow[]): string {
  const lines = [JSON.stringify(header)];
  for (const r of rows) lines.push(JSON.stringify(r));
  const body = lines.join("\n") + "\n";
  return body + JSON.stringify({ end: true, items: rows.length, sha256: sha256Hex(body) }) + "\n";
}

/** The current version of the format (see the module doc). */
export const SHARD_FILE_VERSION = 2;

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The value fields of each command's rows and their domain (see the module doc). */
const ROW_VALUES: Record<string, Record<string, "distance" | "fraction">> = {
  "eval:2afc": { d0: "distance", d1: "distance", judge: "fraction" },
  "eval:jnd": { d: "distance", same: "fraction" },
  dirs: { distance: "distance" },
  allpairs: { distance: "distance" },
};

/**
 * Writes a shard file: to `path.part` first, renamed to `path` once written.
 *
 * @example
 * ```ts
 * import { writeShardFile } from "./shard_file.ts";
 * await writeShardFile("shard-0.jsonl", {
 *   format: "lpips-shard", version: 2, command: "dirs", config: {},
 *   shard: { index: 0, count: 1 }, inputs: {},
 *   lists: [{ name: "files", total: 0, start: 0, end: 0, files: "" }],
 * }, []);
 * ```
 */
export async function writeShardFile(
  path: string,
  header: ShardHeader,
  rows: readonly ShardRow[],
): Promise<void> {
  await writeFileAtomic(path, shardFileText(header, rows));
}

/**
 * Parses and checks a shard file's text: header fields, every row inside its list's
 * `[start, end)` range exactly once and in order, and the end line.
 *
 * @example
 * ```ts
 * import { parseShardFile, shardFileText } from "./shard_file.ts";
 * const f = parseShardFile("s.jsonl", shardFileText({
 *   format: "lpips-shard", version: 2, command: "dirs", config: {},
 *   shard: { index: 0, count: 1 }, inputs: {},
 *   lists: [{ name: "files", total: 1, start: 0, end: 1, files: "" }],
 * }, [{ list: "files", index: 0, file: "a.png", distance: 0.5 }]));
 * console.log(f.rows[0].distance); // 0.5
 * ```
 */
export function parseShardFile(path: string, text: string): ShardFile {
  const fail = (what: string): never => {
    throw new ShardFileError(`${path}: ${what}`);
  };
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const json = (line: string, n: number): Record<string, unknown> => {
    try {
      const v = JSON.parse(line);
      if (v && typeof v === "object" && !Array.isArray(v)) return v;
    } catch {
      // reported below
    }
    return fail(`line ${n} is not a JSON object`);
  };
  if (lines.length === 0) fail("empty file, not an lpips shard file");
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(lines[0]);
  } catch {
    return fail("not an lpips shard file (written by --shard K/N --out FILE)");
  }
  if (header?.format !== "lpips-shard") {
    fail("not an lpips shard file (written by --shard K/N --out FILE)");
  }
  if (header.version === 1) {
    fail("shard file version 1 has no digest of its items and is no longer read: re-run the shard");
  }
  if (header.version !== SHARD_FILE_VERSION) {
    fail(`shard file version ${header.version} is not supported`);
  }
  if (!["eval", "dirs", "allpairs"].includes(header.command as string)) {
    fail(`unknown command ${JSON.stringify(header.command)}`);
  }
  const shard = header.shard as ShardSpec | undefined;
  if (
    !shard || !Number.isInteger(shard.count) || !Number.isInteger(shard.index) ||
    shard.index < 0 || shard.index >= shard.count
  ) fail("bad shard field in the header");
  const lists = header.lists as ShardList[] | undefined;
  if (!Array.isArray(lists) || lists.length === 0) fail("no lists in the header");
  for (const l of lists!) {
    if (
      typeof l?.name !== "string" || !Number.isInteger(l.total) || !Number.isInteger(l.start) ||
      !Number.isInteger(l.end) || !(0 <= l.start && l.start <= l.end && l.end <= l.total)
    ) fail(`bad list entry ${JSON.stringify(l)} in the header`);
  }
  if (typeof header.config !== "object" || header.config === null) fail("no config in the header");
  const last = lines.length > 1 ? json(lines.at(-1)!, lines.length) : undefined;
  if (last?.end !== true) fail("truncated (no end line): was the run interrupted?");
  const body = lines.slice(0, -1).join("\n") + "\n";
  if (typeof last!.sha256 !== "string" || sha256Hex(body) !== last!.sha256) {
    fail(
      "its items or header were changed after it was written (the SHA-256 in its end line " +
        "does not match its content): re-run the shard",
    );
  }
  const mode = header.command === "eval"
    ? (header.config as Record<string, unknown>).dataset_mode
    : "";
  const domains = ROW_VALUES[header.command === "eval" ? `eval:${mode}` : header.command as string];
  if (!domains) fail(`unknown dataset_mode ${JSON.stringify(mode)} in the config`);
  const rows: ShardRow[] = [];
  const byName = new Map(lists!.map((l) => [l.name, l]));
  const next = new Map(lists!.map((l) => [l.name, l.start]));
  for (let i = 1; i < lines.length - 1; i++) {
    const r = json(lines[i], i + 1) as ShardRow;
    const l = byName.get(r.list);
    if (!l) fail(`line ${i + 1}: unknown list ${JSON.stringify(r.list)}`);
    if (r.index !== next.get(r.list)) {
      fail(
        `line ${i + 1}: item ${r.index} of ${r.list} out of place (expected item ${
          next.get(r.list)
        } of shard ${shard!.index}/${shard!.count}, items ${l!.start} to ${l!.end - 1})`,
      );
    }
    for (const [key, domain] of Object.entries(domains!)) {
      const v = r[key];
      const ok = typeof v === "number" &&
        (domain === "distance" ? v >= 0 && v < Infinity : v >= 0 && v <= 1);
      if (!ok) {
        fail(
          `line ${i + 1}: ${key} is ${typeof v === "number" ? v : JSON.stringify(v)}; ` +
            (domain === "distance" ? "a distance is a finite number >= 0" : "it must be in [0, 1]"),
        );
      }
    }
    next.set(r.list, r.index + 1);
    rows.push(r);
  }
  if (last!.items !== rows.length) {
    fail(`end line says ${last!.items} items, the file holds ${rows.length}`);
  }
  for (const l of lists!) {
    if (next.get(l.name) !== l.end) {
      fail(`${l.name}: items ${next.get(l.name)} to ${l.end - 1} missing`);
    }
  }
  return { path, header: header as unknown as ShardHeader, rows };
}

/**
 * Reads and checks a shard file (see {@link parseShardFile}).
 *
 * @example
 * ```ts
 * import { readShardFile } from "./shard_file.ts";
 * const f = await readShardFile("shard-0.jsonl");
 * console.log(f.header.shard, f.rows.length);
 * ```
 */
export async function readShardFile(path: string): Promise<ShardFile> {
  let text: string;
  try {
    text = new TextDecoder().decode(await readRegularFile(path));
  } catch (e) {
    throw new ShardFileError(`${path}: cannot read (${readFailure(e)})`);
  }
  return parseShardFile(path, text);
}

/**
 * A row's number, `null` (NaN written as JSON) read back as NaN.
 *
 * @example
 * ```ts
 * import { rowNumber } from "./shard_file.ts";
 * console.log(rowNumber(0.25), rowNumber(null)); // 0.25 NaN
 * ```
 */
export function rowNumber(v: unknown): number {
  return v === null ? NaN : Number(v);
}
