/**
 * Several images ranked by LPIPS against one reference, displayed in a notebook as a table of
 * thumbnails and distance maps (closest first), with the images that could not be compared and
 * why.
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
import {
  grid,
  heatOver,
  maxOf,
  pngBase64,
  resizeRgb,
  resizeValues,
  rgbOf,
  screenSize,
} from "./_raster.ts";

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
  readonly #mapMax: number;

  /** Wraps computed results; {@link rankImages} computes them. */
  constructor(data: {
    label: string;
    referenceName: string;
    reference: RGBImage;
    ranked: RankedImage[];
    skipped: SkippedImage[];
    alpha?: number;
    mapMax?: number;
  }) {
    this.label = data.label;
    this.referenceName = data.referenceName;
    this.reference = data.reference;
    this.ranked = data.ranked;
    this.skipped = data.skipped;
    const o = displayOptions("Ranking", { alpha: data.alpha, mapMax: data.mapMax }, 1);
    this.#alpha = o.alpha;
    this.#mapMax = o.mapMax;
  }

  /** The top of the maps' shared colour scale. */
  get mapMax(): number {
    return this.#mapMax > 0 ? this.#mapMax : maxOf(this.ranked.map((r) => maxOf(r.mapThumbnail)));
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
   * The MIME bundle: `image/png` (the reference, then one row per ranked image: the image and its
   * map over it), `text/html` (the table), `text/plain`.
   */
  [JUPYTER_DISPLAY](): MimeBundle {
    const max = this.mapMax;
    const rows = this.ranked.map((r) => ({
      r,
      heat: heatOver(r.thumbnail, r.mapThumbnail, max, this.#alpha),
    }));
    const png = pngBase64(
      grid([[this.reference, null], ...rows.map((x) => [x.r.thumbnail, x.heat])]),
    );
    const ref = pngBase64(this.reference);
    const body = rows.map(({ r, heat }) =>
      `<tr><td>${r.rank}</td><td><code>${esc(r.name)}</code></td>` +
      `<td>${fmtDistance(r.distance)}</td><td>${pngImg(pngBase64(r.thumbnail), r.name)}</td>` +
      `<td>${pngImg(pngBase64(heat), `distance map of ${r.name}`)}</td></tr>`
    ).join("");
    const skipped = this.skipped.length === 0 ? "" : "<p>Not ranked:</p><ul>" +
      this.skipped.map((s) => `<li><code>${esc(s.name)}</code>: ${esc(s.reason)}</li>`).join("") +
      "</ul>";
    const html = `<div><p><b>${esc(this.label)}</b> against <code>${esc(this.referenceName)}` +
      `</code>, closest first (maps: viridis, 0 to ${max.toPrecision(3)} per pixel, one scale ` +
      `for all).</p>${pngImg(ref, this.referenceName)}<table><thead><tr><th>rank</th>` +
      `<th>image</th><th>distance</th><th>picture</th><th>map over it</th></tr></thead>` +
      `<tbody>${body}</tbody></table>${skipped}</div>`;
    return { "image/png": png, "text/html": html, "text/plain": this.toString() };
  }
}

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
  const { size, alpha, mapMax } = displayOptions(fn, options, 128);
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
    mapMax: mapMax > 0 ? mapMax : undefined,
  });
}
