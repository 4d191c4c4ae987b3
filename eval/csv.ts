/**
 * Per-item results as CSV, in the column layout of `bapps-mini/expected/`: 2AFC
 * `index,d0,d1,judge`, JND `index,d,same`, optionally followed by file paths. Numbers are written
 * as the shortest decimal that reads back to the same float64 (float32 distances therefore
 * round-trip exactly), and parsed back by {@link parsePerItemCsv}.
 *
 * @module
 */
import { writeFile } from "node:fs/promises";

/** Per-item 2AFC results. */
export interface TwoAFCRows {
  /** d(ref, p0) per triplet. */
  d0: ArrayLike<number>;
  /** d(ref, p1) per triplet. */
  d1: ArrayLike<number>;
  /** Fraction of the judges who found p1 closer, per triplet. */
  judge: ArrayLike<number>;
  /** Optional file paths per item, written as the columns `ref,p0,p1`. */
  paths?: readonly { ref: string; p0: string; p1: string }[];
}

/** Per-item JND results. */
export interface JNDRows {
  /** d(p0, p1) per pair. */
  d: ArrayLike<number>;
  /** Fraction of the judges who saw no difference, per pair. */
  same: ArrayLike<number>;
  /** Optional file paths per item, written as the columns `p0,p1`. */
  paths?: readonly { p0: string; p1: string }[];
}

/**
 * 2AFC rows as CSV text (header `index,d0,d1,judge[,ref,p0,p1]`).
 *
 * @example
 * ```ts
 * import { twoAFCCsv } from "@perceptual/lpips/eval";
 * console.log(twoAFCCsv({ d0: [0.1], d1: [0.2], judge: [Math.fround(0.6)] }));
 * // index,d0,d1,judge
 * // 0,0.1,0.2,0.6000000238418579
 * ```
 */
export function twoAFCCsv(rows: TwoAFCRows): string {
  const n = rows.d0.length;
  checkLengths(n, [rows.d1.length, rows.judge.length, rows.paths?.length ?? n]);
  const lines = [rows.paths ? "index,d0,d1,judge,ref,p0,p1" : "index,d0,d1,judge"];
  for (let i = 0; i < n; i++) {
    let line = `${i},${num(rows.d0[i])},${num(rows.d1[i])},${num(rows.judge[i])}`;
    const p = rows.paths?.[i];
    if (p) line += `,${field(p.ref)},${field(p.p0)},${field(p.p1)}`;
    lines.push(line);
  }
  return lines.join("\n") + "\n";
}

/**
 * JND rows as CSV text (header `index,d,same[,p0,p1]`).
 *
 * @example
 * ```ts
 * import { jndCsv } from "@perceptual/lpips/eval";
 * console.log(jndCsv({ d: [0.25], same: [1] })); // "index,d,same\n0,0.25,1\n"
 * ```
 */
export function jndCsv(rows: JNDRows): string {
  const n = rows.d.length;
  checkLengths(n, [rows.same.length, rows.paths?.length ?? n]);
  const lines = [rows.paths ? "index,d,same,p0,p1" : "index,d,same"];
  for (let i = 0; i < n; i++) {
    let line = `${i},${num(rows.d[i])},${num(rows.same[i])}`;
    const p = rows.paths?.[i];
    if (p) line += `,${field(p.p0)},${field(p.p1)}`;
    lines.push(line);
  }
  return lines.join("\n") + "\n";
}

/**
 * Writes 2AFC or JND rows to a CSV file.
 *
 * @example
 * ```ts
 * import { writePerItemCsv } from "@perceptual/lpips/eval";
 * await writePerItemCsv("items.csv", { d: [0.25, 0.5], same: [1, 0] });
 * ```
 */
export async function writePerItemCsv(path: string, rows: TwoAFCRows | JNDRows): Promise<void> {
  await writeFile(path, "d0" in rows ? twoAFCCsv(rows) : jndCsv(rows));
}

/**
 * Parses per-item CSV text (ours or `bapps-mini/expected/*.csv`) into columns: numeric columns
 * as `Float64Array`, others as strings. Handles RFC 4180 quoting.
 *
 * @example
 * ```ts
 * import { parsePerItemCsv } from "@perceptual/lpips/eval";
 * const cols = parsePerItemCsv("index,d,same\n0,0.25,1\n");
 * console.log(cols.d); // Float64Array [0.25]
 * ```
 */
export function parsePerItemCsv(text: string): Record<string, Float64Array | string[]> {
  const rows = splitCsv(text);
  if (rows.length === 0) throw new SyntaxError("CSV: empty");
  const header = rows[0];
  const body = rows.slice(1).filter((r) => !(r.length === 1 && r[0] === ""));
  const out: Record<string, Float64Array | string[]> = {};
  header.forEach((name, c) => {
    const cells = body.map((r, i) => {
      if (r.length !== header.length) {
        throw new SyntaxError(
          `CSV: line ${i + 2} has ${r.length} fields, expected ${header.length}`,
        );
      }
      return r[c];
    });
    const numeric = cells.every((v) => v.trim() !== "" && !Number.isNaN(Number(v)) || v === "nan");
    out[name] = numeric ? Float64Array.from(cells, (v) => (v === "nan" ? NaN : Number(v))) : cells;
  });
  return out;
}

function num(v: number): string {
  return Number.isNaN(v) ? "nan" : String(v);
}

function field(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function checkLengths(n: number, others: number[]): void {
  if (others.some((m) => m !== n)) {
    throw new RangeError(`per-item CSV: columns have different lengths (${[n, ...others]})`);
  }
}

function splitCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  if (cell !== "" || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}
