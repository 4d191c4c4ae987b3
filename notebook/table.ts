/**
 * Tables for notebooks: HTML for the front end, aligned columns as the text fallback.
 *
 * @module
 */
import { display, type Displayable } from "./display.ts";
import { esc } from "./_html.ts";

/** A table cell: text as it is, a number written by {@link formatNumber}. */
export type TableCell = string | number;

/** Options of {@link table}. */
export interface TableOptions {
  /** A line above the table (HTML `<caption>`, the first line of the text form). */
  caption?: string;
}

/**
 * A table as HTML and as plain text.
 *
 * @example
 * ```ts
 * import { table } from "@perceptual/lpips/notebook";
 * table(["pair", "LPIPS"], [["ref vs p0", 0.7219], ["ref vs p1", 0.1376]], { caption: "alex v0.1" });
 * ```
 */
export function table(
  header: string[],
  rows: TableCell[][],
  options: TableOptions = {},
): Displayable {
  if (!Array.isArray(header) || header.length === 0) {
    throw new TypeError("table: the header must be a non-empty array of column names");
  }
  if (!Array.isArray(rows)) throw new TypeError("table: rows must be an array of rows");
  rows.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== header.length) {
      const got = Array.isArray(r) ? `${r.length} cells` : typeof r;
      throw new RangeError(
        `table: row ${i + 1} has ${got}, the header has ${header.length} columns`,
      );
    }
  });
  const cell = (v: TableCell) => typeof v === "number" ? formatNumber(v) : String(v);
  const caption = options.caption === undefined ? "" : `<caption>${esc(options.caption)}</caption>`;
  const html = `<table>${caption}<thead><tr>` +
    header.map((h) => `<th>${esc(h)}</th>`).join("") + "</tr></thead><tbody>" +
    rows.map((r) => "<tr>" + r.map((v) => `<td>${esc(cell(v))}</td>`).join("") + "</tr>")
      .join("") +
    "</tbody></table>";
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => cell(r[i]).length)));
  const line = (r: string[]) => r.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  const text = [
    ...(options.caption === undefined ? [] : [options.caption]),
    line(header),
    ...rows.map((r) => line(r.map(cell))),
  ].join("\n");
  return display({ "text/html": html, "text/plain": text });
}

/**
 * How tables write numbers: integers in full, others with four decimals.
 *
 * @example
 * ```ts
 * import { formatNumber } from "@perceptual/lpips/notebook";
 * formatNumber(3); // "3"
 * formatNumber(0.721881); // "0.7219"
 * ```
 */
export function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}
