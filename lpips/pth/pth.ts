/**
 * A safe reader (and writer) of PyTorch `.pth` state dicts, in both of PyTorch's formats: the zip
 * archive of torch >= 1.6 and the legacy pre-zip stream (docs/algorithm.md §1.3).
 *
 * Unlike `torch.load`, reading a file here cannot run code: the pickle inside is executed by a
 * restricted machine that knows only the globals a state dict needs (`collections.OrderedDict`,
 * the tensor and parameter rebuild functions, the `torch.*Storage` types) and refuses any other
 * global by name. Every size and offset in the file is checked before it is used, and memory
 * stays proportional to the file's size.
 *
 * @example Read LPIPS linear-head weights
 * ```ts
 * import { join } from "node:path";
 * import { readPth, toFloat32 } from "./pth.ts";
 * const file = join(Deno.env.get("LPIPS_WEIGHTS_DIR") ?? ".", "lpips/v0.1/alex.pth");
 * const state = readPth(await Deno.readFile(file), file);
 * const w = state.get("lin0.model.1.weight")!;
 * console.log(w.shape, toFloat32(w).length); // [1, 64, 1, 1] 64
 * ```
 *
 * @module
 */
import { readFailure } from "../../_internal/fs_errors.ts";
import { readRegularFile } from "../../_internal/read_file.ts";
import {
  type GlobalHandler,
  kindOf,
  loadPickle,
  PickleError,
  type PickleHooks,
  PyBox,
  PyDict,
  PyGlobal,
  PyList,
  PyTuple,
  type PyValue,
} from "./_pickle.ts";
import {
  type InflateBudget,
  looksLikeZip,
  readZipDirectory,
  writeZip,
  type ZipEntry,
  zipEntryData,
  ZipError,
} from "./zip.ts";

/** Element types a `.pth` storage can hold. */
export type PthDType =
  | "float32"
  | "float64"
  | "float16"
  | "bfloat16"
  | "int64"
  | "int32"
  | "int16"
  | "int8"
  | "uint8"
  | "bool";

/**
 * Tensor values, by dtype: `Float32Array` (float32), `Float64Array` (float64), `Uint16Array`
 * (the raw bits of float16 and bfloat16), `BigInt64Array` (int64), `Int32Array`, `Int16Array`,
 * `Int8Array`, `Uint8Array` (uint8, and bool as 0/1).
 */
export type PthData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

/**
 * One tensor of a state dict: its values in C order (row-major, contiguous), with the file's
 * storage offset and strides already applied. `data` is always a fresh buffer of its own, never a
 * view of the bytes that were read.
 *
 * @example
 * ```ts
 * import type { PthTensor } from "@perceptual/lpips/lpips";
 * const t: PthTensor = { dtype: "float32", shape: [2], data: new Float32Array([1, 2]) };
 * ```
 */
export interface PthTensor {
  /** The element type of the storage it was read from. */
  dtype: PthDType;
  /** Its size along each axis (`[]` for a scalar). */
  shape: number[];
  /** Its values in C order, in the typed array of its dtype (see {@link PthData}). */
  data: PthData;
}

/**
 * Every failure to read or write a `.pth` file. The message starts with the file name given.
 *
 * @example
 * ```ts
 * import { PthError, readPth } from "@perceptual/lpips/lpips";
 * try {
 *   readPth(new Uint8Array([1, 2, 3]), "junk.pth");
 * } catch (e) {
 *   console.log(e instanceof PthError, (e as Error).message.startsWith("junk.pth: "));
 * }
 * ```
 */
export class PthError extends Error {
  /** Always `"PthError"`. */
  override name = "PthError";
}

interface DTypeInfo {
  dtype: PthDType;
  size: number;
}

/** The storage classes a state dict's persistent ids may name, with their element types. */
const STORAGES: Record<string, DTypeInfo> = {
  FloatStorage: { dtype: "float32", size: 4 },
  DoubleStorage: { dtype: "float64", size: 8 },
  HalfStorage: { dtype: "float16", size: 2 },
  BFloat16Storage: { dtype: "bfloat16", size: 2 },
  LongStorage: { dtype: "int64", size: 8 },
  IntStorage: { dtype: "int32", size: 4 },
  ShortStorage: { dtype: "int16", size: 2 },
  CharStorage: { dtype: "int8", size: 1 },
  ByteStorage: { dtype: "uint8", size: 1 },
  BoolStorage: { dtype: "bool", size: 1 },
};

