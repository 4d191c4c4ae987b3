/**
 * Several images ranked by LPIPS against one reference, displayed in a notebook as one labelled
 * picture of thumbnails and distance maps on one colour scale (closest first), with the images that
 * could not be compared and why.
 *
 * @module
 */
import { basename } from "node:path";
import {
  ImageDecodeError,
  type ImageFile,
  type ImageSource,
  type ImageTensor,
  isImageFile,
  loadImage,
  type RGBImage,
} from "../bappsloader/image.ts";
import type { LPIPS } from "../lpips/lpips.ts";
import { needsTiling } from "../lpips/tiled.ts";
import { JUPYTER_DISPLAY, type MimeBundle } from "./display.ts";
import type { ComparisonDisplayOptions } from "./comparison.ts";
import { esc, pngImg } from "./_html.ts";
import { fileLabel, fmtDistance, modelLabel, namedImage, sizeOf } from "./_model.ts";
import { displayOptions } from "./_options.ts";
import { heatOver, maxOf, resizeRgb, resizeValues, rgbOf, screenSize } from "./_raster.ts";
import {
  CAPTION_PX,
  type Figure,
  type FigureRow,
  fitPath,
  formatScale,
  layoutFigure,
  MIN_COLUMN,
  svgToPng,
  textWidth,
} from "../lpips/figure.ts";

/**
 * An image to rank: a file (a path or `file:` URL, named by its file name) or a named
 * (1, 3, H, W) tensor.
 */
export type RankCandidate = ImageFile | { name: string; image: ImageTensor };

/** Options of {@link rankImages}. */
export interface RankImagesOptions extends ComparisonDisplayOptions {
  /** The reference's label (default: its file name, or "reference"). */
  referenceName?: string;
  /** One label per candidate (default: file names, or the names given with the tensors). */
  names?: string[];
}

/** One ranked image. Pictures are kept at their on-screen size only, not at full size. */
export interface RankedImage {
  /** 1 for the closest. */
  rank: number;
  /** Its label. */
  name: string;
  /** Its distance to the reference. */
  distance: number;
  /** The image at its on-screen size. */
  thumbnail: RGBImage;
  /** Its distance map at the same size (means over the pixels each screen pixel covers). */
  mapThumbnail: Float32Array;
  /** The largest value of its full-size distance map. */
  mapMax: number;
}

/** An image that was not ranked, and why. */
export interface SkippedImage {
  /** Its label. */
  name: string;
  /** Why, e.g. "512x384, the reference is 64x64". */
  reason: string;
}

/** The result of {@link rankImages}; a notebook cell ending in it shows it. */
export class Ranking {
  /** The model's line, e.g. "LPIPS (alex, v0.1)". */
  readonly label: string;
  /** The reference's label. */
  readonly referenceName: string;
  /** The reference at its on-screen size. */
  readonly reference: RGBImage;
  /** The compared images, closest first (ties keep the order given). */
  readonly ranked: readonly RankedImage[];
  /** The images that were not compared (unreadable, not an image, another size). */
  readonly skipped: readonly SkippedImage[];
  readonly #alpha: number;
  readonly #scale: number;

  /** Wraps computed results; {@link rankImages} computes them. */
  constructor(data: {
    label: string;
    referenceName: string;
    reference: RGBImage;
    ranked: RankedImage[];
    skipped: SkippedImage[];
    alpha?: number;
    scale?: number;
  }) {
    this.label = data.label;
    this.referenceName = data.referenceName;
    this.reference = data.reference;
    this.ranked = data.ranked;
    this.skipped = data.skipped;
    const o = displayOptions("Ranking", { alpha: data.alpha, scale: data.scale }, 1);
    this.#alpha = o.alpha;
    this.#scale = o.scale;
  }

  /**
   * The value of the top colour of the maps' one colour scale: the `scale` option, or the largest
   * value of all the (full-size) maps. Pass it as `scale` to other displays to compare by colour.
   */
  get scale(): number {
    return this.#scale > 0 ? this.#scale : Math.max(0, ...this.ranked.map((r) => r.mapMax));
  }

  /** The ranking as text: one line per image, then the skipped ones. */
  toString(): string {
    const width = Math.max(0, ...this.ranked.map((r) => r.name.length));
    return [
      `${this.label} against ${this.referenceName}, closest first:`,
      ...this.ranked.map((r) =>
        `${String(r.rank).padStart(3)}. ${r.name.padEnd(width)}  ${fmtDistance(r.distance)}`
      ),
      ...this.skipped.map((s) => `  not ranked: ${s.name}: ${s.reason}`),
    ].join("\n");
  }

