/**
 * The one flow every weight file goes through: {@linkcode loadWeightFile} takes a
 * {@linkcode WeightFile} record (which file, which tensors, which checks; the records and each
 * metric's list of them are in `weight_files.ts`), resolves it, reads it with the safe `.pth`
 * reader, maps its keys, converts to float32, checks every tensor ({@linkcode checkTensors}, with
 * the record's pins when the file was found by name) and runs the record's own check.
 *
 * ## Resolution order ({@linkcode resolveFile})
 *
 * 1. an explicit path (`opts.path`); if it does not exist that is an error;
 * 2. a local folder: `opts.weightsDir`, else `$LPIPS_WEIGHTS_DIR`, holding trunks and heads under
 *    their relative names (`$LPIPS_WEIGHTS_DIR/alexnet-owt-7be5be79.pth`,
 *    `$LPIPS_WEIGHTS_DIR/lpips/v0.1/alex.pth`, `$LPIPS_WEIGHTS_DIR/dists/weights.pt`); for images
 *    `opts.imagesDir`, else `$LPIPS_IMAGES_DIR` (`$LPIPS_IMAGES_DIR/ex_ref.png`). A folder that was
 *    named but lacks the file is an error, never a silent download;
 * 3. the user cache: `opts.cacheDir`, else `$XDG_CACHE_HOME/lpips`, else `~/.cache/lpips`, with
 *    weights under their relative names and images under `images/<name>`;
 * 4. a download into that cache (unless `opts.download` is `false`).
 *
 * ## Mirrors
 *
 * `$LPIPS_WEIGHTS_URL` (or `opts.baseUrl`) replaces every official weight host with one base URL:
 * a file is fetched from `<base>/<relative name>`, e.g. `<base>/alexnet-owt-7be5be79.pth` and
 * `<base>/lpips/v0.1/alex.pth`. A mirror is therefore just a copy of an `LPIPS_WEIGHTS_DIR` folder
 * served over HTTP. `$LPIPS_IMAGES_URL` (or `opts.baseUrl` for an image) does the same for the
 * images: `<base>/ex_ref.png`.
 *
 * ## Verification
 *
 * A downloaded trunk must have a SHA-256 starting with the 8 hex digits after the last `-` of its
 * name (torchvision's check); a downloaded head or image must have its full pinned SHA-256. Files
 * found locally are not re-hashed as whole files (the shared test copies of the trunks are
 * re-serialisations whose file hash differs); instead every loaded tensor goes through
 * {@linkcode checkTensors}, with the record's per-tensor hashes where it has them, wherever the
 * file was found by name (an explicit path need not hold the official tensors).
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { startProgress } from "../_internal/progress_bar.ts";
import { fetchFailure, sha256Hex, writeAll } from "../_internal/http_download.ts";
import type { WeightMap } from "./engine.ts";
import { type PthTensor, readPthFile, toFloat32 } from "./pth/pth.ts";

/** What an official file is: a trunk, a metric's own weights (a "head"), or an example image. */
export type OfficialFileKind = "trunk" | "head" | "image";

/**
 * An official file: its relative name, kind, official URL and what a download must hash to.
 *
 * @example
 * ```ts
 * import type { OfficialFile } from "./weights.ts";
 * const f: OfficialFile = {
 *   name: "alexnet-owt-7be5be79.pth",
 *   kind: "trunk",
 *   url: "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
 *   sha256Prefix: "7be5be79",
 * };
 * console.log(f.name);
 * ```
 */
export interface OfficialFile {
  /** Official relative name, with `/` separators; also its path under a weights folder. */
  readonly name: string;
  /** What the file is. */
  readonly kind: OfficialFileKind;
  /** Where it is downloaded from when no mirror is set. */
  readonly url: string;
  /** Full SHA-256 (hex) a download must have (heads and images). */
  readonly sha256?: string;
  /** SHA-256 prefix from the file name that a download must start with (trunks). */
  readonly sha256Prefix?: string;
  /** Exact size in bytes, where known. */
  readonly size?: number;
}

