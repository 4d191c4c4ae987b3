/**
 * Downloading BAPPS (docs/algorithm.md §3): the three official archives, fetched with a progress bar,
 * resumable, checked, and unpacked so that a half download or half extraction never looks like a
 * dataset.
 *
 * ## What goes where
 *
 * | archive               | size (README) | installs                                        |
 * | --------------------- | ------------- | ----------------------------------------------- |
 * | `jnd.tar.gz`          | 0.2 GB        | `<root>/jnd/val/{traditional,cnn}`              |
 * | `twoafc_val.tar.gz`   | 1.1 GB        | `<root>/2afc/val/{traditional,cnn,superres,...}` |
 * | `twoafc_train.tar.gz` | 5.3 GB        | `<root>/2afc/train/{traditional,cnn,mix}`       |
 *
 * The reference untars `jnd.tar.gz` into `dataset/` and `twoafc_*.tar.gz` into `dataset/2afc/`,
 * i.e. the archives are assumed to hold `jnd/val/...` and `val/...` / `train/...`. The unpacked
 * tree is searched for the expected folder (`<mode>/<split>`, `<split>`, either one below a single
 * wrapping folder such as `dataset/`), and every expected subset and role folder (`ref p0 p1
 * judge`, `p0 p1 same`) must be there; otherwise the error says what is missing.
 *
 * ## How
 *
 * - The base URL is `https://perceptual-similarity.s3.us-west-2.amazonaws.com/dataset`, replaced
 *   by `$BAPPS_URL` (or `opts.baseUrl`) for a mirror: `<base>/jnd.tar.gz`, etc.
 * - Each archive is streamed into `<root>/.download/<file>.part`. After an interruption the next
 *   run (or an automatic retry) resumes it with `Range: bytes=N-`; a server that ignores Range
 *   (200) makes it start over. The size is checked against Content-Length / Content-Range; the
 *   complete file is renamed `<root>/.download/<file>`.
 * - It is unpacked into `<root>/.download/<name>.extract-*`, checked, marked with a
 *   {@linkcode COMPLETE_MARKER} file, then renamed into place in one step, and the archive is
 *   deleted. A folder with the marker is skipped by later runs without any request; a folder
 *   without it (unpacked by hand, or by an older run of something else) is an error rather than a
 *   guess.
 * - The format comes from the first bytes, not the name: a `*.tar.gz` on the server may be plain
 *   tar (docs/algorithm.md §3). gzip (`1f 8b`) is gunzipped, then untarred; a tar header (`ustar`
 *   at offset 257) is untarred as is; anything else (an HTML or XML error page, say) is an error
 *   naming what the file starts with, and is deleted.
 * - Unpacking refuses absolute paths, `..` components, links (symbolic or hard) and device
 *   entries: BAPPS has none, so such an archive is damaged or hostile.
 * - SHA-256: none is published for these archives, so none is checked unless given
 *   (`opts.sha256`); size, the gzip CRC (of a gzip archive) and the tar structure are always
 *   checked.
 * - Free space: checked with `statfs` where the runtime provides it (about the archive's size for
 *   the download plus 1.25 times that for unpacking: small files waste part of a disk block);
 *   skipped silently otherwise.
 * - One download per root at a time: two concurrent runs on one root may disturb each other's
 *   `.part` file.
 *
 * @module
 */
import { join } from "node:path";
import { statfsSync } from "node:fs";
import { createHash } from "node:crypto";
import { createTarDecoder } from "modern-tar";
import { startProgress } from "../_internal/progress_bar.ts";
import { archiveFormat, notAnArchive, SNIFF_BYTES } from "./_archive_format.ts";
import { fetchFailure, writeAll } from "../_internal/http_download.ts";
import type { BappsMode } from "./layout.ts";

/** Default location of the official archives (docs/algorithm.md §3). */
export const BAPPS_BASE_URL = "https://perceptual-similarity.s3.us-west-2.amazonaws.com/dataset";

/** Name of the file that marks an installed archive folder as complete. */
export const COMPLETE_MARKER = ".bapps-complete";

