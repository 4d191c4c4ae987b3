/**
 * One LPIPS comparison that displays itself in a notebook: the two images side by side, the
 * spatial distance map as a heatmap over the second image, the per-layer contributions and the
 * distance. Pictures go out as `image/png`, so they render without JavaScript (JupyterLab,
 * VS Code, GitHub).
 *
 * @module
 */
import type { ImageSource, ImageTensor } from "../bappsloader/image.ts";
import type { DistanceMap, LPIPS, Version } from "../lpips/lpips.ts";
import type { NetName } from "../lpips/arch.ts";
import { JUPYTER_DISPLAY, type MimeBundle } from "./display.ts";
import { esc, pngImg } from "./_html.ts";
import { fmtDistance, modelLabel, namedImage, sizeOf, tapModules } from "./_model.ts";
import { heatOver, maxOf, resizeRgb, resizeValues, rgbOf, screenSize } from "./_raster.ts";
import { displayOptions } from "./_options.ts";
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
   * The value of the colour bar's top colour (default: the largest value of the map, or of all the
   * maps of one display). Give the same number to displays in different cells to compare their
   * maps by colour; larger values are drawn in the top colour.
   */
  scale?: number;
  /** Opacity of the heatmap over the image, 0 to 1 (default 0.6). */
  alpha?: number;
}

/** Options of {@link compareImages}. */
export interface CompareImagesOptions extends ComparisonDisplayOptions {
  /** Labels of the two images (default: their file names, or "a" and "b" for tensors). */
  names?: [string, string];
}

/** What a {@link Comparison} holds. */
export interface ComparisonData {
  /** Labels of the two images. */
  names: [string, string];
  /** The model's line, e.g. "LPIPS (alex, v0.1)". */
  label: string;
  /** The trunk. */
  net: NetName;
  /** The linear heads' version. */
  version: Version;
  /** False for the uncalibrated baseline. */
  lpips: boolean;
  /** The distance. */
  distance: number;
  /** Per-layer contributions, in trunk order. */
  layers: LayerTerm[];
  /** The (1, 1, H, W) distance map, upsampled to the image size. */
  map: DistanceMap;
  /** The two images, (1, 3, H, W) in [-1, 1]. */
  images: [ImageTensor, ImageTensor];
}

/** The result of {@link compareImages}; a notebook cell ending in it shows it. */
export class Comparison {
  /** Labels of the two images. */
  readonly names: readonly [string, string];
  /** The model's line, e.g. "LPIPS (alex, v0.1)". */
  readonly label: string;
  /** The trunk. */
  readonly net: NetName;
  /** The linear heads' version. */
  readonly version: Version;
  /** False for the uncalibrated baseline. */
  readonly lpips: boolean;
  /** The distance (as `lpips compare` prints it). */
  readonly distance: number;
  /** Per-layer contributions, in trunk order. */
  readonly layers: readonly LayerTerm[];
  /** The (1, 1, H, W) distance map, upsampled to the image size (its mean is close to `distance`). */
  readonly map: DistanceMap;
  /** The two images. */
  readonly images: readonly [ImageTensor, ImageTensor];
  readonly #display: Required<ComparisonDisplayOptions>;

  /** Wraps computed results; {@link compareImages} computes them. */
  constructor(data: ComparisonData, display: ComparisonDisplayOptions = {}) {
    this.names = data.names;
    this.label = data.label;
    this.net = data.net;
    this.version = data.version;
    this.lpips = data.lpips;
    this.distance = data.distance;
    this.layers = data.layers;
    this.map = data.map;
    this.images = data.images;
    this.#display = displayOptions("Comparison", display, 256);
  }

  /** The comparison as text: the distance, then one line per layer. */
  toString(): string {
    const [a, b] = this.names;
    return [
      `${this.label} ${a} vs ${b}: ${fmtDistance(this.distance)}`,
      ...this.layers.map((l) =>
        `  layer ${l.layer} ${l.module}, ${l.channels} ch: ${fmtDistance(l.value)} (${
          share(l.value, this.distance)
        })`
      ),
    ].join("\n");
  }

  /** The largest value of the distance map. */
  get mapMax(): number {
    return maxOf(this.map.data);
  }

