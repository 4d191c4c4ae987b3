/**
 * The pieces of an HTTP download shared by the weight files and the BAPPS archives: writing a
 * response's chunks, hashing what arrived, and wording a failed fetch in one short clause.
 *
 * @module
 */

/** Short reason for a fetch/stream failure (the cause where fetch wraps it). */
export function fetchFailure(e: unknown): string {
  const inner = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  const msg = inner instanceof Error ? inner.message : String(inner);
  return msg.replace(/^error sending request for url \([^)]*\): /, "");
}

/** Writes all of `chunk` to `f`. */
export async function writeAll(f: Deno.FsFile, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.length) off += await f.write(chunk.subarray(off));
}

/**
 * Lower-case hex SHA-256 of some bytes (WebCrypto).
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./http_download.ts";
 * console.log(await sha256Hex(new Uint8Array())); // e3b0c442...b855
 * ```
 */
export async function sha256Hex(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  // WebCrypto refuses views of shared memory; copy those.
  const source = view.buffer instanceof ArrayBuffer
    ? view as Uint8Array<ArrayBuffer>
    : new Uint8Array(view);
  const digest = await crypto.subtle.digest("SHA-256", source);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
