/**
 * Weight files (and the README's example images): their official names and URLs, where they are
 * found, how they are downloaded and verified, and the checks every loaded tensor goes through.
 *
 * ## Names
 *
 * Every file has an official relative name, which is also where it lives in every folder below:
 *
 * - trunks (torchvision ImageNet weights): `alexnet-owt-7be5be79.pth`,
 *   `squeezenet1_1-b8a52dc0.pth`, `vgg16-397923af.pth`, from
 *   `https://download.pytorch.org/models/<name>`;
 * - LPIPS linear heads: `lpips/v0.0/{alex,squeeze,vgg}.pth` and
 *   `lpips/v0.1/{alex,squeeze,vgg}.pth`, from `<repo>/lpips/weights/v0.x/<net>.pth`;
 * - example images: `ex_ref.png`, `ex_p0.png`, `ex_p1.png`, from `<repo>/imgs/<name>`.
 *
 * `<repo>` is `https://raw.githubusercontent.com/richzhang/PerceptualSimilarity/<commit>` at the
 * pinned commit {@linkcode LPIPS_REPO_COMMIT}.
 *
 * ## Resolution order ({@linkcode resolveFile})
 *
 * 1. an explicit path (`opts.path`); if it does not exist that is an error;
 * 2. a local folder: `opts.weightsDir`, else `$LPIPS_WEIGHTS_DIR`, holding trunks and heads under
 *    their relative names (`$LPIPS_WEIGHTS_DIR/alexnet-owt-7be5be79.pth`,
 *    `$LPIPS_WEIGHTS_DIR/lpips/v0.1/alex.pth`); for images `opts.imagesDir`, else
 *    `$LPIPS_IMAGES_DIR` (`$LPIPS_IMAGES_DIR/ex_ref.png`). A folder that was named but lacks
 *    the file is an error, never a silent download;
 * 3. the user cache: `opts.cacheDir`, else `$XDG_CACHE_HOME/lpips`, else `~/.cache/lpips`, with
 *    weights under their relative names and images under `images/<name>`;
 * 4. a download into that cache (unless `opts.download` is `false`).
 *
 * ## Mirrors
 *
 * `$LPIPS_WEIGHTS_URL` (or `opts.baseUrl`) replaces both official weight hosts with one base URL:
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
 * {@linkcode checkTensors}, with the per-tensor hashes of {@linkcode pinnedTensorHashes} where the
 * file is pinned, whatever its source.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { startProgress } from "../_internal/progress_bar.ts";
import { fetchFailure, sha256Hex, writeAll } from "../_internal/http_download.ts";
import { PINNED_TENSOR_SHA256 } from "./_pinned_hashes.ts";
import type { NetName } from "./arch.ts";

/** Commit of richzhang/PerceptualSimilarity from which heads and example images are fetched. */
export const LPIPS_REPO_COMMIT = "082bb24f84c091ea94de2867d34c4544f68e0963";

const TORCHVISION_BASE = "https://download.pytorch.org/models";
const REPO_BASE =
  `https://raw.githubusercontent.com/richzhang/PerceptualSimilarity/${LPIPS_REPO_COMMIT}`;

/** What an official file is: a torchvision trunk, an LPIPS linear head, or an example image. */
export type OfficialFileKind = "trunk" | "head" | "image";

/**
 * An official file: its relative name, kind, official URL and what a download must hash to.
 *
 * @example
 * ```ts
 * import { officialFile } from "./weights.ts";
 * const f = officialFile("alexnet-owt-7be5be79.pth");
 * console.log(f.kind, f.url, f.sha256Prefix); // trunk https://download.pytorch.org/... 7be5be79
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
 * Official torchvision file name of each trunk's ImageNet weights.
 *
 * @example
 * ```ts
 * import { TRUNK_FILES } from "./weights.ts";
 * console.log(TRUNK_FILES.alex); // alexnet-owt-7be5be79.pth
 * ```
 */
export const TRUNK_FILES: Readonly<Record<NetName, string>> = {
  alex: "alexnet-owt-7be5be79.pth",
  squeeze: "squeezenet1_1-b8a52dc0.pth",
  vgg: "vgg16-397923af.pth",
};

/**
 * The example triplet of the LPIPS README (64x64 PNGs), used by the demo.
 *
 * @example
 * ```ts
 * import { EXAMPLE_IMAGES } from "./weights.ts";
 * console.log(EXAMPLE_IMAGES.join(" ")); // ex_ref.png ex_p0.png ex_p1.png
 * ```
 */
export const EXAMPLE_IMAGES: readonly ["ex_ref.png", "ex_p0.png", "ex_p1.png"] = [
  "ex_ref.png",
  "ex_p0.png",
  "ex_p1.png",
];

