/**
 * A reader and writer for NumPy's `.npy` format (versions 1.0, 2.0 and 3.0).
 *
 * The header is a Python dict literal; it is parsed by a small literal parser that knows only
 * strings, integers, booleans, `None`, tuples, lists and dicts — nothing is ever evaluated, and
 * object arrays (`|O`, which NumPy would unpickle) are refused. Numeric and boolean dtypes of
 * either byte order are read; Fortran-ordered arrays are returned in C (row-major) order.
 *
 * @module
 */
import { writeFileAtomic } from "../_internal/atomic_write.ts";
import { readFailure, writeFailure } from "../_internal/fs_errors.ts";
import { readRegularFile } from "../_internal/read_file.ts";

/** Element types this reader understands (NumPy names). */
export type NpyDtype =
  | "bool"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "float16"
  | "float32"
  | "float64";

/** The typed arrays a `.npy` file is read into (float16 is widened, exactly, to float32). */
export type NpyData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** A decoded `.npy` array: `data` is always in C (row-major) order, native byte order. */
export interface NpyArray {
  /** The file's element type; `bool` arrives as a `Uint8Array` of 0/1, `float16` as `Float32Array`. */
  dtype: NpyDtype;
  /** The shape (`[]` for a 0-d array). */
  shape: number[];
  /** The elements, row-major. */
  data: NpyData;
  /** Whether the file stored the elements in Fortran (column-major) order. */
  fortranOrder: boolean;
  /** The format version of the file, e.g. `[1, 0]`. */
  version: [number, number];
}

