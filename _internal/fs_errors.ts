/**
 * File-system errors in words: the cause as a short clause, without the OS error's repetition of
 * the path, for one-line messages such as `map.npy: cannot write (no space left on device)`.
 *
 * @module
 */
import { dirname } from "node:path";
import { InputFileError } from "./read_file.ts";

const code = (e: unknown) => (e as { code?: string }).code;

const denied = (e: unknown) =>
  e instanceof Deno.errors.PermissionDenied || code(e) === "EACCES" || code(e) === "EPERM";

/** The error's own text, less a trailing `: open '/the/path'`. */
function osText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/: \w+ '.*'$/, "");
}

/**
 * Why a file could not be read.
 *
 * @example
 * ```ts
 * import { readFailure } from "./fs_errors.ts";
 * await Deno.readFile("/no/such/file").catch((e) => console.log(readFailure(e))); // no such file
 * ```
 */
export function readFailure(e: unknown): string {
  if (e instanceof InputFileError) return e.message;
  if (e instanceof Deno.errors.NotFound || code(e) === "ENOENT") return "no such file";
  if (e instanceof Deno.errors.IsADirectory || code(e) === "EISDIR") {
    return "it is a folder, not a file";
  }
  if (denied(e)) return "permission denied";
  return osText(e);
}

/**
 * Why a file could not be written; `path` names the missing folder when there is one.
 *
 * @example
 * ```ts
 * import { writeFailure } from "./fs_errors.ts";
 * await Deno.writeFile("/no/such/x.npy", new Uint8Array())
 *   .catch((e) => console.log(writeFailure(e, "/no/such/x.npy"))); // no such folder /no/such
 * ```
 */
export function writeFailure(e: unknown, path?: string): string {
  if (e instanceof Deno.errors.NotFound || code(e) === "ENOENT") {
    return path === undefined ? "no such folder" : `no such folder ${dirname(path)}`;
  }
  if (code(e) === "ENOSPC") return "no space left on device";
  if (code(e) === "EDQUOT") return "disk quota exceeded";
  if (denied(e)) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory || code(e) === "EISDIR") return "it is a folder";
  return osText(e);
}