/**
 * A weight file as a metric loads it: the official file, the tensors it must yield, how its raw
 * keys map to them, its per-tensor pins and any further check of the values.
 */
export interface WeightFile extends OfficialFile {
  /** The tensors the loaded map holds, by their final keys, with exact shapes. */
  readonly tensors: readonly ExpectedTensor[];
  /** Raw tensors -> the tensors to check, renamed (default: all, as stored). */
  readonly select?: (raw: ReadonlyMap<string, PthTensor>) => Map<string, PthTensor>;
  /** Tensor key -> SHA-256 of its float32 LE bytes, checked when the file is found by name. */
  readonly pinned?: Readonly<Record<string, string>>;
  /** A further check of the checked values; throws a {@linkcode WeightsError} naming `file`. */
  readonly validate?: (file: string, weights: WeightMap) => void;
}

/**
 * An error about weight files (missing file, failed download, bad hash, bad tensor). Its message
 * is one line meant for the user.
 *
 * @example
 * ```ts
 * import { LPIPS, WeightsError } from "@perceptual/lpips/lpips";
 * try {
 *   await LPIPS.create({ trunkPath: "/nowhere/alexnet.pth" });
 * } catch (e) {
 *   if (!(e instanceof WeightsError)) throw e;
 *   console.error(e.message); // alexnet-owt-7be5be79.pth: the given path /nowhere/alexnet.pth does not exist
 * }
 * ```
 */
