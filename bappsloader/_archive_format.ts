/**
 * Which container a downloaded BAPPS archive is, from its first bytes rather than its name: the
 * `*.tar.gz` files on the server may be plain tar (docs/algorithm.md §3). gzip starts with the
 * magic `1f 8b` (RFC 1952); a POSIX or GNU tar header has `ustar` at offset 257.
 *
 * @module
 */

/** How an archive's bytes are to be read: gunzipped, then untarred; or untarred as they are. */
export type ArchiveFormat = "gzip" | "tar";

/** How many leading bytes {@link archiveFormat} looks at. */
export const SNIFF_BYTES = 262;

const USTAR = [0x75, 0x73, 0x74, 0x61, 0x72]; // "ustar"

/**
 * The format of an archive that starts with `head` (its first {@link SNIFF_BYTES} bytes, fewer
 * if the file is shorter), or `undefined` when it is neither gzip nor tar.
 *
 * @example
 * ```ts
 * import { archiveFormat } from "./_archive_format.ts";
 * archiveFormat(new Uint8Array([0x1f, 0x8b, 8, 0])); // "gzip"
 * ```
 */
export function archiveFormat(head: Uint8Array): ArchiveFormat | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 262 && USTAR.every((b, i) => head[257 + i] === b)) return "tar";
  return undefined;
}

/** Other formats that turn up instead of an archive, by their magic bytes. */
const MAGICS: readonly [readonly number[], string][] = [
  [[0x50, 0x4b, 0x03, 0x04], "a zip archive"],
  [[0x42, 0x5a, 0x68], "a bzip2 stream"],
  [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], "an xz stream"],
  [[0x28, 0xb5, 0x2f, 0xfd], "a zstd stream"],
];

/** Pages that a server sends instead of a file, by their start. */
const PAGES: readonly [RegExp, string][] = [
  [/^\s*<(!doctype html|html|head|body)\b/i, "HTML"],
  [/^\s*<\?xml/i, "XML, e.g. a server's error page"],
];

/**
 * Why `head` is not an archive, in one line for an error message: its first bytes in hex and,
 * where they are recognisable, what the file looks like.
 *
 * @example
 * ```ts
 * import { notAnArchive } from "./_archive_format.ts";
 * notAnArchive(new TextEncoder().encode("<!DOCTYPE html>"));
 * // "not a gzip or tar archive (starts with 3c 21 44 4f: looks like HTML)"
 * ```
 */
export function notAnArchive(head: Uint8Array): string {
  if (head.length === 0) return "not a gzip or tar archive (the file is empty)";
  const hex = Array.from(head.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
  const start = String.fromCharCode(...head.subarray(0, 64));
  const known = MAGICS.find(([m]) => m.every((b, i) => head[i] === b))?.[1] ??
    PAGES.find(([re]) => re.test(start))?.[1] ??
    (isText(head) ? "text" : undefined);
  return `not a gzip or tar archive (starts with ${hex}${known ? `: looks like ${known}` : ""})`;
}

/** Whether the bytes are printable ASCII and common whitespace (or UTF-8 beyond ASCII). */
function isText(head: Uint8Array): boolean {
  return head.every((b) => b >= 0x20 || b === 0x09 || b === 0x0a || b === 0x0d);
}