const HEADS: readonly [string, number, string][] = [
  ["lpips/v0.0/alex.pth", 5455, "18720f55913d0af89042f13faa7e536a6ce1444a0914e6db9461355ece1e8cd5"],
  [
    "lpips/v0.0/squeeze.pth",
    10057,
    "c27abd3a0145541baa50990817df58d3759c3f8154949f42af3b59b4e042d0bf",
  ],
  ["lpips/v0.0/vgg.pth", 6735, "b9e4236260c3dd988fc79d2a48d645d885afcbb21f9fd595e6744cf7419b582c"],
  ["lpips/v0.1/alex.pth", 6009, "df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0"],
  [
    "lpips/v0.1/squeeze.pth",
    10811,
    "4a5350f23600cb79923ce65bb07cbf57dca461329894153e05a1346bd531cf76",
  ],
  ["lpips/v0.1/vgg.pth", 7289, "a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868"],
];

const IMAGES: readonly [string, number, string][] = [
  ["ex_ref.png", 9464, "57aff3a0aeb6ebea151411f35b4487ea130aedcac6addd91c8c015969f9df097"],
  ["ex_p0.png", 7518, "f44901a99c82755cfe78cdbde66579ae06cd0ebbba4a2539aa35ef96bbe703db"],
  ["ex_p1.png", 10078, "6ada2a42a3378bfa408027ba2d54a827c6f2cec30a0506e4f140fddaca661022"],
];

/**
 * Every official file this module can resolve.
 *
 * @example
 * ```ts
 * import { OFFICIAL_FILES } from "./weights.ts";
 * for (const f of OFFICIAL_FILES) console.log(f.kind, f.name);
 * ```
 */
export const OFFICIAL_FILES: readonly OfficialFile[] = [
  ...Object.values(TRUNK_FILES).map((name): OfficialFile => ({
    name,
    kind: "trunk",
    url: `${TORCHVISION_BASE}/${name}`,
    sha256Prefix: namePrefix(name),
  })),
  ...HEADS.map(([name, size, sha256]): OfficialFile => ({
    name,
    kind: "head",
    url: `${REPO_BASE}/lpips/weights/${name.slice("lpips/".length)}`,
    sha256,
    size,
  })),
  ...IMAGES.map(([name, size, sha256]): OfficialFile => ({
    name,
    kind: "image",
    url: `${REPO_BASE}/imgs/${name}`,
    sha256,
    size,
  })),
];

