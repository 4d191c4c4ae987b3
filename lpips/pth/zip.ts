/**
 * The ZIP container of PyTorch's `.pth` files (torch >= 1.6): a bounds-checked reader of the
 * central directory, entry extraction (stored, or deflate through fflate with a size cap) with
 * CRC-32 checks, and a writer of stored entries whose data start on 64-byte boundaries, as
 * torch's own writer lays them out.
 *
 * @module
 */
import { Inflate } from "fflate";
import { crc32 } from "node:zlib";

/** A malformed or unsupported archive. `pth.ts` turns it into a `PthError` naming the file. */
export class ZipError extends Error {
  override name = "ZipError";
}

/** One file of an archive, located and bounds-checked against the archive's bytes. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  /** Where the (possibly compressed) data starts in the archive. */
  dataOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;
const SIG_END64_LOCATOR = 0x07064b50;
/** Deflate cannot expand data by more than about 1032:1. */
const MAX_DEFLATE_RATIO = 1032;
const INFLATE_CHUNK = 1 << 16;

const names = new TextDecoder("utf-8");
const encoder = new TextEncoder();

/** Whether `bytes` starts like a ZIP archive. */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b &&
    ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6));
}

/** Reads the central directory: entry name -> entry. Every offset and size is checked. */
export function readZipDirectory(bytes: Uint8Array): Map<string, ZipEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  const end = findEnd(bytes, view);
  let count = view.getUint16(end + 10, true);
  let cdSize = view.getUint32(end + 12, true);
  let cdOffset = view.getUint32(end + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const loc = end - 20;
    if (loc < 0 || view.getUint32(loc, true) !== SIG_END64_LOCATOR) {
      throw new ZipError("zip64 end-of-central-directory locator missing");
    }
    const at = u64(view, loc + 8, "zip64 record offset");
    if (at > len - 56 || view.getUint32(at, true) !== SIG_END64) {
      throw new ZipError("zip64 end-of-central-directory record missing or outside the file");
    }
    count = u64(view, at + 32, "entry count");
    cdSize = u64(view, at + 40, "central directory size");
    cdOffset = u64(view, at + 48, "central directory offset");
  }
  if (cdOffset > len || cdSize > len - cdOffset) {
    throw new ZipError(
      `central directory (offset ${cdOffset}, ${cdSize} bytes) lies outside the file (${len} bytes)`,
    );
  }
  const cdEnd = cdOffset + cdSize;
  const entries = new Map<string, ZipEntry>();
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdEnd || view.getUint32(p, true) !== SIG_CENTRAL) {
      throw new ZipError(`central directory entry ${i} is malformed or outside the directory`);
    }
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    let compressedSize = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let local = view.getUint32(p + 42, true);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > cdEnd) throw new ZipError(`central directory entry ${i} overruns the directory`);
    const rawName = bytes.subarray(p + 46, p + 46 + nameLen);
    const name = names.decode(rawName);
    // Zip64 extended information: the 64-bit values of the fields saturated above, in order.
    if (size === 0xffffffff || compressedSize === 0xffffffff || local === 0xffffffff) {
      let q = p + 46 + nameLen;
      const qEnd = q + extraLen;
      let found = false;
      while (q + 4 <= qEnd) {
        const id = view.getUint16(q, true);
        const n = view.getUint16(q + 2, true);
        if (q + 4 + n > qEnd) break;
        if (id === 0x0001) {
          let r = q + 4;
          const field = (what: string): number => {
            if (r + 8 > q + 4 + n) throw new ZipError(`zip64 field of ${name} is truncated`);
            const v = u64(view, r, what);
            r += 8;
            return v;
          };
          if (size === 0xffffffff) size = field("size");
          if (compressedSize === 0xffffffff) compressedSize = field("compressed size");
          if (local === 0xffffffff) local = field("header offset");
          found = true;
          break;
        }
        q += 4 + n;
      }
      if (!found) throw new ZipError(`entry ${name} lacks its zip64 sizes`);
    }
    if (flags & 1) throw new ZipError(`entry ${name} is encrypted`);
    if (method !== 0 && method !== 8) {
      throw new ZipError(`entry ${name} uses compression method ${method} (only stored/deflate)`);
    }
    if (local > len - 30 || view.getUint32(local, true) !== SIG_LOCAL) {
      throw new ZipError(`local header of ${name} is missing or outside the file`);
    }
    const localNameLen = view.getUint16(local + 26, true);
    const localExtraLen = view.getUint16(local + 28, true);
    const dataOffset = local + 30 + localNameLen + localExtraLen;
    if (
      localNameLen !== nameLen ||
      !sameBytes(bytes.subarray(local + 30, local + 30 + nameLen), rawName)
    ) {
      throw new ZipError(`local header of ${name} names another file`);
    }
    if (dataOffset > len || compressedSize > len - dataOffset) {
      throw new ZipError(`data of ${name} lies outside the file`);
    }
    if (method === 0 && compressedSize !== size) {
      throw new ZipError(`stored entry ${name} has two different sizes`);
    }
    if (entries.has(name)) throw new ZipError(`duplicate entry ${name}`);
    entries.set(name, { name, method, crc, compressedSize, size, dataOffset });
    p = next;
  }
  return entries;
}

