/**
 * The one helper module the notebooks import: where the data is, which engine and backend to use,
 * and plotly figures displayed through the Deno kernel's rich output.
 *
 * @module
 */
import { join } from "node:path";
import { existsSync } from "node:fs";
import type { BackendName, EngineName, ImageTensor } from "../mod.ts";

/** Where the notebooks read BAPPS from. */
export interface DataRoot {
  /** The folder that holds `2afc/` and `jnd/`. */
  root: string;
  /** True when this is the small BAPPS-format fixture, not the real dataset. */
  fixture: boolean;
  /** One line saying which data this is, for the notebook's first output. */
  message: string;
}

/**
 * `BAPPS_ROOT` when set (the real dataset, from `deno task lpips download`), otherwise the
 * fixture `$LPIPS_TEST_DATA/bapps-mini` (default `../shared` from the project root).
 */
export function dataRoot(): DataRoot {
  const bapps = Deno.env.get("BAPPS_ROOT");
  if (bapps) {
    if (!existsSync(join(bapps, "2afc"))) {
      throw new Error(
        `BAPPS_ROOT=${bapps} has no 2afc/ folder (download it with ` +
          "`deno task lpips download --root DIR`)",
      );
    }
    return { root: bapps, fixture: false, message: `Data: the BAPPS dataset at ${bapps}.` };
  }
  const root = join(testDataDir(), "bapps-mini");
  if (!existsSync(join(root, "2afc"))) {
    throw new Error(
      `no data: set BAPPS_ROOT to the BAPPS dataset, or LPIPS_TEST_DATA to a folder with bapps-mini/ (looked in ${root})`,
    );
  }
  return {
    root,
    fixture: true,
    message: `Data: BAPPS_ROOT is not set, so this runs on the small synthetic BAPPS-format ` +
      `fixture at ${root}. Its numbers check the pipeline; they are not the paper's.`,
  };
}

/** `LPIPS_TEST_DATA`, or `../shared` beside the project root. */
export function testDataDir(): string {
  return Deno.env.get("LPIPS_TEST_DATA") ?? join(projectRoot(), "..", "shared");
}

/** The project root: the notebooks run with `notebooks/` as their working directory. */
export function projectRoot(): string {
  const cwd = Deno.cwd();
  return existsSync(join(cwd, "deno.json")) ? cwd : join(cwd, "..");
}

/**
 * Quick mode: small sizes and few repetitions, so that CI runs every notebook in minutes.
 * `NB_QUICK=1` turns it on and `NB_QUICK=0` off; unset, it is on exactly when `BAPPS_ROOT` is unset
 * (the fixture run).
 */
export function quickMode(): boolean {
  const v = Deno.env.get("NB_QUICK");
  if (v !== undefined && v !== "") return v !== "0";
  return !Deno.env.get("BAPPS_ROOT");
}

/** `LPIPS_BACKEND` (default wasm) and `LPIPS_ENGINE` (default auto). */
export function runtimeChoice(): { backend: BackendName; engine: EngineName } {
  const backend = (Deno.env.get("LPIPS_BACKEND") ?? "wasm") as BackendName;
  const engine = (Deno.env.get("LPIPS_ENGINE") ?? "auto") as EngineName;
  return { backend, engine };
}

/** A plotly trace or layout: plain JSON, as plotly.js takes it. */
export type PlotlyJson = Record<string, unknown>;

/** A plotly figure as JSON. `layout.meta.figure` names it for `deno task figures`. */
export interface Figure {
  data: PlotlyJson[];
  layout: PlotlyJson;
}

/** What the Deno kernel displays: an object with a `Jupyter.display` MIME bundle. */
export interface Displayable {
  [key: symbol]: () => Record<string, unknown>;
}

/**
 * A plotly figure for the notebook: the `application/vnd.plotly.v1+json` bundle (JupyterLab's
 * renderer), an HTML fallback, and a text line. `name` becomes the file name that
 * `deno task figures` writes (`figures/<name>.png`).
 *
 * @example
 * ```ts
 * import { plot } from "./nb.ts";
 * plot("quickstart_layers", [{ type: "bar", x: ["conv1"], y: [0.1] }], { title: { text: "Per layer" } });
 * ```
 */
export function plot(name: string, data: PlotlyJson[], layout: PlotlyJson = {}): Displayable {
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
    "application/vnd.plotly.v1+json": { ...fig, config: { responsive: true } },
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
 * import { logAxis, plot } from "./nb.ts";
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
 * Shows one or more displayables now (the kernel shows only a cell's last expression by itself),
 * e.g. several figures from one cell. Outside a kernel it prints their text form.
 *
 * @example
 * ```ts
 * import { plot, show, table } from "./nb.ts";
 * await show(table(["a"], [[1]]), plot("f", []));
 * ```
 */
export async function show(...items: Displayable[]): Promise<void> {
  const jupyter = (Deno as unknown as {
    jupyter?: { display(obj: unknown, opts?: { raw?: boolean }): Promise<void> };
  }).jupyter;
  for (const item of items) {
    const bundle = item[Symbol.for("Jupyter.display")]();
    if (jupyter) await jupyter.display(bundle, { raw: true });
    else console.log(bundle["text/plain"]);
  }
}

/**
 * An NCHW image batch in [-1, 1] (as `loadImage` returns it) as a plotly `image` trace of item
 * `index`, for a figure or a subplot (`xaxis`/`yaxis` in `extra`).
 *
 * @example
 * ```ts
 * import { imageTrace } from "./nb.ts";
 * const img = { data: new Float32Array(3 * 2 * 2), shape: [1, 3, 2, 2] as [number, number, number, number] };
 * imageTrace(img, 0, { name: "grey" });
 * ```
 */
export function imageTrace(img: ImageTensor, index = 0, extra: PlotlyJson = {}): PlotlyJson {
  const [, c, h, w] = img.shape;
  if (c !== 3) throw new Error(`imageTrace needs 3 channels, got ${c}`);
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

/** A MIME bundle as something the Deno kernel displays (the last expression of a cell). */
export function display(bundle: Record<string, unknown>): Displayable {
  return { [Symbol.for("Jupyter.display")]: () => bundle };
}

/** A table as HTML (and plain text), for results the notebooks show. */
export function table(header: string[], rows: (string | number)[][]): Displayable {
  const cell = (v: string | number) => typeof v === "number" ? fmt(v) : v;
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const html = "<table><thead><tr>" + header.map((h) => `<th>${esc(h)}</th>`).join("") +
    "</tr></thead><tbody>" +
    rows.map((r) => "<tr>" + r.map((v) => `<td>${esc(cell(v))}</td>`).join("") + "</tr>")
      .join("") +
    "</tbody></table>";
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => cell(r[i]).length)));
  const line = (r: string[]) => r.map((v, i) => v.padEnd(widths[i])).join("  ");
  const text = [line(header), ...rows.map((r) => line(r.map(cell)))].join("\n");
  return display({ "text/html": html, "text/plain": text });
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}

/** HTML that draws the figure with plotly.js from its CDN (for viewers without the renderer). */
function plotlyHtml(fig: Figure): string {
  const id = `plot-${crypto.randomUUID()}`;
  const json = JSON.stringify(fig).replace(/</g, "\\u003c");
  return `<div id="${id}"></div>` +
    `<script src="https://cdn.plot.ly/plotly-2.35.2.min.js"></script>` +
    `<script>Plotly.newPlot(${JSON.stringify(id)}, ${json}.data, ${json}.layout);</script>`;
}
