/**
 * Pictures that carry their own words: rasters (images, distance maps) laid out in rows with a
 * title, captions under each picture and a numbered viridis colour bar, composed as SVG and drawn
 * to PNG by resvg (`npm:@resvg/resvg-wasm`, WebAssembly: no permission needed). The text is set by opentype.js in the DejaVu Sans subset
 * the package carries, as glyph outlines: it looks the same on every machine and in every SVG
 * viewer, and needs no system font.
 *
 * @module
 */
import { initWasm, Resvg } from "@resvg/resvg-wasm";
import resvgWasm from "./_resvg_wasm.js";
import opentype from "opentype.js";
import { encode } from "fast-png";
import { viridis } from "./heatmap.ts";
import { DEJAVU_SANS_BOLD_TTF, DEJAVU_SANS_REGULAR_TTF } from "./_figure_font.ts";

/** An 8-bit RGB picture, pixels interleaved row by row. */
export interface Raster {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** `width * height * 3` bytes. */
  readonly data: Uint8Array;
}

/** A picture in a figure, with lines of text under it. */
export interface FigureCell {
  /** The picture, drawn pixel for pixel. */
  image: Raster;
  /** Lines under the picture (shortened in the middle when wider than the column). */
  caption?: string[];
}

/** A row of pictures, with an optional line above it. */
export interface FigureRow {
  /** A line above the row. */
  heading?: string;
  /** The pictures; `null` leaves a cell empty. */
  cells: (FigureCell | null)[];
}

/** What a figure shows. */
export interface FigureSpec {
  /** The first line, in bold ("" for none). */
  title: string;
  /** Lines under the title. */
  subtitle?: string[];
  /** The pictures, in rows on shared column widths. */
  rows: FigureRow[];
  /** A vertical viridis colour bar right of the rows, numbered from 0 to `scale`. */
  colourBar?: {
    /** The value of the top colour. */
    scale: number;
    /**
     * Written along the bar when it is long enough (e.g. "per-pixel LPIPS"); of several, the first
     * that fits (a long label, then shorter ones).
     */
    label?: string | string[];
    /** The row whose pictures the bar stands beside (default: from the first row to the last). */
    row?: number;
  };
  /** Lines under the rows. */
  notes?: string[];
}

/** A rectangle in figure pixels. */
export interface Rect {
  /** Left edge. */
  x: number;
  /** Top edge. */
  y: number;
  /** Width. */
  width: number;
  /** Height. */
  height: number;
}

/** A laid-out figure: its SVG and where its pictures went. */
export interface Figure {
  /** The figure as SVG (pictures embedded as PNG data URIs). */
  svg: string;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Where each cell's picture is, row by row (`null` for empty cells). */
  cells: (Rect | null)[][];
  /** Where the colour bar's colours are. */
  bar?: Rect;
  /** The numbers along the colour bar, bottom to top, and their heights. */
  ticks: { value: number; label: string; y: number }[];
}

const MARGIN = 12, GAP = 10;
/** The narrowest column of pictures, so that captions under small pictures stay readable. */
export const MIN_COLUMN = 128;
const TITLE = { px: 15, line: 22 }, TEXT = { px: 13, line: 18 }, SMALL = { px: 12, line: 16 };
/** The size of captions under pictures, in pixels. */
export const CAPTION_PX: number = SMALL.px;
const BAR = { width: 16, maxHeight: 320, minHeight: 96, tick: 4 };
const INK = "#1a1a1a", SOFT = "#444444";

/** The parts of an opentype.js font used here (the package ships no types). */
interface OtPath {
  commands: {
    type: string;
    x?: number;
    y?: number;
    x1?: number;
    y1?: number;
    x2?: number;
    y2?: number;
  }[];
}
interface OtGlyph {
  index: number;
  getPath(x: number, y: number, fontSize: number): OtPath;
}
interface OtFont {
  hasChar(c: string): boolean;
  getAdvanceWidth(text: string, fontSize: number): number;
  forEachGlyph(
    text: string,
    x: number,
    y: number,
    fontSize: number,
    options: Record<string, unknown>,
    callback: (glyph: OtGlyph, x: number, y: number) => void,
  ): void;
}

let fonts: { regular: OtFont; bold: OtFont } | undefined;

function font(bold: boolean): OtFont {
  const parse = (b64: string) =>
    (opentype as unknown as { parse(b: ArrayBuffer): OtFont }).parse(
      Uint8Array.fromBase64(b64).buffer,
    );
  fonts ??= { regular: parse(DEJAVU_SANS_REGULAR_TTF), bold: parse(DEJAVU_SANS_BOLD_TTF) };
  return bold ? fonts.bold : fonts.regular;
}

