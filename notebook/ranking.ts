/**
 * Several images ranked against one reference by LPIPS or any metric of the registry (in its
 * direction: closest first), displayed in a notebook as one labelled picture of thumbnails and,
 * where the metric has them, maps on one colour scale, with the images that could not be compared
 * and why.
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
import type { Metric, MetricInfo } from "../metrics/contract.ts";
import { LPIPS_METRIC, lpipsModel } from "../metrics/lpips.ts";
import { JUPYTER_DISPLAY, type MimeBundle } from "./display.ts";
import type { ComparisonDisplayOptions } from "./comparison.ts";
import { esc, pngImg } from "./_html.ts";
import { fileLabel, modelLabel, namedImage, sizeOf } from "./_model.ts";
import { displayOptions } from "./_options.ts";
import { heatOver, maxOf, minOf, resizeRgb, resizeValues, rgbOf, screenSize } from "./_raster.ts";
import {
  barLabel,
  checkMinSize,
  chosenMetric,
  type ComparisonMap,
  comparisonMap,
  defaultScale,
  direction,
  fmtScore,
  isLpipsModel,
  mapExtreme,
  mapMeaning,
  type MetricChoice,
  metricLabel,
  metricOptions,
  noMapLine,
} from "./_metric.ts";
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

/**
 * Options of {@link rankImages}: the display's, the labels and, in the form without a model, the
 * metric (`metric: "flip"`) and its options.
 */
export interface RankImagesOptions extends ComparisonDisplayOptions, MetricChoice {
  /** The reference's label (default: its file name, or "reference"). */
  referenceName?: string;
  /** One label per candidate (default: file names, or the names given with the tensors). */
  names?: string[];
}

/** One ranked image. Pictures are kept at their on-screen size only, not at full size. */
export interface RankedImage {
  /** 1 for the closest (in the metric's direction). */
  rank: number;
  /** Its label. */
  name: string;
  /** Its score, as the metric's authors print it (LPIPS: its distance). */
  score: number;
  /** Its distance to the reference (`toDistance` of the score): what the ranking orders by. */
  distance: number;
  /** The image at its on-screen size. */
  thumbnail: RGBImage;
  /**
   * Its map at the same size (means over the pixels each screen pixel covers); `undefined` where
   * the metric has no map.
   */
  mapThumbnail?: Float32Array;
  /** The largest value of its full-size map. */
  mapMax?: number;
  /** The smallest value of its full-size map (a similarity map's farthest point). */
  mapMin?: number;
}

/** What the maps of a {@link Ranking} are. */
export type RankingMaps = Pick<ComparisonMap, "kind" | "label">;

/** An image that was not ranked, and why. */
export interface SkippedImage {
  /** Its label. */
  name: string;
  /** Why, e.g. "512x384, the reference is 64x64". */
  reason: string;
}

/** The result of {@link rankImages}; a notebook cell ending in it shows it. */
export class Ranking {
  /** The metric's line, e.g. "LPIPS (alex, v0.1)", "SSIM (Lab)". */
  readonly label: string;
  /** The metric. */
  readonly metric: MetricInfo;
  /** What the maps are (`undefined` where the metric has none). */
  readonly maps: RankingMaps | undefined;
  /** The reference's label. */
  readonly referenceName: string;
  /** The reference at its on-screen size. */
  readonly reference: RGBImage;
  /** The compared images, closest first in the metric's direction (ties keep the order given). */
  readonly ranked: readonly RankedImage[];
  /** The images that were not compared (unreadable, not an image, another size). */
  readonly skipped: readonly SkippedImage[];
  readonly #alpha: number;
  readonly #scale: number;