/** The names of the three official BAPPS archives (see {@link BAPPS_ARCHIVES}). */
export type BappsArchiveName = "jnd" | "twoafc_val" | "twoafc_train";

/**
 * One official archive and the folder it installs (`<root>/<mode>/<split>`).
 *
 * @example
 * ```ts
 * import { BAPPS_ARCHIVES } from "@perceptual/lpips/bappsloader";
 * for (const a of BAPPS_ARCHIVES) console.log(a.file, `${a.mode}/${a.split}`, a.subsets);
 * ```
 */
export interface BappsArchive {
  /** Short name, e.g. `twoafc_val`. */
  readonly name: BappsArchiveName;
  /** File name on the server, e.g. `twoafc_val.tar.gz`. */
  readonly file: string;
  /** `2afc` or `jnd`. */
  readonly mode: BappsMode;
  /** `val` or `train`. */
  readonly split: "val" | "train";
  /** Subset folders below `<mode>/<split>`. */
  readonly subsets: readonly string[];
  /** Approximate size in bytes (the reference README's numbers), for messages. */
  readonly approxBytes: number;
}

const ROLES: Record<BappsMode, readonly string[]> = {
  "2afc": ["ref", "p0", "p1", "judge"],
  jnd: ["p0", "p1", "same"],
};

/**
 * The three official archives, in download order.
 *
 * @example
 * ```ts
 * import { BAPPS_ARCHIVES } from "@perceptual/lpips/bappsloader";
 * console.log(BAPPS_ARCHIVES.map((a) => a.name)); // ["jnd", "twoafc_val", "twoafc_train"]
 * ```
 */
export const BAPPS_ARCHIVES: readonly BappsArchive[] = [
  {
    name: "jnd",
    file: "jnd.tar.gz",
    mode: "jnd",
    split: "val",
    subsets: ["traditional", "cnn"],
    approxBytes: 0.2e9,
  },
  {
    name: "twoafc_val",
    file: "twoafc_val.tar.gz",
    mode: "2afc",
    split: "val",
    subsets: ["traditional", "cnn", "superres", "deblur", "color", "frameinterp"],
    approxBytes: 1.1e9,
  },
  {
    name: "twoafc_train",
    file: "twoafc_train.tar.gz",
    mode: "2afc",
    split: "train",
    subsets: ["traditional", "cnn", "mix"],
    approxBytes: 5.3e9,
  },
];

/**
 * A failed download or installation; its message is one line saying which archive and what to do.
 *
 * @example
 * ```ts
 * import { BappsDownloadError, downloadBapps } from "@perceptual/lpips/bappsloader";
 * const offline = () => Promise.reject(new TypeError("network unreachable"));
 * try {
 *   await downloadBapps("new-dataset", { archives: ["jnd"], fetch: offline, retries: 0, quiet: true });
 * } catch (e) {
 *   if (!(e instanceof BappsDownloadError)) throw e;
 *   console.error(e.message); // one line naming jnd.tar.gz and the cause
 * }
 * ```
 */
