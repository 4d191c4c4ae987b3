/**
 * One comparison that displays itself in a notebook, by LPIPS or any metric of the registry: the
 * two images side by side, the metric's map (where it has one) as a heatmap over the second image,
 * LPIPS's per-layer contributions, and the score. Pictures go out as `image/png`, so they render
 * without JavaScript (JupyterLab, VS Code, GitHub).
 *
 * @module
 */
import type { ImageSource, ImageTensor } from "../bappsloader/image.ts";
import type { DistanceMap, LPIPS, Version } from "../lpips/lpips.ts";
import type { NetName } from "../lpips/arch.ts";
import type { MetricInfo } from "../metrics/contract.ts";
import { LPIPS_METRIC, lpipsModel } from "../metrics/lpips.ts";
import { JUPYTER_DISPLAY, type MimeBundle } from "./display.ts";
import { esc, pngImg } from "./_html.ts";
import { modelLabel, namedImage, sizeOf, tapModules } from "./_model.ts";
import { heatOver, maxOf, minOf, resizeRgb, resizeValues, rgbOf, screenSize } from "./_raster.ts";
import { displayOptions } from "./_options.ts";
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

/** One tapped layer's share of a distance. */
export interface LayerTerm {
  /** 1-based position among the trunk's tapped layers. */
  layer: number;
  /** The torchvision module whose output is tapped, e.g. `features.4 (ReLU)`. */
  module: string;
  /** The layer's channel count. */
  channels: number;
  /** The layer's contribution; the contributions add up to the distance. */
  value: number;
}

/** How a {@link Comparison} is drawn. */
export interface ComparisonDisplayOptions {
  /** Longer side of each picture on screen, in pixels (default 256; see {@link compareImages}). */
  size?: number;
  /**
   * The value of the colour bar's top colour (default: the largest value of a distance map, or of
   * all the maps of one display; 1 for similarity maps). Give the same number to displays in
   * different cells to compare their maps by colour; larger values are drawn in the top colour.
   */
  scale?: number;
  /** Opacity of the heatmap over the image, 0 to 1 (default 0.6). */
  alpha?: number;
}

/**
 * Options of {@link compareImages}: the display's, the labels and, in the form without a model,
 * the metric (`metric: "gmsd"`) and its options.
 */
export interface CompareImagesOptions extends ComparisonDisplayOptions, MetricChoice {
  /** Labels of the two images (default: their file names, or "a" and "b" for tensors). */
  names?: [string, string];
}

export type { ComparisonMap, MetricChoice } from "./_metric.ts";

/** What a {@link Comparison} holds. */
export interface ComparisonData {
  /** Labels of the two images. */
  names: [string, string];
  /** The metric's line, e.g. "LPIPS (alex, v0.1)", "SSIM (Lab)". */
  label: string;
  /** The metric (default LPIPS). */
  metric?: MetricInfo;
  /** LPIPS: the trunk. */
  net?: NetName;
  /** LPIPS: the linear heads' version. */
  version?: Version;
  /** LPIPS: false for the uncalibrated baseline. */
  lpips?: boolean;
  /** The score as the metric's authors print it (default: the distance). */
  score?: number;
  /** The distance (`metric.toDistance(score)`; for LPIPS the score). */
  distance: number;
  /** LPIPS: per-layer contributions, in trunk order; `[]` for other metrics. */
  layers: LayerTerm[];
  /**
   * The map, (1, 1, H, W) (LPIPS's upsampled to the image size), where the metric has one; a
   * plain `DistanceMap` is a distance map.
   */
  map?: DistanceMap & Partial<Pick<ComparisonMap, "kind" | "label">>;
  /** The two images, (1, 3, H, W) in [-1, 1]. */
  images: [ImageTensor, ImageTensor];
}