/** The width of `text` in DejaVu Sans at `px` pixels (characters outside the font count as "?"). */
export function textWidth(text: string, px: number, bold = false): number {
  return font(bold).getAdvanceWidth(inFont(text), px);
}

/** `text` with the characters the font lacks written as "?". */
function inFont(text: string): string {
  const f = font(false);
  let out = "";
  for (const ch of text) out += f.hasChar(ch) ? ch : "?";
  return out;
}

/**
 * `text` shortened in the middle ("long_fi…name.png") to fit `width` pixels at `px`, so that both
 * the start of a file name and its extension stay readable.
 */
export function fitText(text: string, width: number, px: number, bold = false): string {
  const s = inFont(text);
  if (textWidth(s, px, bold) <= width) return s;
  const chars = [...s];
  let keep = chars.length - 1;
  while (keep > 0) {
    const head = Math.ceil(keep / 2), tail = keep - head;
    const t = chars.slice(0, head).join("") + "…" + (tail ? chars.slice(-tail).join("") : "");
    if (textWidth(t, px, bold) <= width) return t;
    keep--;
  }
  return "…";
}

/**
 * A file name or path fitted to `width` pixels at `px`: whole leading folders give way first
 * ("…/formats/ex_ref.png", then "…/ex_ref.png"), then the middle of the name ({@link fitText}).
 */
export function fitPath(path: string, width: number, px: number): string {
  if (textWidth(path, px) <= width) return inFont(path);
  const parts = path.split("/");
  for (let k = 1; k < parts.length; k++) {
    const t = `…/${parts.slice(k).join("/")}`;
    if (textWidth(t, px) <= width) return inFont(t);
  }
  return fitText(parts.at(-1)!, width, px);
}

/**
 * A number for a colour bar or caption: three significant digits, without an exponent for
 * values from 0.0001 up.
 */
export function formatScale(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-4 && a < 1e6) return String(Number(v.toPrecision(3)));
  return v.toExponential(2);
}

/**
 * Round numbers for a colour bar from 0 to `scale` that is `height` pixels long: steps of 1, 2,
 * 2.5 or 5 times a power of ten, about 40 pixels apart, all <= `scale`.
 */
export function niceTicks(scale: number, height: number): number[] {
  if (!(scale > 0) || !Number.isFinite(scale)) return [0];
  const count = Math.max(1, Math.min(8, Math.floor(height / 40)));
  const raw = scale / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9))!;
  const ticks: number[] = [];
  for (let k = 0; k * step <= scale * (1 + 1e-9); k++) {
    ticks.push(Number((k * step).toPrecision(12)));
  }
  return ticks;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** Glyph outlines, each defined once in the SVG and placed with `<use>`. */
class Glyphs {
  readonly #defs = new Map<string, string>();