export class BappsDownloadError extends Error {
  /** Creates the error; `cause` keeps the underlying error, if any. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "BappsDownloadError";
  }
}

/** Options of {@linkcode downloadBapps}. */
export interface BappsDownloadOptions {
  /** Only the validation archives (`jnd`, `twoafc_val`), as `download_dataset_valonly.sh`. */
  valOnly?: boolean;
  /** Exactly these archives (overrides `valOnly`). */
  archives?: readonly BappsArchiveName[];
  /** Base URL of the archives (overrides `$BAPPS_URL` and {@linkcode BAPPS_BASE_URL}). */
  baseUrl?: string;
  /** SHA-256 (hex) an archive must have; none is published, so none is checked by default. */
  sha256?: Partial<Record<BappsArchiveName, string>>;
  /** Automatic resumes after a transfer cut within one run (default 3). */
  retries?: number;
  /** Wait before an automatic resume, in ms (default 2000). */
  retryDelayMs?: number;
  /** Abort a transfer that receives nothing for this long, in ms (default 60000). */
  idleTimeoutMs?: number;
  /** No progress output on stderr. */
  quiet?: boolean;
  /** Environment to read instead of `Deno.env` (replaces it entirely). */
  env?: Readonly<Record<string, string | undefined>>;
  /** `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
}

/** What {@linkcode downloadBapps} did with one archive. */
export interface BappsDownloadResult {
  /** The archive. */
  archive: BappsArchiveName;
  /** `present`: already installed, nothing fetched; `installed`: fetched (or resumed) and unpacked. */
  status: "present" | "installed";
  /** The installed folder, `<root>/<mode>/<split>`. */
  dir: string;
}

/**
 * The URL of an archive: `<base>/<file>`, base from `opts.baseUrl`, else `$BAPPS_URL`, else
 * {@linkcode BAPPS_BASE_URL}.
 *
 * @example
 * ```ts
 * import { bappsArchiveUrl } from "./download.ts";
 * console.log(bappsArchiveUrl("jnd", { baseUrl: "http://mirror/bapps/" }));
 * // http://mirror/bapps/jnd.tar.gz
 * ```
 */
export function bappsArchiveUrl(
  name: BappsArchiveName,
  opts: Pick<BappsDownloadOptions, "baseUrl" | "env"> = {},
): string {
  const env = opts.env ? opts.env.BAPPS_URL : Deno.env.get("BAPPS_URL");
  const base = opts.baseUrl || env || BAPPS_BASE_URL;
  return `${base.replace(/\/+$/, "")}/${archive(name).file}`;
}

function archive(name: BappsArchiveName): BappsArchive {
  const a = BAPPS_ARCHIVES.find((x) => x.name === name);
  if (!a) {
    throw new BappsDownloadError(
      `unknown BAPPS archive "${name}" (expected ${BAPPS_ARCHIVES.map((x) => x.name).join(", ")})`,
    );
  }
  return a;
}

/**
 * Downloads and installs BAPPS under `root` (the folder that will hold `2afc/` and `jnd/`), as the
 * reference's `download_dataset.sh`: all three archives, or with `valOnly` only `jnd` and
 * `twoafc_val`. Archives already installed are skipped without any request. A cut transfer is
 * resumed (also by the next run); each archive is checked (size, gzip CRC, tar structure, the
 * expected folders), unpacked aside and moved into place whole, so a half download never looks like
 * a dataset. `$BAPPS_URL` or `baseUrl` names a mirror.
 *
 * Not run by the doc tests (it downloads 1.3 GB):
 *
 * ```ts ignore
 * import { downloadBapps, listTwoAFC } from "@perceptual/lpips/bappsloader";
 * await downloadBapps("dataset", { valOnly: true }); // ~1.3 GB; run again to resume if cut
 * const list = await listTwoAFC("dataset", "val/traditional");
 * ```
 */
export async function downloadBapps(
  root: string,
  opts: BappsDownloadOptions = {},
): Promise<BappsDownloadResult[]> {
  const names = opts.archives ??
    (opts.valOnly ? ["jnd", "twoafc_val"] as const : BAPPS_ARCHIVES.map((a) => a.name));
  const todo = names.map(archive);
  // Check every target first, so that a refusal comes before hours of downloading.
  const present = new Set<BappsArchiveName>();
  for (const a of todo) {
    const dir = join(root, a.mode, a.split);
    if (await exists(join(dir, COMPLETE_MARKER))) present.add(a.name);
    else if (await exists(dir)) {
      throw new BappsDownloadError(
        `${a.file}: ${dir} already exists but is not marked complete by an earlier download ` +
          `(no ${COMPLETE_MARKER} file); move it away and run again to download it`,
      );
    }
  }
  const results: BappsDownloadResult[] = [];
  try {
    for (const a of todo) {
      const dir = join(root, a.mode, a.split);
      if (present.has(a.name)) {
        if (!opts.quiet) console.error(`lpips: ${a.file}: ${dir} is already installed`);
        results.push({ archive: a.name, status: "present", dir });
        continue;
      }
      await installArchive(root, a, opts);
      results.push({ archive: a.name, status: "installed", dir });
    }
  } finally {
    await Deno.remove(join(root, ".download")).catch(() => {}); // only if empty
  }
  return results;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await Deno.stat(path)).size;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

async function installArchive(
  root: string,
  a: BappsArchive,
  opts: BappsDownloadOptions,
): Promise<void> {
  const work = join(root, ".download");
  await Deno.mkdir(work, { recursive: true });
  const done = join(work, a.file);
  const have = await fileSize(done);
  if (have === undefined) await fetchArchive(a, work, opts);
  else {
    if (!opts.quiet) console.error(`lpips: ${a.file}: already downloaded (${done})`);
    checkFreeSpace(a, done, UNPACK_FACTOR * have);
  }
  const want = opts.sha256?.[a.name];
  if (want !== undefined) await checkSha256(a, done, want.toLowerCase());
  await unpack(root, a, done, opts);
  await Deno.remove(done);
}

/** Fetches an archive into `<work>/<file>`, via `<file>.part`, resuming and retrying. */
async function fetchArchive(
  a: BappsArchive,
  work: string,
  opts: BappsDownloadOptions,
): Promise<void> {
  const url = bappsArchiveUrl(a.name, opts);
  const part = join(work, `${a.file}.part`);
  const retries = opts.retries ?? 3;
  for (let attempt = 0;; attempt++) {
    const before = (await fileSize(part)) ?? 0;
    try {
      await fetchOnce(a, url, part, opts);
      break;
    } catch (e) {
      const cut = e instanceof TransferCut;
      const after = (await fileSize(part)) ?? 0;
      if (!cut || attempt >= retries || after <= before) {
        throw cut ? new BappsDownloadError(e.message, { cause: e.cause }) : e;
      }
      if (!opts.quiet) {
        console.error(`lpips: ${a.file}: transfer cut at ${after} bytes; resuming`);
      }
      await new Promise((r) => setTimeout(r, opts.retryDelayMs ?? 2000));
    }
  }
  await Deno.rename(part, join(work, a.file));
}

/** A transfer that stopped early: the `.part` file is a valid prefix, kept for resuming. */
class TransferCut extends Error {}

/** One request: appends to `part` (or restarts it) until the end or an error. */
async function fetchOnce(
  a: BappsArchive,
  url: string,
  part: string,
  opts: BappsDownloadOptions,
): Promise<void> {
  const offset = (await fileSize(part)) ?? 0;
  const headers: Record<string, string> = { "accept-encoding": "identity" };
  if (offset > 0) headers.range = `bytes=${offset}-`;
  const again = "run the same command again";
  const mirror = "check the network connection (or set BAPPS_URL to a mirror) and " + again;
  const abort = new AbortController();
  const idleMs = opts.idleTimeoutMs ?? 60000;
  let timer = setTimeout(() => abort.abort(new Error(`no data for ${idleMs / 1000} s`)), idleMs);
  const poke = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(new Error(`no data for ${idleMs / 1000} s`)), idleMs);
  };
  try {
    let response: Response;
    try {
      response = await (opts.fetch ?? fetch)(url, { headers, signal: abort.signal });
    } catch (e) {
      throw new BappsDownloadError(
        `cannot download ${a.file} from ${url}: ${fetchFailure(e)}; ${mirror}`,
        { cause: e },
      );
    }
    let start = 0;
    let total: number | undefined;
    if (response.status === 206 && offset > 0) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(
        (response.headers.get("content-range") ?? "").trim(),
      );
      if (!m || Number(m[1]) !== offset) {
        // A range we did not ask for: start over with a plain request.
        await response.body?.cancel();
        await Deno.remove(part);
        return await fetchOnce(a, url, part, opts);
      }
      start = offset;
      if (m[3] !== "*") total = Number(m[3]);
    } else if (response.status === 416 && offset > 0) {
      await response.body?.cancel();
      const m = /^bytes \*\/(\d+)$/.exec((response.headers.get("content-range") ?? "").trim());
      if (m && Number(m[1]) === offset) return; // the part was already complete
      await Deno.remove(part); // larger than the file, or the file changed: start over
      return await fetchOnce(a, url, part, opts);
    } else if (response.ok) {
      // 200: a full body (a server that ignores Range restarts the file).
      const len = response.headers.get("content-length");
      const encoded = (response.headers.get("content-encoding") ?? "identity") !== "identity";
      if (len !== null && /^\d+$/.test(len.trim()) && !encoded) total = Number(len.trim());
    } else {
      await response.body?.cancel();
      throw new BappsDownloadError(
        `cannot download ${a.file} from ${url}: HTTP ${response.status}` +
          `${response.statusText ? " " + response.statusText : ""}; ` +
          (response.status >= 500 ? "the server failed, try again later" : mirror),
      );
    }
    if (total !== undefined) checkFreeSpace(a, part, total - start + UNPACK_FACTOR * total);