  /** Wraps computed results; {@link rankImages} computes them. */
  constructor(data: {
    label: string;
    /** Default LPIPS. */
    metric?: MetricInfo;
    /** Default: distance maps where the images have maps. */
    maps?: RankingMaps;
    referenceName: string;
    reference: RGBImage;
    ranked: RankedImage[];
    skipped: SkippedImage[];
    alpha?: number;
    scale?: number;
  }) {
    this.label = data.label;
    this.metric = data.metric ?? LPIPS_METRIC;
    this.maps = data.maps ??
      (data.ranked.some((r) => r.mapThumbnail)
        ? { kind: "distance", label: `${this.metric.title} distance` }
        : undefined);
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
   * value of all the (full-size) distance maps, 1 for similarity maps (0 without maps). Pass it as
   * `scale` to other displays to compare by colour.
   */
  get scale(): number {
    if (this.#scale > 0) return this.#scale;
    if (!this.maps) return 0;
    return defaultScale(this.maps.kind, Math.max(0, ...this.ranked.map((r) => r.mapMax ?? 0)));
  }

  /** The ranking as text: one line per image, then the skipped ones. */
  toString(): string {
    const width = Math.max(0, ...this.ranked.map((r) => r.name.length));
    return [
      `${this.label} against ${this.referenceName}, closest first (${direction(this.metric)}):`,
      ...this.ranked.map((r) =>
        `${String(r.rank).padStart(3)}. ${r.name.padEnd(width)}  ${fmtScore(this.metric, r.score)}`
      ),
      ...this.skipped.map((s) => `  not ranked: ${s.name}: ${s.reason}`),
    ].join("\n");
  }

  /**
   * The picture as SVG: a title, the reference, then each ranked image (closest first, at most
   * five to a row) with its rank, name and score, its map over it where the metric has maps, and
   * one colour bar numbered from 0 to {@link scale} for every map; the images not ranked are
   * listed under it.
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
    const maps = this.maps;
    const scoreText = (r: RankedImage) =>
      `${this.metric.title} = ${fmtScore(this.metric, r.score)}`;
    const rows: FigureRow[] = [];
    for (let i = 0; i < Math.max(1, this.ranked.length); i += RANKED_PER_ROW) {
      const block = this.ranked.slice(i, i + RANKED_PER_ROW);
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
          ...block.map((r) => ({
            image: r.thumbnail,
            caption: maps ? [rankCaption(r)] : [rankCaption(r), scoreText(r)],
          })),
        ],
      });
      if (!maps) continue;
      rows.push({
        cells: [
          null,
          ...block.map((r) => ({
            image: r.mapThumbnail
              ? heatOver(r.thumbnail, r.mapThumbnail, scale, this.#alpha)
              : r.thumbnail,
            caption: [scoreText(r), mapExtreme(maps, r.mapMin ?? 0, r.mapMax ?? 0, scale)],
          })),
        ],
      });
    }
    const n = this.ranked.length;
    return layoutFigure({
      title: `${this.label}: ${n} image${n === 1 ? "" : "s"} against ${this.referenceName}, ` +
        "closest first",
      subtitle: maps
        ? [
          `${direction(this.metric, true)}. Under each image its ${maps.kind} map over it, ` +
          "every map on one colour scale",
          mapMeaning(maps, scale),
        ]
        : [
          `${direction(this.metric, true)}. ${noMapLine(this.metric)}: the images and their scores`,
        ],
      rows,
      colourBar: maps && { scale, label: barLabel(this.metric, maps), row: 1 },
      notes: this.skipped.map((s) => `not ranked: ${s.name}: ${s.reason}`),
    });
  }

  /**
   * The MIME bundle: `image/png` (the labelled picture), `text/html` (the picture and the table),
   * `text/plain`.
   */
  [JUPYTER_DISPLAY](): MimeBundle {
    const png = this.png().toBase64();
    const extreme = this.maps?.kind === "similarity" ? "smallest" : "largest";
    const body = this.ranked.map((r) =>
      `<tr><td>${r.rank}</td><td><code>${esc(r.name)}</code></td>` +
      `<td>${fmtScore(this.metric, r.score)}</td>` +
      (this.maps
        ? `<td>${formatScale((extreme === "smallest" ? r.mapMin : r.mapMax) ?? 0)}</td>`
        : "") +
      "</tr>"
    ).join("");
    const skipped = this.skipped.length === 0 ? "" : "<p>Not ranked:</p><ul>" +
      this.skipped.map((s) => `<li><code>${esc(s.name)}</code>: ${esc(s.reason)}</li>`).join("") +
      "</ul>";
    const alt = `${this.label} against ${this.referenceName}, closest first` +
      (this.maps ? ", with the maps" : "");
    const head =
      `<th>rank</th><th>image</th><th>${esc(this.metric.title)} ${
        this.metric.lowerIsBetter ? "↓" : "↑"
      }</th>` + (this.maps ? `<th>map's ${extreme} value</th>` : "");
    const html = `<div>${pngImg(png, alt)}<table><thead><tr>${head}</tr></thead><tbody>${body}` +
      `</tbody></table>${skipped}</div>`;
    return { "image/png": png, "text/html": html, "text/plain": this.toString() };
  }

  /** A short summary for `console.log` and `Deno.inspect` (not the thumbnails' pixels). */
  [Symbol.for("Deno.customInspect")](): string {
    const top = this.ranked.slice(0, 3).map((r) => `${r.name} ${fmtScore(this.metric, r.score)}`);
    const more = this.ranked.length > 3 ? `, ... (${this.ranked.length} ranked)` : "";
    const scale = this.maps ? `; scale 0 to ${formatScale(this.scale)}` : "";
    return `Ranking { ${this.label} against ${this.referenceName}: ${top.join(", ")}${more}; ` +
      `${this.skipped.length} not ranked${scale} }`;
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

/** Scores candidates against one reference: a score and, where the metric has one, a map. */
interface Scorer {
  score(image: ImageTensor): Promise<{ score: number; map?: ComparisonMap }>;
  /** Frees what the scorer holds (the reference's features), not the model or metric. */
  close(): void;
}

/** LPIPS's scorer: the reference's features computed once (large images go through tiling). */
async function lpipsScorer(model: LPIPS, ref: ImageTensor): Promise<Scorer> {
  const [, , h, w] = ref.shape;
  // Large images go through distance(), which tiles; others share the reference's features.
  const refFeatures = needsTiling(model.arch, h, w) ? undefined : await model.features(ref);
  const map = (data: Float32Array): ComparisonMap => ({
    data,
    shape: [1, 1, h, w],
    kind: "distance",
    label: "LPIPS distance",
  });
  return {
    async score(image) {
      if (!refFeatures) {
        const score = (await model.distance(ref, image))[0];
        return { score, map: map((await model.distance(ref, image, { spatial: true })).map!.data) };
      }
      const f = await model.features(image);
      try {
        const score = (await model.compare(refFeatures, f))[0];
        return {
          score,
          map: map((await model.compare(refFeatures, f, { spatial: true })).map!.data),
        };
      } finally {
        f.dispose();
      }
    },
    close: () => refFeatures?.dispose(),
  };
}

/** A registry metric's scorer: its score and, where it has one, its map. */
function metricScorer(m: Metric, ref: ImageTensor): Scorer {
  return {
    async score(image) {
      const score = (await m.scores(ref, image))[0];
      const map = m.info.hasMap && m.map ? comparisonMap(await m.map(ref, image)) : undefined;
      return { score, map };
    },
    close() {},
  };
}

/**
 * Ranks images against a reference, closest first in the metric's direction, as a
 * {@link Ranking} that displays itself in a notebook: by an LPIPS model given first (the
 * reference's features computed once), or by any metric of the registry named in the options
 * (`metric: "flip"`, a pyiqa spelling, or a `MetricInfo`; default LPIPS, alex v0.1), built once
 * for the call with the other options and disposed after. Similarities (SSIM, PSNR, MS-SSIM, FSIM,
 * FSIMc) rank the highest first, distances the lowest; maps (LPIPS, FLIP, GMSD, FSIM, FSIMc) are
 * drawn on one colour scale. Candidates that cannot be read or decoded, or differ in size from the
 * reference, are listed in `skipped` with the reason instead of stopping the ranking; a bad
 * reference is an error.
 *
 * @example An LPIPS model, then SSIM, a similarity (the highest first)
 * ```ts
 * import { LPIPS } from "@perceptual/lpips";
 * import { rankImages } from "@perceptual/lpips/notebook";
 * const m = await LPIPS.create();
 * const r = await rankImages(m, "ex_ref.png", ["ex_p0.png", "ex_p1.png"]);
 * console.log(r.ranked.map((x) => `${x.rank}. ${x.name}`)); // ["1. ex_p1.png", "2. ex_p0.png"]
 * r; // in a notebook cell: the thumbnails and maps, closest first
 * const s = await rankImages("ex_ref.png", ["ex_p0.png", "ex_p1.png"], { metric: "ssim" });
 * console.log(s.ranked.map((x) => `${x.name} ${x.score.toFixed(4)}`)); // ["ex_p0.png 0.5132", "ex_p1.png 0.3231"]
 * ```
 */
export function rankImages(
  model: LPIPS,
  reference: ImageSource,
  candidates: RankCandidate[],
  options?: RankImagesOptions,
): Promise<Ranking>;
/** Ranks images against a reference by the metric the options name (LPIPS by default). */
export function rankImages(
  reference: ImageSource,
  candidates: RankCandidate[],
  options?: RankImagesOptions,
): Promise<Ranking>;
export async function rankImages(...args: unknown[]): Promise<Ranking> {
  const fn = "rankImages";
  const model = isLpipsModel(args[0]) ? args[0] : undefined;
  const [reference, candidates, given] = (model ? args.slice(1) : args) as [
    ImageSource,
    RankCandidate[],
    unknown,
  ];
  const options = (given ?? {}) as RankImagesOptions;
  const { size, alpha, scale } = displayOptions(fn, options, 128);
  const info = chosenMetric(fn, options, model !== undefined);
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
  checkMinSize(fn, info, refName, ref.image);
  const lpips = model ??
    (info.name === LPIPS_METRIC.name ? await lpipsModel(metricOptions(options)) : undefined);
  let metric: Metric | undefined, scorer: Scorer | undefined;
  try {
    if (lpips) scorer = await lpipsScorer(lpips, ref.image);
    else {
      metric = await info.create(metricOptions(options));
      scorer = metricScorer(metric, ref.image);
    }
    const label = lpips ? modelLabel(lpips) : metricLabel(info, metric!.setting);
    const { ranked, skipped, maps } = await rankAll(fn, scorer, ref, candidates, labels, size);
    return new Ranking({
      label,
      metric: info,
      maps,
      referenceName: refName,
      reference: resizeRgb(
        rgbOf(ref.image),
        ...screenSize(ref.image.shape[3], ref.image.shape[2], size),
      ),
      ranked: ranked.map((r) => ({ ...r, distance: info.toDistance(r.score) }))
        .map((r, i) => ({ r, i }))
        .sort((x, y) => x.r.distance - y.r.distance || x.i - y.i)
        .map(({ r }, k) => ({ ...r, rank: k + 1 })),
      skipped,
      alpha,
      scale: scale > 0 ? scale : undefined,
    });
  } finally {
    scorer?.close();
    metric?.dispose();
    if (!model) lpips?.dispose();
  }
}

/** Every candidate read, checked and scored (unreadable and other-size ones skipped, with why). */
async function rankAll(
  fn: string,
  scorer: Scorer,
  ref: { image: ImageTensor },
  candidates: RankCandidate[],
  labels: string[] | undefined,
  size: number,
): Promise<{
  ranked: Omit<RankedImage, "rank" | "distance">[];
  skipped: SkippedImage[];
  maps?: RankingMaps;
}> {
  const [, , h, w] = ref.image.shape;
  const [w2, h2] = screenSize(w, h, size);
  const ranked: Omit<RankedImage, "rank" | "distance">[] = [];
  const skipped: SkippedImage[] = [];
  let maps: RankingMaps | undefined;
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
    const { score, map } = await scorer.score(image);
    const item: Omit<RankedImage, "rank" | "distance"> = {
      name,
      score,
      thumbnail: resizeRgb(rgbOf(image), w2, h2),
    };
    if (map) {
      const [, , mh, mw] = map.shape;
      maps ??= { kind: map.kind, label: map.label };
      item.mapThumbnail = Float32Array.from(resizeValues(map.data, mw, mh, 1, w2, h2));
      item.mapMax = maxOf(map.data);
      item.mapMin = minOf(map.data);
    }
    ranked.push(item);
  }
  return { ranked, skipped, maps };
}
