/**
 * Reading an input file with its cost bounded before the read: the path must name a regular file
 * (a folder, FIFO, device or socket is refused after a `stat`, never opened, so `/dev/zero` is
 * not read forever and a FIFO does not block), its first bytes can be checked before the rest is
 * read (a 3 GB file that is not an image is refused after its header), and its size is held to a
 * limit. The file is read through one handle into a buffer of the size `stat` reported, so a file
 * that grows meanwhile cannot make the read grow with it. docs/faults.md lists the messages.
 *
 * @module
 */

/** Why an input file was refused before it was read; the message is a clause (see the module doc). */
export class InputFileError extends Error {
  /** Always `"InputFileError"`. */
  override name = "InputFileError";
}

/** Options of {@link readRegularFile}. */
export interface ReadRegularFileOptions {
  /** The most bytes the file may hold. */
  maxBytes?: number;
  /** What the file is, for the size message (`"an image"`, `"a weight file"`). */
  what?: string;
  /**
   * Checks the file's first `headBytes` bytes (fewer if the file is shorter) and its size before
   * the rest is read; throws to refuse it, or returns how many bytes to read (the rest is then
   * left unread, as a format whose header declares its length allows).
   */
  checkHead?: (head: Uint8Array, size: number) => number | void;
  /** How many bytes {@link ReadRegularFileOptions.checkHead} sees (default 65536). */
  headBytes?: number;
  /**
   * Read with blocking calls (Deno's `*Sync` file calls; default: as {@link useBlockingReads} set
   * this thread, else false).
   */
  blocking?: boolean;
}

let blockingReads = false;

/**
 * Makes this thread's file reads use blocking calls from now on: cheaper for small files on a
 * thread that has nothing else to do while it reads, as a worker that loads images (each
 * asynchronous call is a round trip to another thread, four per file). The decode and scoring
 * workers call it once, at start.
 *
 * @example
 * ```ts ignore
 * import { useBlockingReads } from "./read_file.ts";
 * useBlockingReads(); // in a worker's entry module
 * ```
 */
export function useBlockingReads(): void {
  blockingReads = true;
}

/** What a non-regular file is, in words. */
function kind(info: Deno.FileInfo): string | undefined {
  if (info.isFile) return undefined;
  if (info.isDirectory) return "it is a folder, not a file";
  if (info.isFifo) return "it is a FIFO (named pipe), not a regular file";
  if (info.isCharDevice) return "it is a character device, not a regular file";
  if (info.isBlockDevice) return "it is a block device, not a regular file";
  if (info.isSocket) return "it is a socket, not a regular file";
  return "it is not a regular file";
}

/**
 * Throws {@link InputFileError} unless `path` names a regular file (after following links);
 * returns its size. Errors from `stat` itself (no such file, permission denied) are passed on.
 *
 * @example
 * ```ts
 * import { statRegularFile } from "./read_file.ts";
 * await statRegularFile("/dev/zero").catch((e) => console.log(e.message));
 * // it is a character device, not a regular file
 * ```
 */
export async function statRegularFile(path: string): Promise<number> {
  return regularSize(await Deno.stat(path));
}

/** The size of a regular file; {@link InputFileError} for anything else. */
function regularSize(info: Deno.FileInfo): number {
  const why = kind(info);
  if (why) throw new InputFileError(why);
  return info.size;
}

/**
 * Reads a regular file whole, after the checks of the module doc.
 *
 * @example
 * ```ts
 * import { readRegularFile } from "./read_file.ts";
 * await Deno.writeTextFile("/tmp/read_file_example.txt", "hello");
 * const bytes = await readRegularFile("/tmp/read_file_example.txt", { maxBytes: 1 << 20 });
 * console.log(bytes.length); // 5
 * ```
 */
export async function readRegularFile(
  path: string,
  opts: ReadRegularFileOptions = {},
): Promise<Uint8Array> {
  const blocking = opts.blocking ?? blockingReads;
  const size = blocking ? regularSize(Deno.statSync(path)) : await statRegularFile(path);
  using file = blocking ? Deno.openSync(path) : await Deno.open(path);
  // The path may have been replaced between stat and open: check what was opened.
  let total = Math.min(size, regularSize(blocking ? file.statSync() : await file.stat()));
  if (opts.checkHead) {
    const head = new Uint8Array(Math.min(total, opts.headBytes ?? 65536));
    const got = await readFully(file, head, blocking);
    const wanted = opts.checkHead(head.subarray(0, got), total);
    if (typeof wanted === "number") total = Math.min(total, wanted);
    // A small file is whole in its head: it is not read twice.
    if (total <= got) return head.subarray(0, total);
    if (blocking) file.seekSync(0, Deno.SeekMode.Start);
    else await file.seek(0, Deno.SeekMode.Start);
  }
  if (opts.maxBytes !== undefined && total > opts.maxBytes) {
    throw new InputFileError(
      `it has ${total} bytes, over the limit of ${opts.maxBytes} for ${opts.what ?? "this file"}`,
    );
  }
  const bytes = new Uint8Array(total);
  const got = await readFully(file, bytes, blocking);
  return got === total ? bytes : bytes.subarray(0, got);
}

/** Fills `buf` from `file` (fewer bytes only at the end of the file); returns how many were read. */
async function readFully(file: Deno.FsFile, buf: Uint8Array, blocking: boolean): Promise<number> {
  let at = 0;
  while (at < buf.length) {
    const n = blocking ? file.readSync(buf.subarray(at)) : await file.read(buf.subarray(at));
    if (n === null) break;
    at += n;
  }
  return at;
}