    const out = await Deno.open(part, {
      write: true,
      create: true,
      truncate: start === 0,
      append: start > 0,
    });
    const progress = startProgress(a.file, url, total, opts.quiet ?? false);
    let received = start;
    progress.update(received);
    try {
      if (response.body) {
        for await (const chunk of response.body) {
          poke();
          if (total !== undefined && received + chunk.length > total) {
            throw new BappsDownloadError(
              `download of ${a.file} from ${url} sent more than the announced ${total} bytes; ` +
                `the partial file was deleted; ${again}`,
            );
          }
          await writeAll(out, chunk);
          received += chunk.length;
          progress.update(received);
        }
      }
    } catch (e) {
      if (e instanceof BappsDownloadError) {
        out.close();
        await Deno.remove(part).catch(() => {});
        throw e;
      }
      const of = total !== undefined ? ` of ${total}` : "";
      throw new TransferCut(
        `download of ${a.file} from ${url} was interrupted after ${received}${of} bytes ` +
          `(${fetchFailure(e)}); the partial file ${part} is kept: ${again} to resume`,
        { cause: e },
      );
    } finally {
      progress.stop(undefined);
      try {
        out.close();
      } catch { /* closed above */ }
    }
    if (total !== undefined && received < total) {
      throw new TransferCut(
        `download of ${a.file} from ${url} stopped after ${received} of ${total} bytes; the ` +
          `partial file ${part} is kept: ${again} to resume`,
      );
    }
    if (!opts.quiet) console.error(`lpips: downloaded ${a.file} (${received} bytes)`);
  } finally {
    clearTimeout(timer);
  }
}

