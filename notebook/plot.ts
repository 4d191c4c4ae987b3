/**
 * plotly figures in a notebook. plotly.js needs a DOM, so it cannot run in Deno; a figure goes to
 * the front end as plotly's JSON MIME bundle (`application/vnd.plotly.v1+json`, drawn by
 * JupyterLab's and VS Code's plotly renderers), with an HTML fallback, and a line of text. The
 * fallback uses the plotly.js the page already has, else loads the version this package pins
 * (`plotly.js-dist-min`, {@link PLOTLY_VERSION}) from the jsDelivr CDN.
 *
 * @module
 */
import type { ImageTensor } from "../bappsloader/image.ts";
import { display, type Displayable } from "./display.ts";

/**
 * The plotly.js version of the HTML fallback: the `plotly.js-dist-min` that deno.json pins (and
 * `deno task figures` draws with), so a figure looks the same wherever it is drawn.
 */
export const PLOTLY_VERSION = "4.1.2";

/** The MIME type of a plotly figure in a notebook output. */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** A plotly trace or layout: plain JSON, as plotly.js takes it. */
export type PlotlyJson = Record<string, unknown>;

/** A plotly figure as JSON. `layout.meta.figure` names it. */
export interface Figure {
  /** The traces. */
  data: PlotlyJson[];
  /** The layout. */
  layout: PlotlyJson;
}

/**
 * A plotly figure for the notebook: the plotly JSON bundle, an HTML fallback and a text line.
 * `name` is stored as `layout.meta.figure` (a file name for exported pictures).
 *
 * @example
 * ```ts
 * import { plot } from "@perceptual/lpips/notebook";
 * plot("layers", [{ type: "bar", x: ["1", "2"], y: [0.1, 0.3] }], { title: { text: "Per layer" } });
 * ```
 */
export function plot(name: string, data: PlotlyJson[], layout: PlotlyJson = {}): Displayable {
  if (typeof name !== "string" || name === "") {
    throw new TypeError("plot: the first argument is the figure's name, a non-empty string");
  }
  if (!Array.isArray(data)) throw new TypeError(`plot("${name}"): data must be an array of traces`);
  const fig: Figure = {
    data,
    layout: {
      font: { size: 14 },
      margin: { t: 60, r: 30, b: 60, l: 70 },
      ...layout,
      meta: { ...(layout.meta as PlotlyJson | undefined), figure: name },
    },
  };
  return display({
    [PLOTLY_MIME]: { ...fig, config: { responsive: true } },
    "text/html": plotlyHtml(fig),
    "text/plain": `[plotly figure ${name}]`,
  });
}

/**
 * A plotly log axis whose ticks are 1, 2, 5 times powers of ten written out in full ("200", not
 * plotly's bare "2" minor labels), covering `values`.
 *
 * @example
 * ```ts
 * import { logAxis, plot } from "@perceptual/lpips/notebook";
 * plot("speed", [{ type: "scatter", x: [1, 16], y: [40, 300] }], {
 *   xaxis: logAxis("batch size", [1, 16]),
 *   yaxis: logAxis("pairs per second", [40, 300]),
 * });
 * ```
 */
export function logAxis(title: string, values: number[], extra: PlotlyJson = {}): PlotlyJson {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  const lo = Math.min(...positive), hi = Math.max(...positive);
  const ticks: number[] = [];
  if (positive.length) {
    for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)); e++) {
      for (const m of [1, 2, 5]) {
        const v = Number((m * 10 ** e).toPrecision(1));
        if (v >= lo / 1.6 && v <= hi * 1.6) ticks.push(v);
      }
    }
  }
  return {
    title: { text: title },
    type: "log",
    ...(ticks.length ? { tickvals: ticks, ticktext: ticks.map(String) } : {}),
    ...extra,
  };
}

/**
 * Item `index` of an NCHW batch in [-1, 1] (as `loadImage` returns it) as a plotly `image`
 * trace, for a figure or a subplot (`xaxis`/`yaxis` in `extra`).
 *
 * @example
 * ```ts
 * import { imageTrace } from "@perceptual/lpips/notebook";
 * const grey = { data: new Float32Array(3 * 2 * 2), shape: [1, 3, 2, 2] as [1, 3, 2, 2] };
 * imageTrace(grey, 0, { name: "grey" });
 * ```
 */
export function imageTrace(img: ImageTensor, index = 0, extra: PlotlyJson = {}): PlotlyJson {
  const [n, c, h, w] = img.shape;
  if (c !== 3) throw new RangeError(`imageTrace needs 3 channels, got ${c}`);
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new RangeError(`imageTrace: index ${index} is outside the batch of ${n}`);
  }
  const off = index * c * h * w;
  const z: number[][][] = [];
  for (let y = 0; y < h; y++) {
    const row: number[][] = [];
    for (let x = 0; x < w; x++) {
      const px: number[] = [];
      for (let k = 0; k < 3; k++) {
        const v = img.data[off + k * h * w + y * w + x];
        px.push(Math.round(Math.min(255, Math.max(0, (v + 1) * 127.5))));
      }
      row.push(px);
    }
    z.push(row);
  }
  return { type: "image", z, hoverinfo: "skip", ...extra };
}

/**
 * HTML that draws the figure with plotly.js: the page's own when it has one (a notebook that
 * loaded it, offline), else the pinned version from the jsDelivr CDN, loaded once per page.
 */
function plotlyHtml(fig: Figure): string {
  const id = `plot-${crypto.randomUUID()}`;
  const json = JSON.stringify(fig).replace(/</g, "\\u003c");
  const src = `https://cdn.jsdelivr.net/npm/plotly.js-dist-min@${PLOTLY_VERSION}/plotly.min.js`;
  return `<div id="${id}"></div><script>(function () {` +
    `var draw = function () { var f = ${json}; Plotly.newPlot(${JSON.stringify(id)}, f.data, ` +
    `f.layout); };` +
    `if (window.Plotly) { draw(); return; }` +
    `var s = document.querySelector('script[data-plotly="${PLOTLY_VERSION}"]');` +
    `if (!s) { s = document.createElement("script"); s.src = "${src}"; ` +
    `s.setAttribute("data-plotly", "${PLOTLY_VERSION}"); document.head.appendChild(s); }` +
    `s.addEventListener("load", draw); })();</script>`;
}