  /**
   * The picture as SVG: a title, the reference, then each ranked image (closest first, at most
   * five to a row) with its rank, name and distance, its distance map over it, and one colour bar
   * numbered from 0 to {@link scale} for every map; the images not ranked are listed under it.
   */
  svg(): string {
    return this.#figure().svg;
  }

  /** The picture as PNG file bytes (what the notebook shows), e.g. to save with `Deno.writeFile`. */
  png(): Uint8Array {
    return svgToPng(this.#figure().svg);
  }

  #figure(): Figure {
    const scale = this.scale;
    const perRow = RANKED_PER_ROW;
    const rows: FigureRow[] = [];
    for (let i = 0; i < Math.max(1, this.ranked.length); i += perRow) {
      const block = this.ranked.slice(i, i + perRow);
      const first = i === 0;
      rows.push({
        cells: [
          first
            ? {
              image: this.reference,
              caption: [
                "reference",
                fitPath(
                  this.referenceName,
                  Math.max(this.reference.width, MIN_COLUMN),
                  CAPTION_PX,
                ),
              ],
            }
            : null,
          ...block.map((r) => ({ image: r.thumbnail, caption: [rankCaption(r)] })),
        ],
      });
      rows.push({
        cells: [
          null,
          ...block.map((r) => ({
            image: heatOver(r.thumbnail, r.mapThumbnail, scale, this.#alpha),
            caption: [`d = ${fmtDistance(r.distance)}`, `max ${formatScale(r.mapMax)}`],
          })),
        ],
      });
    }
    const n = this.ranked.length;
    return layoutFigure({
      title: `${this.label}: ${n} image${n === 1 ? "" : "s"} against ${this.referenceName}, ` +
        "closest first",
      subtitle: [
        `Under each image its distance map over it, every map on one colour scale, 0 to ${
          formatScale(scale)
        }`,
      ],
      rows,
      colourBar: { scale, label: "per-pixel distance", row: 1 },
      notes: this.skipped.map((s) => `not ranked: ${s.name}: ${s.reason}`),
    });
  }

  /**
   * The MIME bundle: `image/png` (the labelled picture), `text/html` (the picture and the table),
   * `text/plain`.
   */
  [JUPYTER_DISPLAY](): MimeBundle {
    const png = this.png().toBase64();
    const body = this.ranked.map((r) =>
      `<tr><td>${r.rank}</td><td><code>${esc(r.name)}</code></td>` +
      `<td>${fmtDistance(r.distance)}</td><td>${formatScale(r.mapMax)}</td></tr>`
    ).join("");
    const skipped = this.skipped.length === 0 ? "" : "<p>Not ranked:</p><ul>" +
      this.skipped.map((s) => `<li><code>${esc(s.name)}</code>: ${esc(s.reason)}</li>`).join("") +
      "</ul>";
    const html =
      `<div>${
        pngImg(png, `${this.label} against ${this.referenceName}, closest first, with the maps`)
      }<table><thead><tr><th>rank</th><th>image</th><th>distance</th><th>map's largest value` +
      `</th></tr></thead><tbody>${body}</tbody></table>${skipped}</div>`;
    return { "image/png": png, "text/html": html, "text/plain": this.toString() };
  }

  /** A short summary for `console.log` and `Deno.inspect` (not the thumbnails' pixels). */
  [Symbol.for("Deno.customInspect")](): string {
    const top = this.ranked.slice(0, 3).map((r) => `${r.name} ${fmtDistance(r.distance)}`);
    const more = this.ranked.length > 3 ? `, ... (${this.ranked.length} ranked)` : "";
    return `Ranking { ${this.label} against ${this.referenceName}: ${top.join(", ")}${more}; ` +
      `${this.skipped.length} not ranked; scale 0 to ${formatScale(this.scale)} }`;
  }
}

/** "3. …/ex_ref.png": the rank and as much of the name as its column holds. */
function rankCaption(r: RankedImage): string {
  const rank = `${r.rank}. `;
  const room = Math.max(r.thumbnail.width, MIN_COLUMN) - textWidth(rank, CAPTION_PX);
  return rank + fitPath(r.name, room, CAPTION_PX);
}

/** How many ranked images a row of the ranking's picture holds (the reference is left of them). */
const RANKED_PER_ROW = 5;

/**
 * Ranks images by LPIPS distance to a reference, closest first, as a {@link Ranking} that
 * displays itself in a notebook. The reference's features are computed once. Candidates that
 * cannot be read or decoded, or differ in size from the reference, are listed in `skipped` with
 * the reason instead of stopping the ranking; a bad reference is an error.
 *
 * @example
 * ```ts
 * import { LPIPS } from "@perceptual/lpips";
 * import { rankImages } from "@perceptual/lpips/notebook";
 * const m = await LPIPS.create();
 * const r = await rankImages(m, "ex_ref.png", ["ex_p0.png", "ex_p1.png"]);
 * console.log(r.ranked.map((x) => `${x.rank}. ${x.name}`)); // ["1. ex_p1.png", "2. ex_p0.png"]
 * r; // in a notebook cell: the thumbnails and maps, closest first
 * ```
 */
export async function rankImages(
  model: LPIPS,
  reference: ImageSource,
  candidates: RankCandidate[],
  options: RankImagesOptions = {},
): Promise<Ranking> {
  const fn = "rankImages";
  const { size, alpha, scale } = displayOptions(fn, options, 128);
  if (!Array.isArray(candidates) || candidates.length === 0) {
    throw new RangeError(`${fn}: no candidates to rank (pass image paths or { name, image })`);
  }
  const labels = options.names;
  if (
    labels !== undefined &&
    (!Array.isArray(labels) || labels.length !== candidates.length ||
      !labels.every((s) => typeof s === "string"))
  ) {
    throw new TypeError(
      `${fn}: names must hold one string per candidate (${candidates.length})`,
    );
  }
  const ref = await namedImage(fn, reference, "reference");
  const refName = options.referenceName ?? ref.name;
  const refRgb = rgbOf(ref.image);
  const [w2, h2] = screenSize(refRgb.width, refRgb.height, size);
  const [, , h, w] = ref.image.shape;
  // Large images go through distance(), which tiles; others share the reference's features.
  const tiled = needsTiling(model.arch, h, w);
  const refFeatures = tiled ? undefined : await model.features(ref.image);
  const found: Omit<RankedImage, "rank">[] = [];
  const skipped: SkippedImage[] = [];
  try {
    for (const [i, c] of candidates.entries()) {
      const name = labels?.[i] ??
        (isImageFile(c)
          ? basename(fileLabel(c))
          : typeof c?.name === "string"
          ? c.name
          : `candidate ${i + 1}`);
      let image: ImageTensor;
      try {
        image = isImageFile(c) ? await loadImage(c) : (await namedImage(fn, c?.image, name)).image;
      } catch (e) {
        if (!(e instanceof ImageDecodeError)) throw e;
        const prefix = `${isImageFile(c) ? fileLabel(c) : c}: `;
        skipped.push({
          name,
          reason: e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message,
        });
        continue;
      }
      if (sizeOf(image) !== sizeOf(ref.image)) {
        skipped.push({ name, reason: `${sizeOf(image)}, the reference is ${sizeOf(ref.image)}` });
        continue;
      }
      let distance: number, map: Float32Array;
      if (refFeatures) {
        const f = await model.features(image);
        try {
          distance = (await model.compare(refFeatures, f))[0];
          map = (await model.compare(refFeatures, f, { spatial: true })).map!.data;
        } finally {
          f.dispose();
        }
      } else {
        distance = (await model.distance(ref.image, image))[0];
        map = (await model.distance(ref.image, image, { spatial: true })).map!.data;
      }
      found.push({
        name,
        distance,
        thumbnail: resizeRgb(rgbOf(image), w2, h2),
        mapThumbnail: Float32Array.from(resizeValues(map, w, h, 1, w2, h2)),
        mapMax: maxOf(map),
      });
    }
  } finally {
    refFeatures?.dispose();
  }
  const order = found.map((r, i) => ({ r, i }))
    .sort((x, y) => x.r.distance - y.r.distance || x.i - y.i);
  return new Ranking({
    label: modelLabel(model),
    referenceName: refName,
    reference: resizeRgb(refRgb, w2, h2),
    ranked: order.map(({ r }, k) => ({ rank: k + 1, ...r })),
    skipped,
    alpha,
    scale: scale > 0 ? scale : undefined,
  });
}