/** Unpacked size / archive size to plan for (PNGs do not compress; blocks are partly empty). */
const UNPACK_FACTOR = 1.25;

/** Throws when the file system holding `path` has clearly less than `bytes` free. */
function checkFreeSpace(a: BappsArchive, path: string, bytes: number): void {
  let free: number;
  try {
    const s = statfsSync(join(path, ".."));
    free = Number(s.bavail) * Number(s.bsize);
  } catch {
    return; // not available here: skip the check
  }
  if (Number.isFinite(free) && free < bytes) {
    const gb = (n: number) => (n / 1e9).toFixed(1);
    throw new BappsDownloadError(
      `${a.file}: not enough free space next to ${path}: about ${gb(bytes)} GB needed to ` +
        `download and unpack, ${gb(free)} GB free; free some space and run again`,
    );
  }
}

async function checkSha256(a: BappsArchive, path: string, want: string): Promise<void> {
  const h = createHash("sha256");
  const f = await Deno.open(path);
  for await (const chunk of f.readable) h.update(chunk);
  const got = h.digest("hex");
  if (got !== want) {
    await Deno.remove(path);
    throw new BappsDownloadError(
      `${a.file}: sha256 ${got} differs from the expected ${want}; the file was deleted: run ` +
        `again to download it afresh`,
    );
  }
}