export class WeightsError extends Error {
  /** Creates the error; `cause` keeps the underlying error, if any. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "WeightsError";
  }
}

/** A file description, checked: a safe relative name and some hash to verify. */
function toFile(ref: OfficialFile): OfficialFile {
  const parts = ref.name.split("/");
  if (
    /[\\:]/.test(ref.name) || parts.some((p) => p === "" || p === "." || p === "..")
  ) {
    throw new WeightsError(`weight file name "${ref.name}" must be a plain relative path`);
  }
  if (ref.sha256 === undefined && ref.sha256Prefix === undefined) {
    throw new WeightsError(`weight file "${ref.name}" has neither a sha256 nor a sha256 prefix`);
  }
  return ref;
}

/** Environment variables, as a plain record; `undefined` or `""` means unset. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Options of {@linkcode resolveFile} and {@linkcode downloadFile}. Every option is optional;
 * `env`, `fetch` and `cacheDir` exist mainly so that tests can be hermetic.
 */
export interface ResolveOptions {
  /** Explicit path of the file; used as is, and an error if it does not exist. */
  path?: string;
  /** Folder with trunks and heads under their relative names (overrides `LPIPS_WEIGHTS_DIR`). */
  weightsDir?: string;
  /** Folder with the example images (overrides `LPIPS_IMAGES_DIR`). */
  imagesDir?: string;
  /** Cache folder (overrides `$XDG_CACHE_HOME/lpips` and `~/.cache/lpips`). */
  cacheDir?: string;
  /** Download base URL (overrides `LPIPS_WEIGHTS_URL` / `LPIPS_IMAGES_URL`); see the module doc. */
  baseUrl?: string;
  /** When `false`, a file found nowhere is an error instead of a download. Default `true`. */
  download?: boolean;
  /** No progress output on stderr. */
  quiet?: boolean;
  /** Environment to read instead of `Deno.env` (replaces it entirely). */
  env?: Env;
  /** `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
}

function getEnv(opts: { env?: Env }, key: string): string | undefined {
  const v = opts.env ? opts.env[key] : Deno.env.get(key);
  return v === "" ? undefined : v;
}

/**
 * The user cache folder: `opts.cacheDir`, else `$XDG_CACHE_HOME/lpips`, else `~/.cache/lpips`.
 *
 * @example
 * ```ts
 * import { userCacheDir } from "./weights.ts";
 * console.log(userCacheDir({ env: { HOME: "/home/me" } })); // /home/me/.cache/lpips
 * ```
 */
export function userCacheDir(opts: { cacheDir?: string; env?: Env } = {}): string {
  if (opts.cacheDir) return opts.cacheDir;
  const xdg = getEnv(opts, "XDG_CACHE_HOME");
  if (xdg) return join(xdg, "lpips");
  const home = getEnv(opts, "HOME") ?? getEnv(opts, "USERPROFILE");
  if (!home) {
    throw new WeightsError(
      "cannot find a cache folder: neither XDG_CACHE_HOME nor HOME is set; set LPIPS_WEIGHTS_DIR " +
        "to a folder holding the weight files, or XDG_CACHE_HOME",
    );
  }
  return join(home, ".cache", "lpips");
}

/** Where a file lives in the cache, relative to the cache folder. */
function cacheRelative(file: OfficialFile): string {
  return file.kind === "image" ? `images/${file.name}` : file.name;
}

/**
 * The path a file has (or would have) in the user cache.
 *
 * @example
 * ```ts
 * import { cachePath } from "./weights.ts";
 * const head = { name: "lpips/v0.1/alex.pth", kind: "head", url: "", sha256: "df73" } as const;
 * console.log(cachePath(head, { cacheDir: "/tmp/c" })); // /tmp/c/lpips/v0.1/alex.pth
 * ```
 */
export function cachePath(file: OfficialFile, opts: { cacheDir?: string; env?: Env } = {}): string {
  return join(userCacheDir(opts), cacheRelative(toFile(file)));
}

/**
 * The URL a file is downloaded from: `<base>/<relative name>` when a mirror base is set
 * (`opts.baseUrl`, else `LPIPS_WEIGHTS_URL` for weights / `LPIPS_IMAGES_URL` for images),
 * otherwise the official URL.
 *
 * @example
 * ```ts
 * import { downloadUrl } from "./weights.ts";
 * const head = { name: "lpips/v0.1/alex.pth", kind: "head", url: "", sha256: "df73" } as const;
 * console.log(downloadUrl(head, { baseUrl: "http://mirror/w/" }));
 * // http://mirror/w/lpips/v0.1/alex.pth
 * ```
 */
export function downloadUrl(ref: OfficialFile, opts: { baseUrl?: string; env?: Env } = {}): string {
  const file = toFile(ref);
  const base = opts.baseUrl ??
    getEnv(opts, file.kind === "image" ? "LPIPS_IMAGES_URL" : "LPIPS_WEIGHTS_URL");
  if (!base) return file.url;
  return `${base.replace(/\/+$/, "")}/${file.name}`;
}

function dirVariable(file: OfficialFile): string {
  return file.kind === "image" ? "LPIPS_IMAGES_DIR" : "LPIPS_WEIGHTS_DIR";
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * Finds a file (an official one of `weight_files.ts`, or another description) and returns its
 * path, downloading it into the user cache if needed. Order: `opts.path` -> `opts.weightsDir` /
 * `$LPIPS_WEIGHTS_DIR` (images: `opts.imagesDir` / `$LPIPS_IMAGES_DIR`) -> user cache ->
 * download (see the module doc). A path or folder that was given but lacks the file is an error
 * naming the path.
 *
 * @example
 * ```ts ignore
 * import { resolveFile } from "./weights.ts";
 * import { officialFile } from "./weight_files.ts";
 * const head = await resolveFile(officialFile("lpips/v0.1/alex.pth"), { weightsDir: "./weights" });
 * ```
 */
export async function resolveFile(ref: OfficialFile, opts: ResolveOptions = {}): Promise<string> {
  const file = toFile(ref);
  const name = file.name;
  if (opts.path !== undefined) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(opts.path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new WeightsError(`${name}: the given path ${opts.path} does not exist`);
      }
      throw e;
    }
    if (!info.isFile) throw new WeightsError(`${name}: the given path ${opts.path} is not a file`);
    return opts.path;
  }