  /** The definitions, for the SVG's `<defs>`. */
  defs(): string {
    return [...this.#defs.values()].join("");
  }

  /**
   * `s` set at (`x`, baseline `y`), as a group labelled with the text itself (`aria-label`, so
   * the SVG says what it shows); `rotate` turns it about (`x`, `y`) by that many degrees.
   */
  text(
    x: number,
    y: number,
    s: string,
    o: {
      px: number;
      bold?: boolean;
      anchor?: "start" | "middle" | "end";
      fill?: string;
      rotate?: number;
    },
  ): string {
    const f = font(o.bold ?? false);
    const str = inFont(s);
    const w = f.getAdvanceWidth(str, o.px);
    const x0 = o.anchor === "middle" ? x - w / 2 : o.anchor === "end" ? x - w : x;
    const uses: string[] = [];
    const unit = 1000, scale = Number((o.px / unit).toFixed(5));
    f.forEachGlyph(str, x0, y, o.px, {}, (g, gx, gy) => {
      const id = `${o.bold ? "b" : "r"}${g.index}`;
      if (!this.#defs.has(id)) {
        const d = pathData(g.getPath(0, 0, unit));
        this.#defs.set(id, d ? `<path id="${id}" d="${d}"/>` : "");
      }
      if (this.#defs.get(id)) {
        uses.push(
          `<use xlink:href="#${id}" transform="translate(${round2(gx)} ${round2(gy)}) ` +
            `scale(${scale})"/>`,
        );
      }
    });
    const turn = o.rotate ? ` transform="rotate(${o.rotate} ${x} ${y})"` : "";
    return `<g role="img" aria-label="${esc(str)}" fill="${o.fill ?? INK}"${turn}>${
      uses.join("")
    }</g>`;
  }
}

/**
 * A glyph's outline as SVG path data in whole units (opentype.js's own `toPathData` runs a number
 * into the next where a coordinate rounds to -0, and its "optimize" drops short closing lines).
 */
function pathData(path: OtPath): string {
  const n = (v: number | undefined) => String(Math.round(v ?? 0) || 0);
  return path.commands.map((c) => {
    switch (c.type) {
      case "M":
      case "L":
        return `${c.type}${n(c.x)} ${n(c.y)}`;
      case "Q":
        return `Q${n(c.x1)} ${n(c.y1)} ${n(c.x)} ${n(c.y)}`;
      case "C":
        return `C${n(c.x1)} ${n(c.y1)} ${n(c.x2)} ${n(c.y2)} ${n(c.x)} ${n(c.y)}`;
      default:
        return "Z";
    }
  }).join("");
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

function pngDataUri(r: Raster): string {
  const png = encode({ width: r.width, height: r.height, data: r.data, channels: 3, depth: 8 });
  return `data:image/png;base64,${png.toBase64()}`;
}

function image(x: number, y: number, r: Raster): string {
  return `<image x="${x}" y="${y}" width="${r.width}" height="${r.height}" ` +
    `image-rendering="optimizeSpeed" preserveAspectRatio="none" xlink:href="${pngDataUri(r)}"/>`;
}

/** The colour bar's picture: viridis from `scale` (top row) down to 0 (bottom row). */
function barRaster(width: number, height: number): Raster {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const c = viridis(1 - (y + 0.5) / height);
    for (let x = 0; x < width; x++) data.set(c, (y * width + x) * 3);
  }
  return { width, height, data };
}

/** Lays a figure out: the pictures in rows, the text around them, the colour bar at the right. */
export function layoutFigure(spec: FigureSpec): Figure {
  const columns = Math.max(1, ...spec.rows.map((r) => r.cells.length));
  const colW = Array.from({ length: columns }, (_, c) => {
    const w = Math.max(0, ...spec.rows.map((r) => r.cells[c]?.image.width ?? 0));
    return w > 0 ? Math.max(w, MIN_COLUMN) : 0;
  });
  const colX: number[] = [];
  colW.reduce((x, w, c) => (colX[c] = x, x + w + (w > 0 ? GAP : 0)), MARGIN);
  const gridW = colW.reduce((s, w) => s + w + (w > 0 ? GAP : 0), 0) - GAP;

  // The colour bar's numbers decide how much room it takes.
  const bar = spec.colourBar;
  let barBlockW = 0, tickLabels: { value: number; label: string }[] = [];
  let barH = 0, barLabel: string | undefined;
  if (bar) {
    const rowsFor = bar.row === undefined ? spec.rows : [spec.rows[bar.row]];
    const span = rowsFor.reduce(
      (s, r) => s + Math.max(0, ...r.cells.map((c) => c?.image.height ?? 0)),
      0,
    );
    barH = Math.round(Math.min(BAR.maxHeight, Math.max(BAR.minHeight, span)));
    const ticks = niceTicks(bar.scale, barH);
    const top = formatScale(bar.scale);
    // The top of the bar is labelled with the scale itself; round ticks too close to it give way.
    tickLabels = ticks.filter((v) => barH * (1 - v / bar.scale) >= SMALL.px + 6)
      .map((v) => ({ value: v, label: formatScale(v) }));
    tickLabels.push({ value: bar.scale, label: top });
    const labelW = Math.max(...tickLabels.map((t) => textWidth(t.label, SMALL.px)));
    barLabel = [bar.label ?? []].flat().find((l) => textWidth(l, SMALL.px) + 8 <= barH);
    const along = barLabel ? SMALL.line : 0;
    barBlockW = GAP + 6 + BAR.width + BAR.tick + 3 + Math.ceil(labelW) + (along ? 6 + along : 0);
  }
  const contentW = gridW + barBlockW;
  const titleW = Math.max(
    textWidth(spec.title, TITLE.px, true),
    ...(spec.subtitle ?? []).map((s) => textWidth(s, TEXT.px)),
  );
  const innerW = Math.ceil(Math.max(contentW, Math.min(titleW, Math.max(contentW, 640))));
  const width = innerW + 2 * MARGIN;

  const parts: string[] = [];
  const glyphs = new Glyphs();
  const text = glyphs.text.bind(glyphs);
  let y = MARGIN;
  if (spec.title !== "") {
    parts.push(text(MARGIN, y + TITLE.px, fitText(spec.title, innerW, TITLE.px, true), {
      px: TITLE.px,
      bold: true,
    }));
    y += TITLE.line;
  }
  for (const line of spec.subtitle ?? []) {
    parts.push(text(MARGIN, y + TEXT.px, fitText(line, innerW, TEXT.px), { px: TEXT.px }));
    y += TEXT.line;
  }
  if (spec.title !== "" || spec.subtitle?.length) y += 6;

  const cells: (Rect | null)[][] = [];
  const rowTops: number[] = [], rowHeights: number[] = [];
  for (const row of spec.rows) {
    if (row.heading !== undefined) {
      parts.push(
        text(MARGIN, y + TEXT.px, fitText(row.heading, innerW, TEXT.px, true), {
          px: TEXT.px,
          bold: true,
        }),
      );
      y += TEXT.line + 2;
    }
    const imgH = Math.max(0, ...row.cells.map((c) => c?.image.height ?? 0));
    const lines = Math.max(0, ...row.cells.map((c) => c?.caption?.length ?? 0));
    rowTops.push(y);
    rowHeights.push(imgH);
    cells.push(row.cells.map((cell, c) => {
      if (!cell) return null;
      const r = {
        x: colX[c] + Math.floor((colW[c] - cell.image.width) / 2),
        y,
        width: cell.image.width,
        height: cell.image.height,
      };
      parts.push(image(r.x, r.y, cell.image));
      (cell.caption ?? []).forEach((line, k) => {
        parts.push(
          text(
            colX[c] + colW[c] / 2,
            y + imgH + 4 + k * SMALL.line + SMALL.px,
            fitText(
              line,
              colW[c],
              SMALL.px,
            ),
            { px: SMALL.px, anchor: "middle", fill: k === 0 ? INK : SOFT },
          ),
        );
      });
      return r;
    }));
    y += imgH + (lines ? 4 + lines * SMALL.line : 0) + GAP;
  }

  let barRect: Rect | undefined;
  const ticks: Figure["ticks"] = [];
  if (bar) {
    const first = bar.row ?? 0;
    barRect = {
      x: MARGIN + gridW + GAP + 6,
      y: rowTops[first] ?? y,
      width: BAR.width,
      height: barH,
    };
    parts.push(image(barRect.x, barRect.y, barRaster(BAR.width, barH)));
    parts.push(
      `<rect x="${barRect.x - 0.5}" y="${barRect.y - 0.5}" width="${BAR.width + 1}" ` +
        `height="${barH + 1}" fill="none" stroke="${SOFT}" stroke-width="1"/>`,
    );
    const x1 = barRect.x + BAR.width;
    for (const t of tickLabels) {
      const ty = Math.round(barRect.y + barH * (1 - t.value / bar.scale));
      ticks.push({ ...t, y: ty });
      parts.push(
        `<line x1="${x1}" y1="${ty}" x2="${x1 + BAR.tick}" y2="${ty}" stroke="${INK}" ` +
          `stroke-width="1" shape-rendering="crispEdges"/>`,
      );
      parts.push(
        text(x1 + BAR.tick + 3, Math.round(ty + SMALL.px * 0.36), t.label, {
          px: SMALL.px,
          bold: t.value === bar.scale,
        }),
      );
    }
    if (barLabel) {
      const labelW = Math.max(...tickLabels.map((t) => textWidth(t.label, SMALL.px)));
      const lx = Math.ceil(x1 + BAR.tick + 3 + labelW + 6 + SMALL.px);
      const ly = Math.round(barRect.y + barH / 2);
      parts.push(
        text(lx, ly, barLabel, { px: SMALL.px, anchor: "middle", fill: SOFT, rotate: -90 }),
      );
    }
    y = Math.max(y, barRect.y + barH + SMALL.px + GAP);
  }

  for (const line of spec.notes ?? []) {
    parts.push(text(MARGIN, y + SMALL.px, fitText(line, innerW, SMALL.px), {
      px: SMALL.px,
      fill: SOFT,
    }));
    y += SMALL.line;
  }
  const height = Math.ceil(y - GAP + MARGIN);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" ` +
    `xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}"><defs>${glyphs.defs()}</defs>` +
    `<rect width="${width}" height="${height}" fill="#ffffff"/>${parts.join("")}</svg>`;
  return { svg, width, height, cells, bar: barRect, ticks };
}

await initWasm(resvgWasm);

/**
 * Draws an SVG (a {@link layoutFigure} result, whose text is outlines) to PNG file bytes. No font
 * is loaded: the system's fonts play no part.
 */
export function svgToPng(svg: string): Uint8Array {
  const r = new Resvg(svg, {
    font: { loadSystemFonts: false },
    shapeRendering: 2,
    textRendering: 1,
    imageRendering: 1,
  });
  const img = r.render();
  // The figure is opaque (a white background): keep RGB, as the toolkit's other pictures.
  const { width, height, pixels: rgba } = img;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  img.free();
  r.free();
  return encode({ width, height, data: rgb, channels: 3, depth: 8 });
}

/**
 * The on-screen size for a `width` x `height` picture whose longer side should be `size`: larger
 * pictures shrink to it; smaller ones grow by the largest whole factor that stays within it (so
 * their pixels stay sharp squares).
 */
export function screenSize(width: number, height: number, size: number): [number, number] {
  const long = Math.max(width, height);
  if (long > size) {
    const s = size / long;
    return [Math.max(1, Math.round(width * s)), Math.max(1, Math.round(height * s))];
  }
  const k = Math.max(1, Math.floor(size / long));
  return [width * k, height * k];
}

/**
 * Resizes `channels`-interleaved values to `w2` x `h2`: each output pixel is the mean of the input
 * pixels its area covers when shrinking (no aliasing), the nearest input pixel when growing.
 */
export function resizeValues(
  src: ArrayLike<number>,
  w: number,
  h: number,
  channels: number,
  w2: number,
  h2: number,
): Float64Array {
  const out = new Float64Array(w2 * h2 * channels);
  const span = (i: number, n: number, n2: number): [number, number] => {
    const a = Math.floor((i * n) / n2);
    return [a, Math.max(a + 1, Math.floor(((i + 1) * n) / n2))];
  };
  for (let y = 0; y < h2; y++) {
    const [y0, y1] = span(y, h, h2);
    for (let x = 0; x < w2; x++) {
      const [x0, x1] = span(x, w, w2);
      const count = (y1 - y0) * (x1 - x0);
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let yy = y0; yy < y1; yy++) {
          for (let xx = x0; xx < x1; xx++) sum += src[(yy * w + xx) * channels + c];
        }
        out[(y * w2 + x) * channels + c] = sum / count;
      }
    }
  }
  return out;
}