/** An archive whose content is bad (corrupt, truncated or unsafe): it is deleted. */
class BadArchive extends Error {}
/** A file-system failure while unpacking: the archive is fine and kept. */
class WriteFailure extends Error {}

async function fsOp<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw new WriteFailure(`${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

async function unpack(
  root: string,
  a: BappsArchive,
  archivePath: string,
  opts: BappsDownloadOptions,
): Promise<void> {
  const work = join(root, ".download");
  // Folders left by an unpacking that was killed (one download per root at a time).
  for await (const e of Deno.readDir(work)) {
    if (e.isDirectory && e.name.startsWith(`${a.name}.extract-`)) {
      await Deno.remove(join(work, e.name), { recursive: true });
    }
  }
  const tmp = await Deno.makeTempDir({ dir: work, prefix: `${a.name}.extract-` });
  const target = join(root, a.mode, a.split);
  let ok = false;
  try {
    if (!opts.quiet) console.error(`lpips: unpacking ${a.file}`);
    let count: number;
    try {
      count = await extractArchive(archivePath, tmp, opts.quiet ? undefined : a.file);
    } catch (e) {
      if (e instanceof WriteFailure) {
        throw new BappsDownloadError(
          `cannot unpack ${a.file} into ${tmp}: ${e.message}; the downloaded archive is kept ` +
            `as ${archivePath}: fix the problem and run again`,
          { cause: e },
        );
      }
      await Deno.remove(archivePath).catch(() => {});
      const what = e instanceof BadArchive ? e.message : `damaged archive (${fetchFailure(e)})`;
      throw new BappsDownloadError(
        `${a.file} is unusable: ${what}; it was deleted and nothing was installed: run again to ` +
          `download it afresh (if this repeats, the copy at ${bappsArchiveUrl(a.name, opts)} ` +
          `is damaged)`,
        { cause: e },
      );
    }
    let unit: string;
    try {
      unit = await findUnit(a, tmp);
    } catch (e) {
      await Deno.remove(archivePath).catch(() => {});
      throw e;
    }
    await Deno.writeTextFile(
      join(unit, COMPLETE_MARKER),
      JSON.stringify({ archive: a.file, entries: count, installed: new Date().toISOString() }) +
        "\n",
    );
    await Deno.mkdir(join(root, a.mode), { recursive: true });
    await Deno.rename(unit, target);
    ok = true;
    if (!opts.quiet) console.error(`lpips: installed ${target} (${count} entries)`);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    if (!ok) await Deno.remove(join(root, a.mode)).catch(() => {}); // only if we made it empty
  }
}

/** The first `n` bytes of a file (fewer if it is shorter). */
async function readHead(path: string, n: number): Promise<Uint8Array> {
  const buf = new Uint8Array(n);
  using f = await Deno.open(path);
  let got = 0;
  while (got < n) {
    const r = await f.read(buf.subarray(got));
    if (r === null) break;
    got += r;
  }
  return buf.subarray(0, got);
}

/**
 * Unpacks a tar file, gzipped or not (see {@linkcode archiveFormat}), into the (new, empty) folder
 * `dest`; returns the number of entries.
 */
async function extractArchive(path: string, dest: string, label?: string): Promise<number> {
  const head = await readHead(path, SNIFF_BYTES);
  const format = archiveFormat(head);
  if (format === undefined) throw new BadArchive(notAnArchive(head));
  const size = (await Deno.stat(path)).size;
  const file = await Deno.open(path);
  // Progress for large archives: a line every 10% of the archive's bytes read.
  let read = 0;
  let next = size / 10;
  const counter = new TransformStream<Uint8Array<ArrayBuffer>, Uint8Array<ArrayBuffer>>({
    transform(chunk, c) {
      read += chunk.length;
      if (label !== undefined && size >= 64 * 1048576 && read >= next && read < size) {
        while (next <= read) next += size / 10;
        console.error(`lpips: unpacking ${label} ${Math.floor((100 * read) / size)}%`);
      }
      c.enqueue(chunk);
    },
  });
  const made = new Set<string>([dest]);
  const raw = file.readable.pipeThrough(counter);
  const tar = format === "gzip" ? raw.pipeThrough(new DecompressionStream("gzip")) : raw;
  const entries = tar.pipeThrough(createTarDecoder({ strict: true }));
  let count = 0;
  for await (const entry of entries) {
    const h = entry.header;
    const type = h.type ?? "file";
    const rel = safeName(h.name);
    count++;
    if (type === "directory") {
      await entry.body.cancel();
      if (rel !== "") await fsOp(rel, () => Deno.mkdir(join(dest, rel), { recursive: true }));
      continue;
    }
    if (type !== "file") {
      await entry.body.cancel();
      const link = h.linkname ? ` -> ${h.linkname}` : "";
      const kind = type === "symlink" ? "symbolic link" : type === "link" ? "hard link" : type;
      throw new BadArchive(`it holds a ${kind} entry "${h.name}${link}", refused`);
    }
    if (rel === "") throw new BadArchive(`it holds a file entry with an empty name`);
    const out = join(dest, rel);
    const parent = rel.includes("/") ? join(dest, rel.slice(0, rel.lastIndexOf("/"))) : dest;
    if (!made.has(parent)) {
      await fsOp(rel, () => Deno.mkdir(parent, { recursive: true }));
      made.add(parent);
    }
    const f = await fsOp(rel, () => Deno.open(out, { write: true, create: true, truncate: true }));
    let written = 0;
    try {
      for await (const chunk of entry.body) {
        await fsOp(rel, () => writeAll(f, chunk));
        written += chunk.length;
      }
    } finally {
      f.close();
    }
    if (written !== h.size) throw new BadArchive(`entry "${h.name}" is cut short`);
  }
  return count;
}

/**
 * The entry name as a safe relative path with `/` separators (`""` for the archive's own `./`),
 * or a {@linkcode BadArchive} error for an absolute path, a `..` component or a backslash/drive.
 */
function safeName(name: string): string {
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name) || name.includes("\\")) {
    throw new BadArchive(`it holds an entry with an absolute or foreign path "${name}", refused`);
  }
  if (name.includes("\0")) throw new BadArchive(`it holds an entry with a NUL in its name`);
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) {
    throw new BadArchive(`it holds an entry "${name}" that points outside the archive, refused`);
  }
  return parts.join("/");
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.lstat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** The folder in the unpacked tree that holds `<split>/<subsets>`, or a layout error. */
async function findUnit(a: BappsArchive, tmp: string): Promise<string> {
  const candidates = [join(tmp, a.mode, a.split), join(tmp, a.split)];
  const top: string[] = [];
  for await (const e of Deno.readDir(tmp)) top.push(e.isDirectory ? `${e.name}/` : e.name);
  top.sort();
  if (top.length === 1 && top[0].endsWith("/")) {
    const wrap = join(tmp, top[0]);
    candidates.push(join(wrap, a.mode, a.split), join(wrap, a.split));
  }
  let firstMissing: string | undefined;
  for (const dir of candidates) {
    if (!(await isDir(dir))) continue;
    const missing = await missingFolders(a, dir);
    if (missing.length === 0) return dir;
    firstMissing ??= `${dir.slice(tmp.length + 1)}/ lacks ${missing.slice(0, 3).join(", ")}` +
      (missing.length > 3 ? ` and ${missing.length - 3} more` : "");
  }
  const expected = `${a.split}/{${a.subsets.join(",")}}/{${ROLES[a.mode].join(",")}}`;
  throw new BappsDownloadError(
    `${a.file} did not unpack to the expected layout (${expected}, optionally below ` +
      `${a.mode}/): ${firstMissing ?? `it holds ${top.slice(0, 5).join(" ") || "nothing"}`}; ` +
      `the archive was deleted and nothing was installed`,
  );
}

async function missingFolders(a: BappsArchive, dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (const s of a.subsets) {
    for (const r of ROLES[a.mode]) {
      if (!(await isDir(join(dir, s, r)))) missing.push(`${s}/${r}`);
    }
  }
  return missing;
}
