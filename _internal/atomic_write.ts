/**
 * Writing files so that no reader ever sees half of one: each file goes to `NAME.part` first and
 * is renamed to `NAME` once complete (a rename within one folder is atomic). On a failure the
 * `.part` files are removed and whatever was under the final names stays as it was.
 *
 * @module
 */
import { dirname } from "node:path";

/**
 * The temporary name a file is written under until it is complete.
 *
 * @example
 * ```ts
 * import { partPath } from "./atomic_write.ts";
 * console.log(partPath("out/shard-0.jsonl")); // out/shard-0.jsonl.part
 * ```
 */
export function partPath(path: string): string {
  return `${path}.part`;
}

/** Options of {@link writeFilesAtomic}. */
export interface AtomicWriteOptions {
  /** Create each file's folder first. */
  mkdir?: boolean;
  /**
   * Told of each `.part` file before it is written and after it is gone (renamed or removed), so
   * that an interrupt handler can remove what is still being written.
   */
  parts?: Set<string>;
  /** Turns a failed write of one file into the error thrown (default: the error itself). */
  onError?: (path: string, e: unknown) => Error;
}

/**
 * Writes a set of files so that the set is replaced whole or not at all: every file is written
 * to its `.part` name, and only when all are written are they renamed, one after another without
 * yielding to the event loop (so a signal handler cannot run between two renames).
 *
 * @example
 * ```ts
 * import { writeFilesAtomic } from "./atomic_write.ts";
 * await writeFilesAtomic([["a.txt", "one\n"], ["b.txt", new Uint8Array([1, 2])]]);
 * ```
 */
export async function writeFilesAtomic(
  files: readonly (readonly [string, Uint8Array | string])[],
  opts: AtomicWriteOptions = {},
): Promise<void> {
  const written: string[] = [];
  try {
    for (const [path, data] of files) {
      const part = partPath(path);
      try {
        if (opts.mkdir) await Deno.mkdir(dirname(path), { recursive: true });
        opts.parts?.add(part);
        written.push(part);
        if (typeof data === "string") await Deno.writeTextFile(part, data);
        else await Deno.writeFile(part, data);
      } catch (e) {
        throw opts.onError ? opts.onError(path, e) : e;
      }
    }
    for (const [path] of files) Deno.renameSync(partPath(path), path);
  } finally {
    for (const part of written) {
      try {
        Deno.removeSync(part);
      } catch {
        // renamed
      }
      opts.parts?.delete(part);
    }
  }
}

/**
 * Writes one file via its `.part` name (see {@link writeFilesAtomic}).
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic_write.ts";
 * await writeFileAtomic("map.png", new Uint8Array([137, 80, 78, 71]));
 * ```
 */
export function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  return writeFilesAtomic([[path, data]], opts);
}