/** A shared cap on the bytes that inflating entries of one archive may produce. */
export interface InflateBudget {
  left: number;
}

/**
 * The uncompressed bytes of an entry: a view into `bytes` for a stored entry, a new buffer for
 * a deflated one (refused before allocating when it would exceed `budget`). The CRC-32 is
 * checked unless the archive recorded 0 (torch can be told not to compute it).
 */
export function zipEntryData(
  bytes: Uint8Array,
  entry: ZipEntry,
  budget: InflateBudget,
): Uint8Array {
  const raw = bytes.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
  const data = entry.method === 0 ? raw : inflate(raw, entry, budget);
  if (entry.crc !== 0 && (crc32(data) >>> 0) !== entry.crc) {
    throw new ZipError(`CRC-32 mismatch in ${entry.name} (corrupt archive)`);
  }
  return data;
}

function inflate(raw: Uint8Array, entry: ZipEntry, budget: InflateBudget): Uint8Array {
  const size = entry.size;
  if (size > budget.left) {
    throw new ZipError(
      `entry ${entry.name} would inflate to ${size} bytes, over the ${budget.left}-byte limit`,
    );
  }
  if (size > raw.length * MAX_DEFLATE_RATIO + 1024) {
    throw new ZipError(`entry ${entry.name} claims an impossible compression ratio`);
  }
  budget.left -= size;
  const out = new Uint8Array(size);
  let written = 0;
  let done = false;
  const stream = new Inflate((chunk, final) => {
    if (chunk.length > size - written) {
      throw new ZipError(`entry ${entry.name} inflates to more than its declared ${size} bytes`);
    }
    out.set(chunk, written);
    written += chunk.length;
    if (final) done = true;
  });
  try {
    for (let p = 0; p < raw.length; p += INFLATE_CHUNK) {
      const last = p + INFLATE_CHUNK >= raw.length;
      stream.push(raw.subarray(p, p + INFLATE_CHUNK), last);
    }
    if (raw.length === 0) stream.push(raw, true);
  } catch (e) {
    if (e instanceof ZipError) throw e;
    throw new ZipError(`entry ${entry.name}: invalid deflate data (${(e as Error).message})`);
  }
  if (!done || written !== size) {
    throw new ZipError(
      `entry ${entry.name} inflated to ${written} bytes, expected ${size}`,
    );
  }
  return out;
}

/** One file to write into an archive. */
export interface ZipFile {
  name: string;
  data: Uint8Array;
}

/** Alignment of entry data, as torch's writer does it (so storages can be memory-mapped). */
const ALIGN = 64;

/**
 * Writes a ZIP archive of stored (uncompressed) entries, each entry's data starting on a 64-byte
 * boundary (padding goes into an extra field, as torch does). Zip64 is not written: archives
 * over 4 GiB or 65535 entries are refused.
 */