/** The result of {@link compareImages}; a notebook cell ending in it shows it. */
export class Comparison {
  /** Labels of the two images. */
  readonly names: readonly [string, string];
  /** The metric's line, e.g. "LPIPS (alex, v0.1)", "SSIM (Lab)", "GMSD". */
  readonly label: string;
  /** The metric. */
  readonly metric: MetricInfo;
  /** LPIPS: the trunk (`undefined` for other metrics). */
  readonly net?: NetName;
  /** LPIPS: the linear heads' version. */
  readonly version?: Version;
  /** LPIPS: false for the uncalibrated baseline. */
  readonly lpips?: boolean;
  /** The score, as the metric's authors print it (and `lpips compare --metric` prints it). */
  readonly score: number;
  /** The distance: the score for distances, `metric.toDistance(score)` for similarities. */
  readonly distance: number;
  /** LPIPS: per-layer contributions, in trunk order (`[]` for other metrics). */
  readonly layers: readonly LayerTerm[];
  /**
   * The metric's map, (1, 1, H, W), or `undefined` where it has none (PSNR, SSIM, MS-SSIM, L2,
   * DISTS). LPIPS's is upsampled to the image size (its mean is close to `distance`).
   */
  readonly map: ComparisonMap | undefined;
  /** The two images. */
  readonly images: readonly [ImageTensor, ImageTensor];
  readonly #display: Required<ComparisonDisplayOptions>;

  /** Wraps computed results; {@link compareImages} computes them. */
  constructor(data: ComparisonData, display: ComparisonDisplayOptions = {}) {
    this.names = data.names;
    this.label = data.label;
    this.metric = data.metric ?? LPIPS_METRIC;
    this.net = data.net;
    this.version = data.version;
    this.lpips = data.lpips;
    this.score = data.score ?? data.distance;
    this.distance = data.distance;
    this.layers = data.layers;
    this.map = data.map && {
      data: data.map.data,
      shape: data.map.shape,
      kind: data.map.kind ?? "distance",
      label: data.map.label ?? `${this.metric.title} distance`,
    };
    this.images = data.images;
    this.#display = displayOptions("Comparison", display, 256);
  }

  /** The comparison as text: the score, then LPIPS's line per layer. */
  toString(): string {
    const [a, b] = this.names;
    return [
      `${this.label} ${a} vs ${b}: ${fmtScore(this.metric, this.score)}`,
      ...this.layers.map((l) =>
        `  layer ${l.layer} ${l.module}, ${l.channels} ch: ${fmtScore(this.metric, l.value)} (${
          share(l.value, this.distance)
        })`
      ),
    ].join("\n");
  }

  /** The largest value of the map (0 without one). */
  get mapMax(): number {
    return this.map ? maxOf(this.map.data) : 0;
  }

  /** The smallest value of the map (0 without one): where a similarity map finds them farthest. */
  get mapMin(): number {
    return this.map ? minOf(this.map.data) : 0;
  }