/** Thrown for anything that is not a readable `.npy` file; the message names the file. */
export class NpyError extends Error {
  /** Always `"NpyError"`. */
  override name = "NpyError";
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const MAX_DIMS = 64; // NumPy's own limit (NPY_MAXDIMS, 64 since NumPy 2.0)
const MAX_HEADER = 1 << 24; // far above anything NumPy writes; guards the literal parser

interface DtypeInfo {
  dtype: NpyDtype;
  size: number;
}

const KINDS: Record<string, Record<number, NpyDtype>> = {
  b: { 1: "bool" },
  i: { 1: "int8", 2: "int16", 4: "int32", 8: "int64" },
  u: { 1: "uint8", 2: "uint16", 4: "uint32", 8: "uint64" },
  f: { 2: "float16", 4: "float32", 8: "float64" },
};

/**
 * Parses the bytes of a `.npy` file.
 *
 * @param bytes the whole file
 * @param name  the file name used in error messages
 * @throws {NpyError} for a bad magic string, a corrupt header, an unsupported dtype or too
 *   little data
 * @example
 * ```ts
 * import { parseNpy, writeNpy } from "@perceptual/lpips/bappsloader";
 * const arr = parseNpy(writeNpy(new Float32Array([1, 2, 3, 4]), [2, 2]));
 * console.log(arr.dtype, arr.shape, arr.data); // float32 [2, 2] Float32Array [1, 2, 3, 4]
 * ```
 */
export function parseNpy(bytes: Uint8Array, name = "<bytes>"): NpyArray {
  const { dtype, shape, fortran, major, minor, size, little, dataStart, n } = npyHeader(
    bytes,
    name,
    bytes.length,
  );
  // A fresh, aligned copy (Node's Buffer.slice would share memory, so copy explicitly).
  const raw = new Uint8Array(n * size);
  raw.set(bytes.subarray(dataStart, dataStart + n * size));
  if (size > 1 && little !== HOST_LITTLE) swapBytes(raw, size);
  let data = makeTyped(dtype, raw.buffer, n);
  if (fortran && shape.length > 1) data = fortranToC(data, shape);
  return { dtype, shape, data, fortranOrder: fortran, version: [major, minor] };
}

/**
 * The header of a `.npy` file from its first bytes (`bytes`, at least the header) and the size of
 * the whole file: the layout, where the data starts and how many elements it holds, every size
 * checked against `fileSize` before anything is allocated.
 */
function npyHeader(bytes: Uint8Array, name: string, fileSize: number) {
  const fail = (msg: string): never => {
    throw new NpyError(`${name}: ${msg}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail(bytes.length < 10 ? "too short to be a .npy file" : "not a .npy file (bad magic string)");
  }
  const major = bytes[6], minor = bytes[7];
  let headerLen: number, headerStart: number;
  if (major === 1) {
    headerLen = bytes[8] | (bytes[9] << 8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail("truncated header length");
    headerLen = (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16)) + bytes[11] * 2 ** 24;
    headerStart = 12;
  } else {
    return fail(`unsupported .npy format version ${major}.${minor}`);
  }
  if (minor !== 0) fail(`unsupported .npy format version ${major}.${minor}`);
  if (headerLen > MAX_HEADER) fail(`header length ${headerLen} is implausibly large`);
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) {
    fail(`truncated header (declares ${headerLen} bytes, file has ${bytes.length - headerStart})`);
  }
  const headerBytes = bytes.subarray(headerStart, dataStart);
  let text: string;
  try {
    // 1.0 and 2.0 headers are latin-1 (ASCII in practice), 3.0 headers are UTF-8.
    text = major === 3
      ? new TextDecoder("utf-8", { fatal: true }).decode(headerBytes)
      : latin1(headerBytes);
  } catch {
    return fail("header is not valid UTF-8");
  }
  let header: PyValue;
  try {
    header = parsePyLiteral(text);
  } catch (e) {
    return fail(`corrupt header: ${(e as Error).message}`);
  }
  if (!(header instanceof Map)) return fail("corrupt header: not a dict");
  const keys = [...header.keys()].sort();
  if (keys.join(",") !== "descr,fortran_order,shape") {
    fail(`header must have exactly the keys descr, fortran_order, shape (has ${keys.join(", ")})`);
  }
  const descr = header.get("descr");
  const fortran = header.get("fortran_order");
  const shapeValue = header.get("shape");
  if (typeof fortran !== "boolean") fail("header: fortran_order is not a bool");
  if (!Array.isArray(shapeValue) || !(shapeValue as PyTuple).tuple) {
    fail("header: shape is not a tuple");
  }
  const shape: number[] = [];
  for (const d of shapeValue as PyValue[]) {
    if (typeof d !== "bigint" || d < 0n) fail("header: shape entries must be non-negative ints");
    shape.push(Number(d));
  }
  if (shape.length > MAX_DIMS) fail(`header: ${shape.length} dimensions (at most ${MAX_DIMS})`);
  const { dtype, size, little } = parseDescr(descr, fail);
  // Element count and byte size, checked before any allocation.
  let count = 1n;
  for (const d of shapeValue as bigint[]) count *= d;
  const needed = count * BigInt(size);
  const available = BigInt(fileSize - dataStart);
  if (needed > available) {
    fail(
      `data truncated: shape (${shape.join(", ")}) of ${dtype} needs ${needed} bytes, ` +
        `file has ${available}`,
    );
  }
  const n = Number(count);
  return { dtype, shape, fortran: fortran as boolean, major, minor, size, little, dataStart, n };
}

/**
 * Reads a `.npy` file.
 *
 * @example
 * ```ts
 * import { readNpy } from "@perceptual/lpips/bappsloader";
 * const judge = await readNpy("dataset/2afc/val/traditional/judge/000000.npy");
 * console.log(judge.shape, judge.data[0]);
 * ```
 */
export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    // The header is checked against the file's size first, and only the bytes it declares are
    // read (NumPy ignores any that follow): a huge file costs no more than its array.
    bytes = await readRegularFile(path, {
      headBytes: MAX_HEADER + 12,
      checkHead: (head, size) => {
        const { dataStart, n, size: itemSize } = npyHeader(head, path, size);
        return dataStart + n * itemSize;
      },
    });
  } catch (e) {
    if (e instanceof NpyError) throw e;
    throw new NpyError(`${path}: cannot read (${readFailure(e)})`);
  }
  return parseNpy(bytes, path);
}

/**
 * The elements of an array as float64 numbers (C order); int64 values beyond 2^53 lose precision.
 *
 * @example
 * ```ts
 * import { npyToFloat64, parseNpy, writeNpy } from "@perceptual/lpips/bappsloader";
 * console.log(npyToFloat64(parseNpy(writeNpy(new Int16Array([-2, 7]), [2])))); // [-2, 7]
 * ```
 */
export function npyToFloat64(arr: NpyArray): Float64Array {
  const out = new Float64Array(arr.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(arr.data[i]);
  return out;
}

/**
 * The single element of a one-element array of any shape (`()`, `(1,)`, `(1,1,1)`, ...) as a
 * float64 number, as the BAPPS loader's `np.load(path).reshape(1,1,1)` requires.
 *
 * @throws {NpyError} when the array does not hold exactly one element
 * @example
 * ```ts
 * import { npyScalar, parseNpy, writeNpy } from "@perceptual/lpips/bappsloader";
 * console.log(npyScalar(parseNpy(writeNpy(new Float64Array([0.6]), [1])))); // 0.6
 * ```
 */
export function npyScalar(arr: NpyArray, name = "<array>"): number {
  if (arr.data.length !== 1) {
    throw new NpyError(
      `${name}: expected exactly one element, got shape (${arr.shape.join(", ")})`,
    );
  }
  return Number(arr.data[0]);
}

/** Options of {@link writeNpy}. */
export interface WriteNpyOptions {
  /** Store a `Uint8Array` as NumPy `bool` (`|b1`) instead of `uint8`. */
  bool?: boolean;
}

/**
 * Encodes a C-ordered typed array as a little-endian `.npy` file (format 1.0, or 2.0 when the
 * header would not fit), with the header padded as NumPy pads it (total a multiple of 64).
 *
 * @example
 * ```ts
 * import { writeNpy } from "@perceptual/lpips/bappsloader";
 * const map = new Float32Array(64 * 64);
 * await Deno.writeFile("map.npy", writeNpy(map, [1, 1, 64, 64]));
 * ```
 */
export function writeNpy(
  data: NpyData,
  shape: readonly number[],
  options: WriteNpyOptions = {},
): Uint8Array {
  let count = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`writeNpy: bad dimension ${d}`);
    count *= d;
  }
  if (count !== data.length) {
    throw new RangeError(
      `writeNpy: shape (${shape.join(", ")}) has ${count} elements, data has ${data.length}`,
    );
  }
  const descr = descrOf(data, options.bool ?? false);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let version = 1;
  let prefix = 10;
  if (dict.length + 1 + prefix > 0xffff) {
    version = 2;
    prefix = 12;
  }
  const total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  const headerLen = total - prefix;
  const header = dict + " ".repeat(headerLen - dict.length - 1) + "\n";
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(total + body.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(body, total);
  if (!HOST_LITTLE && data.BYTES_PER_ELEMENT > 1) {
    swapBytes(out.subarray(total), data.BYTES_PER_ELEMENT);
  }
  return out;
}

/**
 * Writes a typed array to a `.npy` file (see {@link writeNpy}). The bytes go to `path.part`,
 * renamed to `path` when complete, so a failed write (no such folder, no space left)
 * never leaves a partial file under `path`; the error names `path` and the cause.
 *
 * @example
 * ```ts
 * import { saveNpy } from "@perceptual/lpips/bappsloader";
 * await saveNpy("spatial.npy", new Float32Array(16), [1, 1, 4, 4]);
 * ```
 */
export async function saveNpy(
  path: string,
  data: NpyData,
  shape: readonly number[],
  options: WriteNpyOptions = {},
): Promise<void> {
  const bytes = writeNpy(data, shape, options);
  await writeFileAtomic(path, bytes, {
    onError: (p, e) => new NpyError(`${p}: cannot write (${writeFailure(e, p)})`),
  });
}

// ---------------------------------------------------------------------------------------------

const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function parseDescr(
  descr: PyValue | undefined,
  fail: (msg: string) => never,
): DtypeInfo & { little: boolean } {
  if (typeof descr !== "string") {
    return fail(
      "unsupported dtype: structured arrays (a list descr) are not supported",
    );
  }
  const m = /^([<>|=]?)([a-zA-Z?])(\d*)$/.exec(descr);
  if (!m) return fail(`unsupported dtype '${descr}'`);
  const [, order, kindRaw, sizeText] = m;
  if (kindRaw === "O") {
    return fail(
      `object arrays ('${descr}') are refused: reading them would unpickle Python objects`,
    );
  }
  // '?' is NumPy's one-character code for bool; every other kind needs its size ('<f8').
  const kind = kindRaw === "?" ? "b" : kindRaw;
  const size = sizeText === "" ? (kindRaw === "?" ? 1 : NaN) : Number(sizeText);
  const dtype = KINDS[kind]?.[size];
  if (!dtype) return fail(`unsupported dtype '${descr}' (only bool, integers and floats)`);
  if (size > 1 && order === "|") return fail(`dtype '${descr}' has no byte order`);
  return { dtype, size, little: order === ">" ? false : order === "=" ? HOST_LITTLE : true };
}

function makeTyped(dtype: NpyDtype, buf: ArrayBufferLike, n: number): NpyData {
  switch (dtype) {
    case "bool": {
      const u = new Uint8Array(buf, 0, n);
      for (let i = 0; i < n; i++) u[i] = u[i] !== 0 ? 1 : 0;
      return u;
    }
    case "uint8":
      return new Uint8Array(buf, 0, n);
    case "int8":
      return new Int8Array(buf, 0, n);
    case "int16":
      return new Int16Array(buf, 0, n);
    case "uint16":
      return new Uint16Array(buf, 0, n);
    case "int32":
      return new Int32Array(buf, 0, n);
    case "uint32":
      return new Uint32Array(buf, 0, n);
    case "int64":
      return new BigInt64Array(buf, 0, n);
    case "uint64":
      return new BigUint64Array(buf, 0, n);
    case "float16":
      return halfToFloat(new Uint16Array(buf, 0, n));
    case "float32":
      return new Float32Array(buf, 0, n);
    case "float64":
      return new Float64Array(buf, 0, n);
  }
}

function descrOf(data: NpyData, bool: boolean): string {
  if (data instanceof Uint8Array) return bool ? "|b1" : "|u1";
  if (bool) throw new TypeError("writeNpy: bool needs a Uint8Array");
  if (data instanceof Int8Array) return "|i1";
  if (data instanceof Int16Array) return "<i2";
  if (data instanceof Uint16Array) return "<u2";
  if (data instanceof Int32Array) return "<i4";
  if (data instanceof Uint32Array) return "<u4";
  if (data instanceof BigInt64Array) return "<i8";
  if (data instanceof BigUint64Array) return "<u8";
  if (data instanceof Float32Array) return "<f4";
  if (data instanceof Float64Array) return "<f8";
  throw new TypeError("writeNpy: unsupported array type");
}

function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) {
    s += String.fromCharCode(...b.subarray(i, Math.min(i + 4096, b.length)));
  }
  return s;
}

function swapBytes(b: Uint8Array, size: number): void {
  for (let i = 0; i + size <= b.length; i += size) {
    for (let lo = i, hi = i + size - 1; lo < hi; lo++, hi--) {
      const t = b[lo];
      b[lo] = b[hi];
      b[hi] = t;
    }
  }
}

function halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const v = h[i];
    const sign = v & 0x8000 ? -1 : 1;
    const exp = (v >> 10) & 0x1f;
    const frac = v & 0x3ff;
    out[i] = exp === 0
      ? sign * frac * 2 ** -24
      : exp === 0x1f
      ? (frac ? NaN : sign * Infinity)
      : sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** Reorders column-major elements into row-major order. */
function fortranToC<T extends NpyData>(src: T, shape: number[]): T {
  const n = src.length;
  const out = new (src.constructor as { new (n: number): T })(n);
  const nd = shape.length;
  // Column-major strides of the source.
  const fStride = new Array<number>(nd);
  let s = 1;
  for (let d = 0; d < nd; d++) {
    fStride[d] = s;
    s *= shape[d];
  }
  const idx = new Array<number>(nd).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    (out as unknown as unknown[])[i] = (src as unknown as unknown[])[off];
    // Advance the row-major multi-index (last axis fastest), tracking the source offset.
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      off += fStride[d];
      if (idx[d] < shape[d]) break;
      off -= fStride[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

// --- a Python literal parser, just enough for NumPy headers ----------------------------------

type PyTuple = PyValue[] & { tuple?: true };
type PyValue = string | bigint | boolean | null | PyTuple | Map<string, PyValue>;

const MAX_DEPTH = 16;

/** Parses one Python literal (dict/tuple/list/str/int/bool/None); throws `Error` on anything else. */
function parsePyLiteral(text: string): PyValue {
  let pos = 0;
  const err = (msg: string): never => {
    throw new Error(`${msg} at offset ${pos}`);
  };
  const skip = () => {
    while (pos < text.length && " \t\n\r\f\v".includes(text[pos])) pos++;
  };
  const value = (depth: number): PyValue => {
    if (depth > MAX_DEPTH) err("nesting too deep");
    skip();
    const c = text[pos];
    if (c === undefined) return err("unexpected end");
    if (c === "{") return dict(depth);
    if (c === "(" || c === "[") return seq(depth, c === "(" ? ")" : "]");
    if (c === "'" || c === '"') return str();
    if (/[-+0-9]/.test(c)) return int();
    const word = /^[A-Za-z_]+/.exec(text.slice(pos, pos + 8))?.[0];
    if (word === "True" || word === "False" || word === "None") {
      pos += word.length;
      return word === "None" ? null : word === "True";
    }
    return err(`unexpected ${JSON.stringify(c)}`);
  };
  const dict = (depth: number): Map<string, PyValue> => {
    const m = new Map<string, PyValue>();
    pos++;
    for (;;) {
      skip();
      if (text[pos] === "}") {
        pos++;
        return m;
      }
      const k = value(depth + 1);
      if (typeof k !== "string") err("dict key is not a string");
      skip();
      if (text[pos] !== ":") err("expected ':'");
      pos++;
      if (m.has(k as string)) err(`duplicate key '${k}'`);
      m.set(k as string, value(depth + 1));
      skip();
      if (text[pos] === ",") pos++;
      else if (text[pos] !== "}") err("expected ',' or '}'");
    }
  };
  const seq = (depth: number, close: string): PyTuple => {
    const items: PyTuple = [];
    let commas = 0;
    pos++;
    for (;;) {
      skip();
      if (text[pos] === close) {
        pos++;
        // `(x)` is x in Python, not a tuple; `(x,)` and `()` are tuples.
        if (close === ")") {
          if (items.length === 1 && commas === 0) return items[0] as PyTuple;
          items.tuple = true;
        }
        return items;
      }
      items.push(value(depth + 1));
      skip();
      if (text[pos] === ",") {
        pos++;
        commas++;
      } else if (text[pos] !== close) err(`expected ',' or '${close}'`);
    }
  };
  const str = (): string => {
    const q = text[pos++];
    let out = "";
    for (;;) {
      const c = text[pos++];
      if (c === undefined || c === "\n") return err("unterminated string");
      if (c === q) return out;
      if (c === "\\") {
        const e = text[pos++];
        if (e === undefined) return err("unterminated string");
        out += e === "n" ? "\n" : e === "t" ? "\t" : e;
      } else out += c;
    }
  };
  const int = (): bigint => {
    // Python 2 era headers may write longs with an `L` suffix, e.g. `(3L, 4L)`.
    const m = /^[-+]?[0-9]+[lL]?/.exec(text.slice(pos, pos + 40));
    if (!m || /^[-+]?0[0-9]/.test(m[0])) return err("bad integer");
    pos += m[0].length;
    if (/[0-9.eExXjJ_]/.test(text[pos] ?? "")) err("unsupported number");
    return BigInt(m[0].replace(/[lL]$/, ""));
  };
  const v = value(0);
  skip();
  if (pos !== text.length) err("trailing characters");
  return v;
}