export function writeZip(files: readonly ZipFile[]): Uint8Array {
  if (files.length > 0xffff) throw new ZipError(`too many entries (${files.length})`);
  const encoded = files.map((f) => encoder.encode(f.name));
  const layout: { local: number; pad: number }[] = [];
  let pos = 0;
  for (let i = 0; i < files.length; i++) {
    const headerEnd = pos + 30 + encoded[i].length + 4;
    const pad = (ALIGN - (headerEnd % ALIGN)) % ALIGN;
    layout.push({ local: pos, pad });
    pos = headerEnd + pad + files[i].data.length;
  }
  const cdOffset = pos;
  for (const n of encoded) pos += 46 + n.length;
  const cdSize = pos - cdOffset;
  const total = pos + 22;
  if (total > 0xffffffff) throw new ZipError(`archive of ${total} bytes needs zip64`);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  const crcs = files.map((f) => crc32(f.data) >>> 0);
  const DOS_DATE = 0x0021; // 1980-01-01: fixed, so output is reproducible
  for (let i = 0; i < files.length; i++) {
    const { local, pad } = layout[i];
    const name = encoded[i];
    const data = files[i].data;
    view.setUint32(local, SIG_LOCAL, true);
    view.setUint16(local + 4, 20, true); // version needed: 2.0
    view.setUint16(local + 6, 0x0800, true); // UTF-8 names
    view.setUint16(local + 8, 0, true); // stored
    view.setUint16(local + 10, 0, true);
    view.setUint16(local + 12, DOS_DATE, true);
    view.setUint32(local + 14, crcs[i], true);
    view.setUint32(local + 18, data.length, true);
    view.setUint32(local + 22, data.length, true);
    view.setUint16(local + 26, name.length, true);
    view.setUint16(local + 28, 4 + pad, true);
    out.set(name, local + 30);
    const extra = local + 30 + name.length;
    view.setUint16(extra, 0x4246, true); // "FB": torch's padding field
    view.setUint16(extra + 2, pad, true);
    out.fill(0x5a, extra + 4, extra + 4 + pad); // "Z"
    out.set(data, extra + 4 + pad);
  }
  let p = cdOffset;
  for (let i = 0; i < files.length; i++) {
    const name = encoded[i];
    const size = files[i].data.length;
    view.setUint32(p, SIG_CENTRAL, true);
    view.setUint16(p + 4, 20, true); // made by: 2.0
    view.setUint16(p + 6, 20, true);
    view.setUint16(p + 8, 0x0800, true);
    view.setUint16(p + 10, 0, true);
    view.setUint16(p + 12, 0, true);
    view.setUint16(p + 14, DOS_DATE, true);
    view.setUint32(p + 16, crcs[i], true);
    view.setUint32(p + 20, size, true);
    view.setUint32(p + 24, size, true);
    view.setUint16(p + 28, name.length, true);
    // extra, comment, disk, attributes: 0
    view.setUint32(p + 42, layout[i].local, true);
    out.set(name, p + 46);
    p += 46 + name.length;
  }
  view.setUint32(p, SIG_END, true);
  view.setUint16(p + 8, files.length, true);
  view.setUint16(p + 10, files.length, true);
  view.setUint32(p + 12, cdSize, true);
  view.setUint32(p + 16, cdOffset, true);
  return out;
}

/** Locates the end-of-central-directory record (it may be followed by a comment). */
function findEnd(bytes: Uint8Array, view: DataView): number {
  const len = bytes.length;
  const lowest = Math.max(0, len - 22 - 0xffff);
  for (let i = len - 22; i >= lowest; i--) {
    if (
      bytes[i] === 0x50 && bytes[i + 1] === 0x4b && view.getUint32(i, true) === SIG_END &&
      i + 22 + view.getUint16(i + 20, true) <= len
    ) return i;
  }
  throw new ZipError("no end-of-central-directory record (truncated or not a zip archive)");
}

function u64(view: DataView, at: number, what: string): number {
  const lo = view.getUint32(at, true);
  const hi = view.getUint32(at + 4, true);
  if (hi > 0x1fffff) throw new ZipError(`${what} out of range`);
  return hi * 2 ** 32 + lo;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