  /**
   * The value of the colour bar's top colour: the `scale` option, or {@link mapMax} for a distance
   * map, 1 for a similarity map (0 without a map).
   */
  get scale(): number {
    if (this.#display.scale > 0) return this.#display.scale;
    return this.map ? defaultScale(this.map.kind, this.mapMax) : 0;
  }

  /**
   * The picture as SVG: a title with the metric and the score, a line on its direction and its
   * map, the two images, the map over the second, a caption under each and the colour bar,
   * numbered from 0 to {@link scale} (without a map: the two images, and a line that says so). The
   * images are embedded as PNG; the text is set in DejaVu Sans.
   */
  svg(): string {
    return this.#figure().svg;
  }

  /** The picture as PNG file bytes (what the notebook shows), e.g. to save with `Deno.writeFile`. */
  png(): Uint8Array {
    return svgToPng(this.#figure().svg);
  }

  #figure(): Figure {
    const [, , h, w] = this.images[0].shape;
    return layoutFigure({
      title: `${this.label} = ${fmtScore(this.metric, this.score)}`,
      subtitle: [
        `${this.names[0]} vs ${this.names[1]}, ${w}x${h} px`,
        aboutLine(this.metric, this.map, this.scale),
      ],
      rows: [comparisonRow(this, this.#display.size, this.#display.alpha, this.scale)],
      colourBar: this.map && { scale: this.scale, label: barLabel(this.metric, this.map) },
    });
  }

  /**
   * The MIME bundle: `image/png` (the labelled picture), `text/html` (the picture and LPIPS's
   * layer table), `text/plain`.
   */
  [JUPYTER_DISPLAY](): MimeBundle {
    const png = this.png().toBase64();
    const html = `<div>${
      pngImg(
        png,
        `${this.label} between ${this.names[0]} and ${this.names[1]}: ` +
          `${fmtScore(this.metric, this.score)}, ${
            this.map ? `with the ${this.map.kind} map` : "no map"
          }`,
      )
    }${layerTable(this)}</div>`;
    return { "image/png": png, "text/html": html, "text/plain": this.toString() };
  }

  /** A one-line summary for `console.log` and `Deno.inspect` (not the images' pixels). */
  [Symbol.for("Deno.customInspect")](): string {
    const [a, b] = this.names;
    const layers = this.layers.length > 0 ? `${this.layers.length} layers, ` : "";
    let map = "no map";
    if (this.map) {
      const [, , h, w] = this.map.shape;
      const extreme = this.map.kind === "similarity"
        ? `min ${formatScale(this.mapMin)}`
        : `max ${formatScale(this.mapMax)}`;
      map =
        `${this.map.kind === "similarity" ? "similarity map" : "map"} ${w}x${h} (${extreme}), ` +
        `scale 0 to ${formatScale(this.scale)}`;
    }
    return `Comparison { ${this.label} ${a} vs ${b}: ${fmtScore(this.metric, this.score)}, ` +
      `${layers}${map} }`;
  }
}

/** The line under the names: the metric's direction, and what its map's colours mean. */
function aboutLine(metric: MetricInfo, map: ComparisonMap | undefined, scale: number): string {
  return `${direction(metric, true)}. ${
    map ? mapMeaning(map, scale) : `${noMapLine(metric)}: the images and the score`
  }`;
}

/**
 * One comparison as a row of a figure: the two images and the map over the second (without a
 * map, the two images).
 */
function comparisonRow(
  c: Comparison,
  size: number,
  alpha: number,
  scale: number,
  heading?: string,
): FigureRow {
  const [a, b] = c.images.map((t) => rgbOf(t));
  const [w2, h2] = screenSize(a.width, a.height, size);
  const sb = resizeRgb(b, w2, h2);
  const [na, nb] = c.names;
  const room = Math.max(w2, MIN_COLUMN);
  const images = [
    { image: resizeRgb(a, w2, h2), caption: [fitPath(na, room, CAPTION_PX)] },
    { image: sb, caption: [fitPath(nb, room, CAPTION_PX)] },
  ];
  if (!c.map) return { heading, cells: images };
  const [, , mh, mw] = c.map.shape;
  const map = resizeValues(c.map.data, mw, mh, 1, w2, h2);
  const fit = (prefix: string) =>
    prefix + fitPath(nb, room - textWidth(prefix, CAPTION_PX), CAPTION_PX);
  const long = fit(`${c.map.kind} map over `);
  return {
    heading,
    cells: [
      ...images,
      {
        image: heatOver(sb, map, scale, alpha),
        caption: [
          long.endsWith(nb) ? long : fit("map over "),
          mapExtreme(c.map, c.mapMin, c.mapMax, scale),
        ],
      },
    ],
  };
}

/** A comparison's per-layer terms as an HTML table ("" for metrics without layers). */
function layerTable(c: Comparison): string {
  if (c.layers.length === 0) return "";
  const rows = c.layers.map((l) =>
    `<tr><td>${l.layer}</td><td>${esc(l.module)}</td><td>${l.channels}</td>` +
    `<td>${fmtScore(c.metric, l.value)}</td><td>${share(l.value, c.distance)}</td></tr>`
  ).join("");
  return `<p>Per layer, <code>${esc(c.names[0])}</code> vs <code>${esc(c.names[1])}</code>:` +
    `</p><table><thead><tr><th>layer</th><th>module</th><th>channels</th>` +
    `<th>contribution</th><th>share</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** Several comparisons in one picture on one colour scale; {@link comparisonSet} makes it. */
export class ComparisonSet {
  /** The comparisons, one row each, in the order given. */
  readonly comparisons: readonly Comparison[];
  readonly #display: Required<ComparisonDisplayOptions>;

  /** Wraps comparisons; {@link comparisonSet} checks them. */
  constructor(comparisons: Comparison[], display: ComparisonDisplayOptions = {}) {
    this.comparisons = comparisons;
    this.#display = displayOptions("comparisonSet", display, 256);
  }

  /**
   * The colour bar's top value: the `scale` option, or the largest value of all the distance maps
   * (1 for similarity maps; 0 for a metric without maps).
   */
  get scale(): number {
    if (this.#display.scale > 0) return this.#display.scale;
    const map = this.comparisons[0].map;
    return map ? defaultScale(map.kind, Math.max(0, ...this.comparisons.map((c) => c.mapMax))) : 0;
  }

  /** The picture as SVG: one row per comparison, each under its score, and one colour bar. */
  svg(): string {
    return this.#figure().svg;
  }

  /** The picture as PNG file bytes (what the notebook shows). */
  png(): Uint8Array {
    return svgToPng(this.#figure().svg);
  }

  #figure(): Figure {
    const { size, alpha } = this.#display;
    const scale = this.scale;
    const labels = new Set(this.comparisons.map((c) => c.label));
    const one = labels.size === 1 ? [...labels][0] : undefined;
    const { metric, map } = this.comparisons[0];
    const n = this.comparisons.length;
    return layoutFigure({
      title: `${one ?? metric.title}: ${n} comparisons${map ? " on one colour scale" : ""}`,
      subtitle: [
        ...(map ? [`every map coloured from 0 to ${formatScale(scale)}`] : []),
        aboutLine(metric, map, scale),
      ],
      rows: this.comparisons.map((c) =>
        comparisonRow(
          c,
          size,
          alpha,
          scale,
          `${one ? "" : `${c.label} `}${c.names[0]} vs ${c.names[1]}: ${
            fmtScore(c.metric, c.score)
          }`,
        )
      ),
      colourBar: map && { scale, label: barLabel(metric, map) },
    });
  }

  /** The comparisons as text, one after the other. */
  toString(): string {
    return this.comparisons.map(String).join("\n");
  }

  /** The MIME bundle: `image/png`, `text/html` (the picture and each layer table), `text/plain`. */
  [JUPYTER_DISPLAY](): MimeBundle {
    const png = this.png().toBase64();
    const alt = this.comparisons.map((c) =>
      `${c.names[0]} vs ${c.names[1]}: ${fmtScore(c.metric, c.score)}`
    ).join("; ");
    const html = `<div>${pngImg(png, alt)}${this.comparisons.map(layerTable).join("")}</div>`;
    return { "image/png": png, "text/html": html, "text/plain": this.toString() };
  }

  /** A short summary for `console.log` and `Deno.inspect`. */
  [Symbol.for("Deno.customInspect")](): string {
    const items = this.comparisons.map((c) =>
      `${c.names[0]} vs ${c.names[1]}: ${fmtScore(c.metric, c.score)}`
    );
    const scale = this.comparisons[0].map ? `; scale 0 to ${formatScale(this.scale)}` : "";
    return `ComparisonSet { ${items.join("; ")}${scale} }`;
  }
}

/**
 * Several comparisons of one metric as one picture, one row each, with every map on one colour
 * scale (by default the largest value of all the distance maps, 1 for similarity maps; `scale`
 * fixes it), so that their colours compare.
 *
 * @example
 * ```ts
 * import { LPIPS } from "@perceptual/lpips";
 * import { compareImages, comparisonSet } from "@perceptual/lpips/notebook";
 * const m = await LPIPS.create();
 * const set = comparisonSet([
 *   await compareImages(m, "ex_ref.png", "ex_p0.png"),
 *   await compareImages(m, "ex_ref.png", "ex_p1.png"),
 * ]);
 * console.log(set.scale > 1); // true: ex_p0's map reaches 1.05
 * set; // in a notebook cell: both comparisons, one colour bar
 * ```
 */
export function comparisonSet(
  comparisons: Comparison[],
  options: ComparisonDisplayOptions = {},
): ComparisonSet {
  if (
    !Array.isArray(comparisons) || comparisons.length === 0 ||
    !comparisons.every((c) => c instanceof Comparison)
  ) {
    throw new TypeError("comparisonSet: pass an array of one or more compareImages results");
  }
  const metrics = [...new Set(comparisons.map((c) => c.metric.name))];
  if (metrics.length > 1) {
    throw new RangeError(
      `comparisonSet: the comparisons are by ${metrics.join(", ")}; one picture shares one ` +
        "colour scale, so pass comparisons of one metric",
    );
  }
  return new ComparisonSet(comparisons, options);
}

/**
 * Two images compared, as a {@link Comparison} that displays itself in a notebook: by an LPIPS
 * model given first (its distance, map and per-layer terms, what `lpips compare` prints), or by
 * any metric of the registry named in the options (`metric: "gmsd"`, a pyiqa spelling such as
 * `"ms_ssim"`, or a `MetricInfo`; default LPIPS, alex v0.1), built for the call with the other
 * options (`weightsDir`, `colorspace`, `lpips: { net: "vgg" }`, ...) and disposed after. The
 * score is the registry's, as the metric's authors print it; metrics with a map (LPIPS, FLIP,
 * GMSD, FSIM, FSIMc) show it over the second image, the others the two images and the score.
 * Images are files (paths or `file:` URLs, read with `loadImage`) or (1, 3, H, W) tensors in
 * [-1, 1], of one size.
 *
 * @example An LPIPS model, then GMSD by name
 * ```ts
 * import { LPIPS } from "@perceptual/lpips";
 * import { compareImages } from "@perceptual/lpips/notebook";
 * const m = await LPIPS.create();
 * const c = await compareImages(m, "ex_ref.png", "ex_p0.png");
 * console.log(c.distance); // 0.7219
 * c; // in a notebook cell: the images, the map over ex_p0.png and the layers
 * const g = await compareImages("ex_ref.png", "ex_p0.png", { metric: "gmsd" });
 * console.log(`${g.label} = ${g.score.toFixed(4)}`); // GMSD = 0.1983, its similarity map over ex_p0
 * ```
 */
export function compareImages(
  model: LPIPS,
  a: ImageSource,
  b: ImageSource,
  options?: CompareImagesOptions,
): Promise<Comparison>;
/** Two images compared by the metric the options name (LPIPS by default). */
export function compareImages(
  a: ImageSource,
  b: ImageSource,
  options?: CompareImagesOptions,
): Promise<Comparison>;
export async function compareImages(...args: unknown[]): Promise<Comparison> {
  const fn = "compareImages";
  const model = isLpipsModel(args[0]) ? args[0] : undefined;
  const [a, b, given] = (model ? args.slice(1) : args) as [ImageSource, ImageSource, unknown];
  const options = (given ?? {}) as CompareImagesOptions;
  displayOptions(fn, options, 256);
  const info = chosenMetric(fn, options, model !== undefined);
  if (options.names !== undefined && !isNamePair(options.names)) {
    throw new TypeError(`${fn}: names must be two strings, got ${JSON.stringify(options.names)}`);
  }
  const [ia, ib] = await Promise.all([namedImage(fn, a, "a"), namedImage(fn, b, "b")]);
  const names: [string, string] = options.names ?? [ia.name, ib.name];
  if (sizeOf(ia.image) !== sizeOf(ib.image)) {
    throw new RangeError(
      `${fn}: ${names[0]} is ${sizeOf(ia.image)} and ${names[1]} is ${sizeOf(ib.image)}; ` +
        `${info.title} compares images of one size`,
    );
  }
  checkMinSize(fn, info, names[0], ia.image);
  const display = { size: options.size, alpha: options.alpha, scale: options.scale };
  const images: [ImageTensor, ImageTensor] = [ia.image, ib.image];
  if (model) return await lpipsComparison(model, names, images, display);
  if (info.name === LPIPS_METRIC.name) {
    const m = await lpipsModel(metricOptions(options));
    try {
      return await lpipsComparison(m, names, images, display);
    } finally {
      m.dispose();
    }
  }
  const m = await info.create(metricOptions(options));
  try {
    const score = (await m.scores(ia.image, ib.image))[0];
    const map = info.hasMap && m.map ? comparisonMap(await m.map(ia.image, ib.image)) : undefined;
    return new Comparison({
      names,
      label: metricLabel(info, m.setting),
      metric: info,
      score,
      distance: info.toDistance(score),
      layers: [],
      map,
      images,
    }, display);
  } finally {
    m.dispose();
  }
}

/** LPIPS's comparison: the distance, the per-layer terms and the spatial map of the model. */
async function lpipsComparison(
  model: LPIPS,
  names: [string, string],
  [a, b]: [ImageTensor, ImageTensor],
  display: ComparisonDisplayOptions,
): Promise<Comparison> {
  const scalar = await model.distance(a, b, { perLayer: true });
  const spatial = await model.distance(a, b, { spatial: true });
  const modules = tapModules(model);
  return new Comparison({
    names,
    label: modelLabel(model),
    metric: LPIPS_METRIC,
    net: model.net,
    version: model.version,
    lpips: model.lpips,
    distance: scalar.distance[0],
    layers: scalar.layers!.map((l, k) => ({ layer: k + 1, ...modules[k], value: l[0] })),
    map: { ...spatial.map!, kind: "distance", label: "LPIPS distance" },
    images: [a, b],
  }, display);
}

function isNamePair(v: unknown): v is [string, string] {
  return Array.isArray(v) && v.length === 2 && v.every((s) => typeof s === "string");
}

function share(value: number, total: number): string {
  return total > 0 ? `${((100 * value) / total).toFixed(1)}%` : "-";
}