  /** The value of the colour bar's top colour: the `scale` option, or {@link mapMax}. */
  get scale(): number {
    return this.#display.scale > 0 ? this.#display.scale : this.mapMax;
  }

  /**
   * The picture as SVG: a title with the model and the distance, the two images, the map over the
   * second, a caption under each and the colour bar, numbered from 0 to {@link scale}. The images
   * are embedded as PNG; the text is set in DejaVu Sans.
   */
  svg(): string {
    return this.#figure().svg;
  }

  /** The picture as PNG file bytes (what the notebook shows), e.g. to save with `Deno.writeFile`. */
  png(): Uint8Array {
    return svgToPng(this.#figure().svg);
  }

  #figure(): Figure {
    const [, , h, w] = this.map.shape;
    return layoutFigure({
      title: `${this.label} = ${fmtDistance(this.distance)}`,
      subtitle: [`${this.names[0]} vs ${this.names[1]}, ${w}x${h} px`],
      rows: [comparisonRow(this, this.#display.size, this.#display.alpha, this.scale)],
      colourBar: { scale: this.scale, label: "per-pixel distance" },
    });
  }

  /**
   * The MIME bundle: `image/png` (the labelled picture), `text/html` (the picture and the layer
   * table), `text/plain`.
   */
  [JUPYTER_DISPLAY](): MimeBundle {
    const png = this.png().toBase64();
    const html = `<div>${
      pngImg(
        png,
        `${this.label} between ${this.names[0]} and ${this.names[1]}: ` +
          `${fmtDistance(this.distance)}, with the distance map`,
      )
    }${layerTable(this)}</div>`;
    return { "image/png": png, "text/html": html, "text/plain": this.toString() };
  }

  /** A one-line summary for `console.log` and `Deno.inspect` (not the images' pixels). */
  [Symbol.for("Deno.customInspect")](): string {
    const [a, b] = this.names;
    const [, , h, w] = this.map.shape;
    return `Comparison { ${this.label} ${a} vs ${b}: ${fmtDistance(this.distance)}, ` +
      `${this.layers.length} layers, map ${w}x${h} (max ${formatScale(this.mapMax)}), ` +
      `scale 0 to ${formatScale(this.scale)} }`;
  }
}

/** One comparison as a row of a figure: the two images and the map over the second. */
function comparisonRow(
  c: Comparison,
  size: number,
  alpha: number,
  scale: number,
  heading?: string,
): FigureRow {
  const [a, b] = c.images.map((t) => rgbOf(t));
  const [w2, h2] = screenSize(a.width, a.height, size);
  const map = resizeValues(c.map.data, a.width, a.height, 1, w2, h2);
  const sb = resizeRgb(b, w2, h2);
  const [na, nb] = c.names;
  const room = Math.max(w2, MIN_COLUMN);
  const fit = (prefix: string) =>
    prefix + fitPath(nb, room - textWidth(prefix, CAPTION_PX), CAPTION_PX);
  const long = fit("distance map over ");
  return {
    heading,
    cells: [
      { image: resizeRgb(a, w2, h2), caption: [fitPath(na, room, CAPTION_PX)] },
      { image: sb, caption: [fitPath(nb, room, CAPTION_PX)] },
      {
        image: heatOver(sb, map, scale, alpha),
        caption: [
          long.endsWith(nb) ? long : fit("map over "),
          `max ${formatScale(c.mapMax)}${c.mapMax > scale ? " (above scale)" : ""}`,
        ],
      },
    ],
  };
}

/** A comparison's per-layer terms as an HTML table. */
function layerTable(c: Comparison): string {
  const rows = c.layers.map((l) =>
    `<tr><td>${l.layer}</td><td>${esc(l.module)}</td><td>${l.channels}</td>` +
    `<td>${fmtDistance(l.value)}</td><td>${share(l.value, c.distance)}</td></tr>`
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

  /** The colour bar's top value: the `scale` option, or the largest value of all the maps. */
  get scale(): number {
    return this.#display.scale > 0
      ? this.#display.scale
      : Math.max(0, ...this.comparisons.map((c) => c.mapMax));
  }

  /** The picture as SVG: one row per comparison, each under its distance, and one colour bar. */
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
    return layoutFigure({
      title: `${one ?? "LPIPS"}: ${this.comparisons.length} comparisons on one colour scale`,
      subtitle: [`every map coloured from 0 to ${formatScale(scale)}`],
      rows: this.comparisons.map((c) =>
        comparisonRow(
          c,
          size,
          alpha,
          scale,
          `${one ? "" : `${c.label} `}${c.names[0]} vs ${c.names[1]}: ${fmtDistance(c.distance)}`,
        )
      ),
      colourBar: { scale, label: "per-pixel distance" },
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
      `${c.names[0]} vs ${c.names[1]}: ${fmtDistance(c.distance)}`
    ).join("; ");
    const html = `<div>${pngImg(png, alt)}${this.comparisons.map(layerTable).join("")}</div>`;
    return { "image/png": png, "text/html": html, "text/plain": this.toString() };
  }

  /** A short summary for `console.log` and `Deno.inspect`. */
  [Symbol.for("Deno.customInspect")](): string {
    const items = this.comparisons.map((c) =>
      `${c.names[0]} vs ${c.names[1]}: ${fmtDistance(c.distance)}`
    );
    return `ComparisonSet { ${items.join("; ")}; scale 0 to ${formatScale(this.scale)} }`;
  }
}

/**
 * Several comparisons as one picture, one row each, with every map on one colour scale (by default
 * the largest value of all the maps; `scale` fixes it), so that their colours compare.
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
  return new ComparisonSet(comparisons, options);
}

/**
 * LPIPS between two images, with the distance map and per-layer terms, as a {@link Comparison}
 * that displays itself in a notebook. Images are files (paths or `file:` URLs, read with `loadImage`) or
 * (1, 3, H, W) tensors in [-1, 1], of one size. The distance and layers are what
 * `lpips compare` prints.
 *
 * @example
 * ```ts
 * import { LPIPS } from "@perceptual/lpips";
 * import { compareImages } from "@perceptual/lpips/notebook";
 * const m = await LPIPS.create();
 * const c = await compareImages(m, "ex_ref.png", "ex_p0.png");
 * console.log(c.distance); // 0.7219
 * c; // in a notebook cell: the images, the map over ex_p0.png and the layers
 * ```
 */
export async function compareImages(
  model: LPIPS,
  a: ImageSource,
  b: ImageSource,
  options: CompareImagesOptions = {},
): Promise<Comparison> {
  const fn = "compareImages";
  displayOptions(fn, options, 256);
  if (options.names !== undefined && !isNamePair(options.names)) {
    throw new TypeError(`${fn}: names must be two strings, got ${JSON.stringify(options.names)}`);
  }
  const [ia, ib] = await Promise.all([namedImage(fn, a, "a"), namedImage(fn, b, "b")]);
  const names = options.names ?? [ia.name, ib.name];
  if (sizeOf(ia.image) !== sizeOf(ib.image)) {
    throw new RangeError(
      `${fn}: ${names[0]} is ${sizeOf(ia.image)} and ${names[1]} is ${sizeOf(ib.image)}; ` +
        "LPIPS compares images of one size",
    );
  }
  const scalar = await model.distance(ia.image, ib.image, { perLayer: true });
  const spatial = await model.distance(ia.image, ib.image, { spatial: true });
  const modules = tapModules(model);
  return new Comparison({
    names: [names[0], names[1]],
    label: modelLabel(model),
    net: model.net,
    version: model.version,
    lpips: model.lpips,
    distance: scalar.distance[0],
    layers: scalar.layers!.map((l, k) => ({ layer: k + 1, ...modules[k], value: l[0] })),
    map: spatial.map!,
    images: [ia.image, ib.image],
  }, { size: options.size, alpha: options.alpha, scale: options.scale });
}

function isNamePair(v: unknown): v is [string, string] {
  return Array.isArray(v) && v.length === 2 && v.every((s) => typeof s === "string");
}

function share(value: number, total: number): string {
  return total > 0 ? `${((100 * value) / total).toFixed(1)}%` : "-";
}