/** A map of `width` x `height` values in viridis from 0 to `scale` (values above it saturate). */
export function viridisRaster(
  map: ArrayLike<number>,
  width: number,
  height: number,
  scale: number,
): Raster {
  const n = width * height;
  if (map.length !== n) throw new RangeError(`a map of ${map.length} values over ${n} pixels`);
  const data = new Uint8Array(n * 3);
  const top = scale > 0 ? scale : 1;
  for (let i = 0; i < n; i++) data.set(viridis(map[i] / top), 3 * i);
  return { width, height, data };
}

/** What {@link mapFigurePng} writes around the map. */
export interface MapFigureText {
  /** The first line, in bold. */
  title: string;
  /** Lines under the title. */
  subtitle: string[];
  /** Lines under the map. */
  caption: string[];
}

/** The longest side {@link mapFigurePng} draws a map at; larger maps are shrunk to it. */
export const MAP_FIGURE_MAX_SIDE = 2048;

/**
 * A distance map of `width` x `height` values as a labelled figure: the title, the map in viridis
 * from 0 to `scale` at its own size (maps under 256 pixels a side grow by a whole factor, pixels
 * kept square; maps over {@link MAP_FIGURE_MAX_SIDE} shrink to it, each pixel the mean of those
 * it covers, and the caption says so), its caption and the colour bar numbered from 0 to `scale`.
 */
export function mapFigure(
  map: ArrayLike<number>,
  width: number,
  height: number,
  scale: number,
  text: MapFigureText,
): Figure {
  const long = Math.max(width, height);
  const [w2, h2] = long < 256
    ? screenSize(width, height, 256)
    : long > MAP_FIGURE_MAX_SIDE
    ? screenSize(width, height, MAP_FIGURE_MAX_SIDE)
    : [width, height];
  const values = w2 === width && h2 === height ? map : resizeValues(map, width, height, 1, w2, h2);
  const caption = long > MAP_FIGURE_MAX_SIDE
    ? [...text.caption, `drawn at ${w2}x${h2} (means of the pixels each covers)`]
    : text.caption;
  return layoutFigure({
    title: text.title,
    subtitle: text.subtitle,
    rows: [{ cells: [{ image: viridisRaster(values, w2, h2, scale), caption }] }],
    colourBar: { scale, label: "per-pixel distance" },
  });
}

/** {@link mapFigure} drawn: PNG file bytes. */
export function mapFigurePng(
  map: ArrayLike<number>,
  width: number,
  height: number,
  scale: number,
  text: MapFigureText,
): Uint8Array {
  return svgToPng(mapFigure(map, width, height, scale, text).svg);
}