/** A storage named by a persistent id: its key in the file, element type and element count. */
interface StorageRef {
  key: string;
  info: DTypeInfo;
  numel: number;
  /** Legacy files only: this storage is a slice of the root storage `key`. */
  view?: { offset: number; numel: number };
}

/** What the rebuild functions return: a tensor described, not yet read. */
interface TensorRef {
  storage: StorageRef;
  offset: number;
  shape: number[];
  stride: number[];
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
const MAX_DIMS = 64;

/**
 * Reads a PyTorch `.pth` state dict (zip or legacy format) without executing anything in it.
 * Returns key -> tensor in the file's dict order. `name` (the file name) starts every error
 * message. Throws {@linkcode PthError} for anything malformed, truncated, or not a plain state
 * dict of tensors.
 *
 * @example Read a torchvision trunk from the weights folder
 * ```ts
 * import { join } from "node:path";
 * import { readPth, trunkFileName } from "@perceptual/lpips/lpips";
 * const file = join(Deno.env.get("LPIPS_WEIGHTS_DIR") ?? ".", trunkFileName("squeeze"));
 * const state = readPth(await Deno.readFile(file), file);
 * for (const [key, t] of state) console.log(key, t.dtype, t.shape); // features.0.weight float32 [64, 3, 3, 3] ...
 * ```
 */
export function readPth(bytes: Uint8Array, name = "<pth>"): Map<string, PthTensor> {
  try {
    if (!LITTLE_ENDIAN_HOST) throw new PthError(`${name}: big-endian hosts are not supported`);
    const reader = new Reader(bytes);
    return looksLikeZip(bytes) ? reader.readZip() : reader.readLegacy();
  } catch (e) {
    if (e instanceof FormatError || e instanceof PickleError || e instanceof ZipError) {
      throw new PthError(`${name}: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/** The largest `.pth` file read: 4 GiB, far above any official (vgg16: 528 MB) or training file. */
export const MAX_PTH_BYTES = 4 * 1024 ** 3;

/**
 * Reads a `.pth` file from disk with {@linkcode readPth}, its cost bounded first: only a regular
 * file is opened (a folder, FIFO or device such as `/dev/zero` is refused at once), a file that
 * does not start as a zip archive or a pickle stream is refused after its first bytes, and one
 * over {@linkcode MAX_PTH_BYTES} before it is read. Every error is a {@linkcode PthError} naming
 * the file.
 *
 * @example
 * ```ts
 * import { readPthFile } from "@perceptual/lpips/lpips";
 * await readPthFile("/dev/zero").catch((e) => console.log(e.message));
 * // /dev/zero: cannot read (it is a character device, not a regular file)
 * ```
 */
export async function readPthFile(path: string): Promise<Map<string, PthTensor>> {
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(path, {
      maxBytes: MAX_PTH_BYTES,
      what: "a weight file",
      headBytes: 512,
      checkHead: (head, size) => {
        if (size > head.length && !looksLikeZip(head) && head[0] !== 0x80) {
          // readPth's own words for the same bytes (a tar archive, or not a PyTorch file).
          readPth(head, path);
        }
      },
    });
  } catch (e) {
    if (e instanceof PthError) throw e;
    throw new PthError(`${path}: cannot read (${readFailure(e)})`, { cause: e });
  }
  return readPth(bytes, path);
}

/**
 * The values of a tensor as float32, converting when the tensor holds another type. A float32
 * tensor's own `data` is returned (not a copy).
 *
 * @example
 * ```ts
 * import { toFloat32 } from "@perceptual/lpips/lpips";
 * const half = { dtype: "float16" as const, shape: [2], data: new Uint16Array([0x3c00, 0xc000]) };
 * console.log(toFloat32(half)); // Float32Array [1, -2]
 * ```
 */
export function toFloat32(t: PthTensor): Float32Array {
  const d = t.data;
  switch (t.dtype) {
    case "float32":
      return d as Float32Array;
    case "int64": {
      const src = d as BigInt64Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
      return out;
    }
    case "bfloat16": {
      const src = d as Uint16Array;
      const bits = new Uint32Array(src.length);
      for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
      return new Float32Array(bits.buffer);
    }
    case "float16": {
      const src = d as Uint16Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = halfToFloat(src[i]);
      return out;
    }
    default:
      return new Float32Array(d as Exclude<PthData, BigInt64Array>);
  }
}

/**
 * Writes float32 tensors as a PyTorch zip-format `.pth` that `torch.load` reads as a state dict
 * (an `OrderedDict` of tensors). Entries are stored uncompressed with 64-byte aligned data, as
 * torch writes them; `archiveName` is the archive's top folder (torch uses the file name
 * without `.pth`). Throws {@linkcode PthError} when a shape does not match its data.
 *
 * @example
 * ```ts
 * import { readPth, writePth } from "@perceptual/lpips/lpips";
 * const bytes = writePth(new Map([["w", { shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }]]));
 * console.log(readPth(bytes).get("w")!.shape); // [2, 2]
 * ```
 */
export function writePth(
  state: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array }>,
  archiveName = "archive",
): Uint8Array {
  const fail = (msg: string): never => {
    throw new PthError(`${archiveName}: ${msg}`);
  };
  const plain = archiveName.length > 0 && !/[/\\]/.test(archiveName) &&
    ![...archiveName].some((c) => c.charCodeAt(0) < 0x20);
  if (!plain || archiveName === "." || archiveName === "..") {
    fail("archive name must be a plain file name");
  }
  const p = new PickleWriter();
  p.proto2();
  p.global("collections", "OrderedDict");
  p.op(0x71, 0); // BINPUT 0: reused for each tensor's empty backward_hooks
  p.op(0x29); // EMPTY_TUPLE
  p.op(0x52); // REDUCE
  p.op(0x28); // MARK
  const files: { name: string; data: Uint8Array }[] = [];
  let i = 0;
  for (const [key, t] of state) {
    const shape = [...t.shape];
    let numel = 1;
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0) fail(`tensor ${key} has an invalid shape [${shape}]`);
      numel *= d;
    }
    if (numel !== t.data.length) {
      fail(`tensor ${key} has shape [${shape}] but ${t.data.length} values`);
    }
    const stride = shape.map(() => 0);
    for (let k = shape.length - 1, s = 1; k >= 0; k--) {
      stride[k] = s;
      s *= shape[k];
    }
    const storageKey = String(i++);
    p.unicode(key);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.op(0x28); // MARK: arguments
    p.op(0x28); // MARK: persistent id
    p.unicode("storage");
    p.global("torch", "FloatStorage");
    p.unicode(storageKey);
    p.unicode("cpu");
    p.int(numel);
    p.op(0x74); // TUPLE
    p.op(0x51); // BINPERSID
    p.int(0); // storage offset
    p.tuple(shape);
    p.tuple(stride);
    p.op(0x89); // NEWFALSE: requires_grad
    p.op(0x68, 0); // BINGET 0: OrderedDict
    p.op(0x29); // EMPTY_TUPLE
    p.op(0x52); // REDUCE: backward_hooks = OrderedDict()
    p.op(0x74); // TUPLE
    p.op(0x52); // REDUCE: _rebuild_tensor_v2(...)
    const d = t.data;
    files.push({
      name: `${archiveName}/data/${storageKey}`,
      data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
    });
  }
  p.op(0x75); // SETITEMS
  p.op(0x2e); // STOP
  const text = (s: string) => new TextEncoder().encode(s);
  try {
    return writeZip([
      { name: `${archiveName}/data.pkl`, data: p.bytes() },
      { name: `${archiveName}/byteorder`, data: text("little") },
      ...files,
      { name: `${archiveName}/version`, data: text("3\n") },
    ]);
  } catch (e) {
    if (e instanceof ZipError) fail(e.message);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

/** A malformed file, found outside the pickle machine. */
class FormatError extends Error {}

function fail(msg: string): never {
  throw new FormatError(msg);
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Globals the pickles of a legacy file's header may use: none. */
const NO_GLOBALS: PickleHooks = { globals: new Map() };

class Reader {
  /** Storages named by persistent ids, by key. */
  private storages = new Map<string, StorageRef>();
  /** Bytes that tensors may still copy: bounded by a multiple of the input's size. */
  private copyBudget: number;
  private inflateBudget: InflateBudget;
  private hooks: PickleHooks;

  constructor(private bytes: Uint8Array, private legacy = !looksLikeZip(bytes)) {
    this.copyBudget = 4 * bytes.length + (64 << 20);
    this.inflateBudget = { left: Math.min(2 ** 31, 1100 * bytes.length) };
    this.hooks = {
      globals: this.allowedGlobals(),
      persistentLoad: (pid) => new PyBox("storage", this.persistentLoad(pid)),
    };
  }

  readLegacy(): Map<string, PthTensor> {
    const bytes = this.bytes;
    if (bytes.length >= 262 && text(bytes.subarray(257, 262)) === "ustar") {
      fail("is a tar archive (the format of torch < 0.1.10), which is not supported");
    }
    if (bytes.length === 0 || bytes[0] !== 0x80) {
      fail("not a PyTorch file (neither a zip archive nor a legacy pickle stream)");
    }
    const magic = loadPickle(bytes, 0, NO_GLOBALS);
    if (magic.value !== LEGACY_MAGIC) fail("wrong magic number: not a PyTorch legacy file");
    const protocol = loadPickle(bytes, magic.end, NO_GLOBALS);
    if (protocol.value !== LEGACY_PROTOCOL) {
      fail(`unsupported legacy protocol version ${describe(protocol.value)} (expected 1001)`);
    }
    const sysInfo = loadPickle(bytes, protocol.end, NO_GLOBALS);
    if (!(sysInfo.value instanceof PyDict)) fail("sys_info is not a dict");
    const little = sysInfo.value.map.get("little_endian");
    if (little !== true) fail("big-endian files are not supported (sys_info little_endian false)");
    const main = loadPickle(bytes, sysInfo.end, this.hooks);
    const keyList = loadPickle(bytes, main.end, NO_GLOBALS);
    if (!(keyList.value instanceof PyList)) fail("storage key list is not a list");
    const data = new Map<string, Uint8Array>();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let pos = keyList.end;
    for (const key of keyList.value.items) {
      if (typeof key !== "string") fail("storage key list holds a non-string");
      const ref = this.storages.get(key);
      if (!ref) fail(`storage ${key} is listed but no tensor uses it`);
      if (data.has(key)) fail(`storage ${key} is listed twice`);
      if (bytes.length - pos < 8) fail(`truncated before storage ${key} (offset ${pos})`);
      const count = view.getBigInt64(pos, true);
      pos += 8;
      const left = bytes.length - pos;
      if (count < 0n || count * BigInt(ref.info.size) > BigInt(left)) {
        fail(
          `storage ${key} declares ${count} elements of ${ref.info.size} bytes ` +
            `but only ${left} bytes remain (truncated file?)`,
        );
      }
      const n = Number(count);
      if (n !== ref.numel) {
        fail(`storage ${key} holds ${n} elements but its persistent id says ${ref.numel}`);
      }
      data.set(key, bytes.subarray(pos, pos + n * ref.info.size));
      pos += n * ref.info.size;
    }
    for (const key of this.storages.keys()) {
      if (!data.has(key)) fail(`storage ${key} is used but missing from the storage key list`);
    }
    return this.materialize(main.value, data);
  }

  readZip(): Map<string, PthTensor> {
    const entries = readZipDirectory(this.bytes);
    const pkls = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (pkls.length === 0) fail("zip archive without a <name>/data.pkl entry");
    if (pkls.length > 1) fail(`zip archive with several data.pkl entries (${pkls.join(", ")})`);
    const prefix = pkls[0].slice(0, -"data.pkl".length);
    const entry = (n: string): ZipEntry | undefined => entries.get(prefix + n);
    const order = entry("byteorder");
    if (order) {
      const value = text(zipEntryData(this.bytes, order, this.inflateBudget)).trim();
      if (value !== "little") fail(`unsupported byte order "${printable(value.slice(0, 20))}"`);
    }
    const inflateStart = this.inflateBudget.left;
    const pkl = zipEntryData(this.bytes, entry("data.pkl")!, this.inflateBudget);
    const main = loadPickle(pkl, 0, this.hooks);
    const data = new Map<string, Uint8Array>();
    for (const [key, ref] of this.storages) {
      const e = entry(`data/${key}`);
      if (!e) fail(`missing entry ${prefix}data/${key} for storage ${key}`);
      const nbytes = ref.numel * ref.info.size;
      if (e.size !== nbytes) {
        fail(`entry ${e.name} has ${e.size} bytes, expected ${ref.numel} x ${ref.info.size}`);
      }
      data.set(key, zipEntryData(this.bytes, e, this.inflateBudget));
    }
    // Inflated entries count towards the data a file may legitimately hold.
    this.copyBudget += 2 * (inflateStart - this.inflateBudget.left);
    return this.materialize(main.value, data);
  }

  /** The allow-list: exactly the globals a state dict needs, each with a fixed behaviour. */
  private allowedGlobals(): Map<string, GlobalHandler> {
    const g = new Map<string, GlobalHandler>();
    g.set("collections.OrderedDict", {
      call: (args) => orderedDict(args),
      construct: () => new PyDict(true),
    });
    g.set("torch._utils._rebuild_tensor_v2", {
      call: (args) => {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        if (args.length !== 6 && args.length !== 7) {
          bad(`_rebuild_tensor_v2 with ${args.length} arguments`);
        }
        return tensorBox(args);
      },
    });
    g.set("torch._utils._rebuild_tensor", {
      call: (args) => {
        if (args.length !== 4) bad(`_rebuild_tensor with ${args.length} arguments`);
        return tensorBox(args);
      },
    });
    g.set("torch._utils._rebuild_parameter", {
      call: (args) => {
        // (data, requires_grad, backward_hooks): the parameter is its data here.
        if (args.length !== 3) bad(`_rebuild_parameter with ${args.length} arguments`);
        const t = args[0];
        if (!(t instanceof PyBox) || t.tag !== "tensor") {
          bad(`_rebuild_parameter of a ${kindOf(t)}`);
        }
        return t;
      },
    });
    for (const s of Object.keys(STORAGES)) g.set(`torch.${s}`, {});
    return g;
  }

  /** `('storage', torch.XStorage, key, location, numel[, view_metadata])` -> a storage. */
  private persistentLoad(pid: PyValue): StorageRef {
    if (!(pid instanceof PyTuple) || pid.items[0] !== "storage") {
      bad(`unsupported persistent id (${kindOf(pid)}): only storages are allowed`);
    }
    const it = pid.items;
    if (it.length !== (this.legacy ? 6 : 5)) bad(`storage persistent id with ${it.length} fields`);
    const [, type, key, location, numel] = it;
    if (!(type instanceof PyGlobal) || type.module !== "torch" || !(type.name in STORAGES)) {
      bad(`persistent id names ${kindOf(type)}, not a torch storage type`);
    }
    if (typeof key !== "string" || key.length === 0 || key.length > 256) {
      bad("storage key is not a short string");
    }
    if (typeof location !== "string") bad("storage location is not a string");
    const info = STORAGES[type.name];
    const ref: StorageRef = { key, info, numel: count(numel, "storage size") };
    if (this.legacy && it[5] !== null) {
      const v = it[5];
      if (!(v instanceof PyTuple) || v.items.length !== 3) bad("malformed storage view metadata");
      const offset = count(v.items[1], "storage view offset");
      const size = count(v.items[2], "storage view size");
      if (offset + size > ref.numel) {
        bad(`storage view [${offset}, ${offset + size}) outside storage ${key} of ${ref.numel}`);
      }
      ref.view = { offset, numel: size };
    }
    const known = this.storages.get(key);
    if (!known) this.storages.set(key, { key, info, numel: ref.numel });
    else if (known.info !== info || known.numel !== ref.numel) {
      bad(`storage ${key} is named with two different types or sizes`);
    }
    return ref;
  }

  /** Checks the top-level dict and reads every tensor out of the storage bytes. */
  private materialize(top: PyValue, data: Map<string, Uint8Array>): Map<string, PthTensor> {
    if (!(top instanceof PyDict)) fail(`top-level object is a ${kindOf(top)}, not a state dict`);
    const out = new Map<string, PthTensor>();
    const aligned = new Map<Uint8Array, Uint8Array<ArrayBuffer>>();
    for (const [key, value] of top.map) {
      if (typeof key !== "string") fail(`state dict key is a ${kindOf(key)}, not a string`);
      const k = printable(key);
      if (!(value instanceof PyBox) || value.tag !== "tensor") {
        fail(`state dict value ${k} is a ${kindOf(value)}, not a tensor`);
      }
      const t = value.value as TensorRef;
      const { info, view } = t.storage;
      let bytes = data.get(t.storage.key)!;
      let storageNumel = t.storage.numel;
      if (view) {
        bytes = bytes.subarray(view.offset * info.size, (view.offset + view.numel) * info.size);
        storageNumel = view.numel;
      }
      let numel = 1;
      for (const d of t.shape) numel *= d;
      if (!Number.isSafeInteger(numel)) fail(`tensor ${k} has an absurd shape [${t.shape}]`);
      let contiguous = true;
      if (numel > 0) {
        let last = t.offset;
        for (let i = 0; i < t.shape.length; i++) last += (t.shape[i] - 1) * t.stride[i];
        if (last >= storageNumel) {
          fail(
            `tensor ${k} (offset ${t.offset}, shape [${t.shape}], stride [${t.stride}]) ` +
              `reaches element ${last} of a storage of ${storageNumel}`,
          );
        }
        for (let i = t.shape.length - 1, s = 1; i >= 0; i--) {
          if (t.shape[i] !== 1 && t.stride[i] !== s) contiguous = false;
          s *= t.shape[i];
        }
      }
      const nbytes = numel * info.size;
      if (nbytes > this.copyBudget) {
        fail(`tensor ${k} of ${numel} elements exceeds the memory bound for this file`);
      }
      this.copyBudget -= nbytes;
      let raw: Uint8Array<ArrayBuffer>;
      if (contiguous) {
        raw = bytes.slice(t.offset * info.size, t.offset * info.size + nbytes);
      } else {
        let src = aligned.get(bytes);
        if (!src) {
          if (bytes.length > this.copyBudget) fail(`tensor ${k} exceeds the memory bound`);
          this.copyBudget -= bytes.length;
          src = bytes.slice();
          aligned.set(bytes, src);
        }
        raw = gather(src, info.size, numel, t);
      }
      out.set(key, { dtype: info.dtype, shape: t.shape, data: typed(info.dtype, raw.buffer) });
    }
    return out;
  }
}

/** `OrderedDict()` or `OrderedDict(pairs)` (how old torch pickled state dicts). */
function orderedDict(args: readonly PyValue[]): PyDict {
  const dict = new PyDict(true);
  if (args.length === 0) return dict;
  if (args.length !== 1 || !(args[0] instanceof PyList || args[0] instanceof PyTuple)) {
    bad("OrderedDict called with unsupported arguments");
  }
  for (const pair of args[0].items) {
    const kv = pair instanceof PyList || pair instanceof PyTuple ? pair.items : null;
    if (!kv || kv.length !== 2) bad("OrderedDict item is not a (key, value) pair");
    const k = kv[0];
    if (k instanceof PyList || k instanceof PyDict) bad("unhashable OrderedDict key");
    dict.map.set(k, kv[1]);
  }
  return dict;
}

/** Validates `(storage, offset, size, stride, ...)` and describes the tensor. */
function tensorBox(args: readonly PyValue[]): PyBox<TensorRef> {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof PyBox) || storage.tag !== "storage") {
    bad(`tensor rebuilt from a ${kindOf(storage)}, not a storage`);
  }
  const shape = dims(size, "size");
  const strides = dims(stride, "stride");
  if (strides.length !== shape.length) bad("tensor size and stride differ in length");
  return new PyBox("tensor", {
    storage: storage.value as StorageRef,
    offset: count(offset, "storage offset"),
    shape,
    stride: strides,
  });
}

function dims(v: PyValue, what: string): number[] {
  if (!(v instanceof PyTuple)) bad(`tensor ${what} is a ${kindOf(v)}, not a tuple`);
  if (v.items.length > MAX_DIMS) bad(`tensor ${what} has ${v.items.length} dimensions`);
  return v.items.map((d) => count(d, `tensor ${what}`));
}

/** A non-negative integer that a size or offset can be. */
function count(v: PyValue, what: string): number {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === "number" || typeof v === "bigint") bad(`${what} ${v} is out of range`);
  return bad(`${what} is a ${kindOf(v)}, not an integer`);
}

function bad(msg: string): never {
  throw new PickleError(msg);
}

/** Copies a strided tensor into C order, element by element (moving whole elements as words). */
function gather(
  src: Uint8Array<ArrayBuffer>,
  size: number,
  numel: number,
  t: TensorRef,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(numel * size);
  const word = size >= 4 ? 4 : size;
  const lanes = size / word;
  const mk = (b: ArrayBuffer, n: number) =>
    word === 4
      ? new Uint32Array(b, 0, n)
      : word === 2
      ? new Uint16Array(b, 0, n)
      : new Uint8Array(b, 0, n);
  const from = mk(src.buffer as ArrayBuffer, src.length / word);
  const to = mk(out.buffer, numel * lanes);
  const n = t.shape.length;
  const idx = new Array<number>(n).fill(0);
  let s = t.offset;
  for (let k = 0; k < numel; k++) {
    for (let l = 0; l < lanes; l++) to[k * lanes + l] = from[s * lanes + l];
    for (let d = n - 1; d >= 0; d--) {
      s += t.stride[d];
      if (++idx[d] < t.shape[d]) break;
      s -= t.stride[d] * t.shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

function typed(dtype: PthDType, b: ArrayBuffer): PthData {
  switch (dtype) {
    case "float32":
      return new Float32Array(b);
    case "float64":
      return new Float64Array(b);
    case "float16":
    case "bfloat16":
      return new Uint16Array(b);
    case "int64":
      return new BigInt64Array(b);
    case "int32":
      return new Int32Array(b);
    case "int16":
      return new Int16Array(b);
    case "int8":
      return new Int8Array(b);
    case "uint8":
    case "bool":
      return new Uint8Array(b);
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * 2 ** (e - 15) * (1 + m / 1024);
}

function text(b: Uint8Array): string {
  return new TextDecoder("utf-8").decode(b);
}

function describe(v: PyValue): string {
  return typeof v === "number" || typeof v === "bigint" ? String(v) : `a ${kindOf(v)}`;
}

function printable(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, "?");
  return clean.length > 120 ? `${clean.slice(0, 120)}...` : clean;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** Emits the few pickle opcodes `writePth` needs (protocol 2). */
class PickleWriter {
  private out: number[] = [];
  private enc = new TextEncoder();

  op(...bytes: number[]): void {
    for (const b of bytes) this.out.push(b);
  }

  proto2(): void {
    this.op(0x80, 2);
  }

  global(module: string, name: string): void {
    this.op(0x63);
    for (const b of this.enc.encode(`${module}\n${name}\n`)) this.out.push(b);
  }

  unicode(s: string): void {
    const b = this.enc.encode(s);
    this.op(0x58); // BINUNICODE
    this.u32(b.length);
    for (const x of b) this.out.push(x);
  }

  int(v: number): void {
    if (v >= 0 && v < 0x100) this.op(0x4b, v); // BININT1
    else if (v >= 0 && v < 0x10000) this.op(0x4d, v & 0xff, v >> 8); // BININT2
    else if (v >= -(2 ** 31) && v < 2 ** 31) {
      this.op(0x4a); // BININT
      this.u32(v >>> 0);
    } else {
      // LONG1: minimal two's-complement little-endian bytes
      const bytes: number[] = [];
      let x = BigInt(v);
      for (;;) {
        const b = Number(x & 0xffn);
        bytes.push(b);
        x >>= 8n;
        if ((x === 0n && !(b & 0x80)) || (x === -1n && b & 0x80)) break;
      }
      this.op(0x8a, bytes.length, ...bytes);
    }
  }

  tuple(items: readonly number[]): void {
    this.op(0x28);
    for (const v of items) this.int(v);
    this.op(0x74);
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }

  private u32(v: number): void {
    this.op(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
  }
}