  const variable = dirVariable(file);
  const dirOption = (file.kind === "image" ? opts.imagesDir : opts.weightsDir) || undefined;
  const dir = dirOption ?? getEnv(opts, variable);
  if (dir !== undefined) {
    const path = join(dir, file.name);
    if (await isFile(path)) return path;
    const source = dirOption !== undefined
      ? `the ${file.kind === "image" ? "imagesDir" : "weightsDir"} option`
      : variable;
    throw new WeightsError(
      `${name} not found: ${path} does not exist (${source} is ${dir}, where files sit under ` +
        `their official relative names)`,
    );
  }

  const cached = cachePath(file, opts);
  if (await isFile(cached)) return cached;
  if (opts.download === false) {
    throw new WeightsError(
      `${name} not found: not in the cache (${cached}) and downloading is off; set ${variable} ` +
        `to a folder holding it, or download ${downloadUrl(file, opts)} to ${cached}`,
    );
  }
  await downloadTo(file, cached, opts);
  return cached;
}

/**
 * Downloads an official file into the user cache (even if it is already there) and returns its
 * path. The download is streamed into a uniquely named temporary file next to the final one,
 * checked against Content-Length and the file's hash, then renamed into place; on any failure the
 * temporary file is removed and nothing appears under the final name.
 *
 * @example
 * ```ts ignore
 * import { downloadFile } from "./weights.ts";
 * import { officialFile } from "./weight_files.ts";
 * const path = await downloadFile(officialFile("lpips/v0.1/alex.pth")); // ~/.cache/lpips/lpips/v0.1/alex.pth
 * ```
 */
export async function downloadFile(ref: OfficialFile, opts: ResolveOptions = {}): Promise<string> {
  const file = toFile(ref);
  const dest = cachePath(file, opts);
  await downloadTo(file, dest, opts);
  return dest;
}

async function downloadTo(file: OfficialFile, dest: string, opts: ResolveOptions): Promise<void> {
  const url = downloadUrl(file, opts);
  const hint = `Set ${dirVariable(file)} to a folder holding ${file.name}, or download ${url} ` +
    `by hand to ${dest}.`;
  const doFetch = opts.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, { headers: { "accept-encoding": "identity" } });
  } catch (e) {
    throw new WeightsError(
      `cannot download ${file.name} from ${url}: ${fetchFailure(e)}. ${hint}`,
      {
        cause: e,
      },
    );
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new WeightsError(
      `cannot download ${file.name} from ${url}: HTTP ${response.status}` +
        `${response.statusText ? " " + response.statusText : ""}. ${hint}`,
    );
  }
  const encoded = (response.headers.get("content-encoding") ?? "identity") !== "identity";
  const lengthHeader = response.headers.get("content-length");
  const total = lengthHeader !== null && /^\d+$/.test(lengthHeader.trim()) && !encoded
    ? Number(lengthHeader.trim())
    : undefined;

  await Deno.mkdir(dirname(dest), { recursive: true });
  const tmp = join(dirname(dest), `.${basename(dest)}.${crypto.randomUUID()}.part`);
  const progress = startProgress(file.name, url, total ?? file.size, opts.quiet ?? false);
  const out = await Deno.open(tmp, { createNew: true, write: true });
  let open = true;
  let done = false;
  let received = 0;
  const nothingKept = `the partial download was deleted and nothing was saved as ${dest}`;
  try {
    try {
      if (response.body) {
        for await (const chunk of response.body) {
          await writeAll(out, chunk);
          received += chunk.length;
          progress.update(received);
        }
      }
    } catch (e) {
      const of = total !== undefined ? ` of ${total}` : "";
      throw new WeightsError(
        `download of ${file.name} from ${url} was interrupted after ${received}${of} bytes ` +
          `(${fetchFailure(e)}); ${nothingKept}. ${hint}`,
        { cause: e },
      );
    }
    if (total !== undefined && received !== total) {
      throw new WeightsError(
        `download of ${file.name} from ${url} is incomplete: got ${received} bytes but ` +
          `Content-Length is ${total}; ${nothingKept}. ${hint}`,
      );
    }
    await out.syncData();
    out.close();
    open = false;
    const actual = await sha256Hex(await Deno.readFile(tmp));
    if (file.sha256 !== undefined && actual !== file.sha256) {
      throw new WeightsError(
        `downloaded ${file.name} from ${url} has the wrong sha256: expected ${file.sha256}, got ` +
          `${actual}; ${nothingKept}`,
      );
    }
    if (file.sha256Prefix !== undefined && !actual.startsWith(file.sha256Prefix)) {
      throw new WeightsError(
        `downloaded ${file.name} from ${url} has the wrong sha256: expected one starting with ` +
          `${file.sha256Prefix} (from the file name), got ${actual}; ${nothingKept}`,
      );
    }
    // Atomic on one file system: a concurrent process renaming the same verified file wins or
    // loses as a whole, and readers never see a half file under the final name.
    await Deno.rename(tmp, dest);
    done = true;
  } finally {
    if (open) out.close();
    progress.stop(done ? dest : undefined);
    if (!done) await Deno.remove(tmp).catch(() => {});
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * SHA-256 of tensor values as raw float32 little-endian bytes in the given (C) order: the hash
 * `tensors.tsv` and the {@linkcode WeightFile} pins use.
 *
 * @example
 * ```ts
 * import { float32Sha256 } from "./weights.ts";
 * console.log(await float32Sha256(new Float32Array([1, 2, 3])));
 * ```
 */
export function float32Sha256(data: ArrayLike<number>): Promise<string> {
  if (data instanceof Float32Array && LITTLE_ENDIAN) {
    return sha256Hex(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return sha256Hex(bytes);
}

/** A loaded tensor as far as {@linkcode checkTensors} cares. */
export interface TensorLike {
  /** Shape, outermost first. */
  shape: readonly number[];
  /** Values in C order. */
  data: ArrayLike<number>;
}

/** A tensor a weight file must contain. */
export interface ExpectedTensor {
  /** State-dict key, e.g. `features.0.weight`. */
  key: string;
  /** Exact shape. */
  shape: readonly number[];
}

/** Options of {@linkcode checkTensors}. */
export interface CheckTensorsOptions {
  /** Allow (and ignore) tensors that are not expected, e.g. a full model's classifier. */
  allowExtra?: boolean;
  /** Tensor key -> SHA-256 of its float32 LE bytes, as in {@linkcode WeightFile}. */
  pinned?: Readonly<Record<string, string>>;
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * Checks the tensors loaded from a weight file: every expected key present with exactly its
 * shape and as many values as that shape holds, no unexpected key (unless `allowExtra`), every
 * value finite, and every pinned tensor's hash. The first problem throws a
 * {@linkcode WeightsError} naming the file and the key.
 *
 * @example
 * ```ts
 * import { checkTensors } from "./weights.ts";
 * const lin0 = { shape: [1, 64, 1, 1], data: new Float32Array(64) };
 * const tensors = new Map([["lin0.model.1.weight", lin0]]);
 * await checkTensors("heads.pth", tensors, [{ key: "lin0.model.1.weight", shape: [1, 64, 1, 1] }]);
 * ```
 */
export async function checkTensors(
  file: string,
  tensors: ReadonlyMap<string, TensorLike>,
  expected: readonly ExpectedTensor[],
  opts: CheckTensorsOptions = {},
): Promise<void> {
  const expectedKeys = new Set(expected.map((e) => e.key));
  for (const { key, shape } of expected) {
    const t = tensors.get(key);
    if (!t) throw new WeightsError(`${file}: tensor ${key} is missing`);
    const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
    if (!same) {
      throw new WeightsError(
        `${file}: tensor ${key} has shape ${fmtShape(t.shape)}, expected ${fmtShape(shape)}`,
      );
    }
    const n = shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) {
      throw new WeightsError(
        `${file}: tensor ${key} holds ${t.data.length} values, its shape ${fmtShape(shape)} ` +
          `needs ${n}`,
      );
    }
  }
  if (!opts.allowExtra) {
    for (const key of tensors.keys()) {
      if (!expectedKeys.has(key)) throw new WeightsError(`${file}: unexpected tensor ${key}`);
    }
  }
  for (const key of expectedKeys) {
    const data = tensors.get(key)!.data;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new WeightsError(
          `${file}: tensor ${key} has a non-finite value (${data[i]}) at flat index ${i}`,
        );
      }
    }
  }
  for (const [key, want] of Object.entries(opts.pinned ?? {})) {
    const t = tensors.get(key);
    if (!t) continue; // a missing expected key was reported above
    const got = await float32Sha256(t.data);
    if (got !== want) {
      throw new WeightsError(
        `${file}: tensor ${key} does not match the official weights: sha256 ${got}, ` +
          `pinned ${want}`,
      );
    }
  }
}

/**
 * Loads a weight file: resolves it ({@linkcode resolveFile}: `src.path`, `src.weightsDir` /
 * `$LPIPS_WEIGHTS_DIR`, the user cache, a download), reads it with the safe `.pth` reader, keeps
 * and renames the tensors `desc.select` picks, and checks them ({@linkcode verifyWeights}; the
 * record's pins only when the file was found by name, not for an explicit `src.path`).
 *
 * @example
 * ```ts ignore
 * import { loadWeightFile } from "./weights.ts";
 * import { lpipsWeightFiles } from "./weight_files.ts";
 * const [, heads] = lpipsWeightFiles("alex", "0.1");
 * const lin = await loadWeightFile(heads, { weightsDir: "./weights" });
 * console.log([...lin.keys()]); // ["lin0.model.1.weight", ...]
 * ```
 */
export async function loadWeightFile(
  desc: WeightFile,
  src: ResolveOptions = {},
): Promise<WeightMap> {
  const path = await resolveFile(desc, src);
  const raw = await readPthFile(path);
  const tensors = desc.select ? desc.select(raw) : raw;
  return await verifyWeights(path, desc, tensors, src.path === undefined ? desc.pinned : undefined);
}

/**
 * The checks of {@linkcode loadWeightFile} on tensors already read and selected from `file`:
 * float32 conversion, {@linkcode checkTensors} against `desc.tensors` with `pinned`, then
 * `desc.validate`. Returns the float32 values by key.
 *
 * @example
 * ```ts
 * import { verifyWeights, type WeightFile } from "./weights.ts";
 * import type { PthTensor } from "./pth/pth.ts";
 * const desc: WeightFile = {
 *   name: "w.pth",
 *   kind: "head",
 *   url: "",
 *   sha256: "",
 *   tensors: [{ key: "w", shape: [2] }],
 * };
 * const raw: PthTensor = { dtype: "float32", shape: [2], data: new Float32Array([1, 2]) };
 * console.log(await verifyWeights("w.pth", desc, new Map([["w", raw]]), undefined));
 * ```
 */
export async function verifyWeights(
  file: string,
  desc: WeightFile,
  tensors: ReadonlyMap<string, PthTensor>,
  pinned: Readonly<Record<string, string>> | undefined,
): Promise<WeightMap> {
  const floats = new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: toFloat32(t) }]));
  await checkTensors(file, floats, desc.tensors, { pinned });
  const weights = new Map([...floats].map(([k, t]) => [k, t.data]));
  desc.validate?.(file, weights);
  return weights;
}
