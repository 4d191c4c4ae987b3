/**
 * Output paths checked before a run starts, so that an evaluation or a training never ends, after
 * all its work, in a write that cannot happen: the target is not a folder (nor a FIFO or device),
 * its folder exists and can be written to, and no two outputs of one run are one file. The
 * messages read `PATH: cannot write (REASON)`, as the write itself would have failed.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { writeFailure } from "./fs_errors.ts";

/** An output that cannot be written; the message is one line naming the path. */
export class OutputPathError extends Error {
  /** Always `"OutputPathError"`. */
  override name = "OutputPathError";
}

async function info(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (e) {
    // A missing path, or one under a file (ENOTDIR): the folder check below names the cause.
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw new OutputPathError(`${path}: cannot write (${writeFailure(e, path)})`);
  }
}

/** Throws unless a file can be created in the folder `dir` (it exists, and a probe file can be made). */
async function checkWritableFolder(path: string, dir: string): Promise<void> {
  const d = await info(dir);
  if (d === undefined) throw new OutputPathError(`${path}: cannot write (no such folder ${dir})`);
  if (!d.isDirectory) {
    throw new OutputPathError(`${path}: cannot write (${dir} is a file, not a folder)`);
  }
  let probe: string | undefined;
  try {
    probe = await Deno.makeTempFile({ dir, prefix: ".lpips-write-probe-" });
  } catch (e) {
    throw new OutputPathError(`${path}: cannot write (${writeFailure(e)} in ${dir})`);
  } finally {
    if (probe !== undefined) await Deno.remove(probe).catch(() => {});
  }
}

/**
 * Checks that each of `paths` can be written as a file (see the module doc) and that no two name
 * the same file; throws {@link OutputPathError} otherwise.
 *
 * @example
 * ```ts
 * import { checkOutputFiles } from "./output_path.ts";
 * await checkOutputFiles(["/tmp"]).catch((e) => console.log(e.message));
 * // /tmp: cannot write (it is a folder)
 * ```
 */
export async function checkOutputFiles(paths: readonly string[]): Promise<void> {
  const seen = new Map<string, string>();
  for (const path of paths) {
    const full = resolve(path);
    const other = seen.get(full);
    if (other !== undefined) {
      throw new OutputPathError(
        `${path}: cannot write (${
          other === path
            ? "two outputs of this run would be this one file"
            : `the same file as ${other}`
        })`,
      );
    }
    seen.set(full, path);
    const target = await info(path);
    if (target?.isDirectory) throw new OutputPathError(`${path}: cannot write (it is a folder)`);
    if (target !== undefined && !target.isFile) {
      throw new OutputPathError(`${path}: cannot write (it is not a regular file)`);
    }
    await checkWritableFolder(path, dirname(path));
  }
}

/**
 * Checks that `dir` is, or can be made as, a folder to write files in: it is a folder that can be
 * written to, or its nearest existing ancestor is. Throws {@link OutputPathError} otherwise.
 *
 * @example
 * ```ts
 * import { checkOutputFolder } from "./output_path.ts";
 * await checkOutputFolder("/tmp/lpips-example/run"); // fine: /tmp can be written to
 * ```
 */
export async function checkOutputFolder(dir: string): Promise<void> {
  let at = dir;
  for (;;) {
    const i = await info(at);
    if (i !== undefined) {
      if (!i.isDirectory) {
        throw new OutputPathError(
          `${dir}: cannot write (${at === dir ? "it is a file" : `${at} is a file`}, not a folder)`,
        );
      }
      return await checkWritableFolder(dir, at);
    }
    const up = dirname(at);
    if (up === at) return;
    at = up;
  }
}