/** The 8 (or more) hex digits between the last `-` and the next `.` of a torchvision name. */
function namePrefix(name: string): string {
  const m = /-([0-9a-f]{8,})\.[^-]*$/.exec(name);
  if (!m) throw new Error(`internal: no hash prefix in ${name}`);
  return m[1];
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

/**
 * The official file name of a trunk's ImageNet weights (torchvision's), as LPIPS looks for it in
 * `weightsDir` / `$LPIPS_WEIGHTS_DIR` and the user cache.
 *
 * @example
 * ```ts
 * import { trunkFileName } from "@perceptual/lpips/lpips";
 * console.log(trunkFileName("squeeze")); // squeezenet1_1-b8a52dc0.pth
 * ```
 */
export function trunkFileName(net: NetName): string {
  const name = Object.hasOwn(TRUNK_FILES, net) ? TRUNK_FILES[net] : undefined;
  if (!name) throw new WeightsError(`unknown network "${net}" (expected alex, squeeze or vgg)`);
  return name;
}

/**
 * The official relative name of an LPIPS linear-head (`lin{k}`) file, as LPIPS looks for it below
 * `weightsDir` / `$LPIPS_WEIGHTS_DIR` and the user cache.
 *
 * @example
 * ```ts
 * import { linFileName } from "@perceptual/lpips/lpips";
 * console.log(linFileName("alex", "0.1")); // lpips/v0.1/alex.pth
 * ```
 */
export function linFileName(net: NetName, version: string = "0.1"): string {
  if (!Object.hasOwn(TRUNK_FILES, net)) {
    throw new WeightsError(`unknown network "${net}" (expected alex, squeeze or vgg)`);
  }
  if (version !== "0.1" && version !== "0.0") {
    throw new WeightsError(`unknown LPIPS version "${version}" (expected 0.1 or 0.0)`);
  }
  return `lpips/v${version}/${net}.pth`;
}

/**
 * Looks up an official file by its relative name; an unknown name is an error listing the known
 * ones.
 *
 * @example
 * ```ts
 * import { officialFile } from "./weights.ts";
 * console.log(officialFile("lpips/v0.1/alex.pth").sha256); // df73285e...
 * ```
 */
export function officialFile(name: string): OfficialFile {
  const f = OFFICIAL_FILES.find((x) => x.name === name);
  if (!f) {
    throw new WeightsError(
      `unknown weight file "${name}"; known: ${OFFICIAL_FILES.map((x) => x.name).join(", ")}`,
    );
  }
  return f;
}

/**
 * A file to resolve: an official relative name, or a description of another file (e.g. an older
 * torchvision release) with its own name, URL and hash.
 */
export type FileRef = string | OfficialFile;

/** The description of a file reference, checked: a safe relative name and some hash to verify. */
function toFile(ref: FileRef): OfficialFile {
  if (typeof ref === "string") return officialFile(ref);
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

/**
 * Per-tensor SHA-256 pins (tensor key -> hex hash of its float32 little-endian bytes) for an
 * official file, or `undefined` where the file is not pinned (VGG16, whose ImageNet weights could
 * not be pinned here). Pass them to {@linkcode checkTensors} when loading that official file.
 *
 * @example
 * ```ts
 * import { pinnedTensorHashes } from "./weights.ts";
 * const pins = pinnedTensorHashes("lpips/v0.1/alex.pth");
 * console.log(Object.keys(pins ?? {})); // ["lin0.model.1.weight", ...]
 * ```
 */
export function pinnedTensorHashes(name: string): Readonly<Record<string, string>> | undefined {
  return Object.hasOwn(PINNED_TENSOR_SHA256, name) ? PINNED_TENSOR_SHA256[name] : undefined;
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
 * The path an official file has (or would have) in the user cache.
 *
 * @example
 * ```ts
 * import { cachePath } from "./weights.ts";
 * console.log(cachePath("lpips/v0.1/alex.pth", { cacheDir: "/tmp/c" }));
 * // /tmp/c/lpips/v0.1/alex.pth
 * ```
 */
export function cachePath(name: FileRef, opts: { cacheDir?: string; env?: Env } = {}): string {
  return join(userCacheDir(opts), cacheRelative(toFile(name)));
}

/**
 * The URL a file is downloaded from: `<base>/<relative name>` when a mirror base is set
 * (`opts.baseUrl`, else `LPIPS_WEIGHTS_URL` for weights / `LPIPS_IMAGES_URL` for images),
 * otherwise the official URL.
 *
 * @example
 * ```ts
 * import { downloadUrl } from "./weights.ts";
 * console.log(downloadUrl("lpips/v0.1/alex.pth", { baseUrl: "http://mirror/w/" }));
 * // http://mirror/w/lpips/v0.1/alex.pth
 * ```
 */
export function downloadUrl(name: FileRef, opts: { baseUrl?: string; env?: Env } = {}): string {
  const file = toFile(name);
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
 * Finds a file (an official relative name, or a {@linkcode FileRef} description) and returns its
 * path, downloading it into the user cache if needed. Order: `opts.path` -> `opts.weightsDir` / `$LPIPS_WEIGHTS_DIR` (images: `opts.imagesDir` /
 * `$LPIPS_IMAGES_DIR`) -> user cache -> download (see the module doc). A path or folder that was
 * given but lacks the file is an error naming the path.
 *
 * @example
 * ```ts ignore
 * import { resolveFile, trunkFileName } from "./weights.ts";
 * const trunk = await resolveFile(trunkFileName("alex"));   // may download ~233 MiB once
 * const head = await resolveFile("lpips/v0.1/alex.pth", { weightsDir: "./weights" });
 * ```
 */
export async function resolveFile(ref: FileRef, opts: ResolveOptions = {}): Promise<string> {
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
 * const path = await downloadFile("lpips/v0.1/alex.pth"); // ~/.cache/lpips/lpips/v0.1/alex.pth
 * ```
 */
export async function downloadFile(ref: FileRef, opts: ResolveOptions = {}): Promise<string> {
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
 * `tensors.tsv` and {@linkcode pinnedTensorHashes} use.
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
  /** Tensor key -> SHA-256 of its float32 LE bytes; see {@linkcode pinnedTensorHashes}. */
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
 * import { checkTensors, linFileName, pinnedTensorHashes } from "./weights.ts";
 * const name = linFileName("alex", "0.1");
 * const lin0 = { shape: [1, 64, 1, 1], data: new Float32Array(64) };
 * const tensors = new Map([["lin0.model.1.weight", lin0]]);
 * await checkTensors(name, tensors, [{ key: "lin0.model.1.weight", shape: [1, 64, 1, 1] }]);
 * // with the real file: { pinned: pinnedTensorHashes(name) }
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
