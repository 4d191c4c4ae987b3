/**
 * `deno task figures`: writes every plotly figure of the executed notebooks in `notebooks/out/`
 * as `notebooks/figures/<name>.png` and `.svg`, `<name>` being the figure's `layout.meta.figure`
 * (the first argument of the notebook toolkit's `plot(...)`). plotly.js needs a DOM, so it runs
 * in Debian's headless Chromium (`CHROMIUM`, default /usr/bin/chromium) driven by playwright-core;
 * plotly.js is read from the pinned npm package on disk, with no network.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { type FoundFigure, type Notebook, plotlyFigures } from "./_plotly_outputs.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const OUT = join(HERE, "out");
const FIGURES = join(HERE, "figures");
const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
/** Export size in CSS pixels when the layout gives none; PNGs are drawn at twice that. */
const WIDTH = 900, HEIGHT = 520, PNG_SCALE = 2;

/** The path of `plotly.min.js` from the npm package pinned in deno.json (fetched if missing). */
async function plotlyPath(): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  const spec: string = config.imports["plotly.js-dist-min"];
  const version = spec.split("@").at(-1)!;
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  const npmCache: string = JSON.parse(new TextDecoder().decode(info.stdout)).npmCache;
  const file = join(npmCache, "registry.npmjs.org", "plotly.js-dist-min", version, "plotly.min.js");
  try {
    await Deno.stat(file);
  } catch {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["cache", "--quiet", spec],
      cwd: ROOT,
      stderr: "null",
    }).output();
    if (!r.success) throw new Error(`could not fetch ${spec}`);
  }
  return file;
}

async function executedFigures(): Promise<{ notebook: string; fig: FoundFigure }[]> {
  let names: string[];
  try {
    names = [...Deno.readDirSync(OUT)].map((e) => e.name).filter((n) => /^\d\d_.*\.ipynb$/.test(n))
      .sort();
  } catch {
    names = [];
  }
  if (names.length === 0) {
    throw new Error(`no executed notebooks in ${OUT}: run \`deno task notebooks\` first`);
  }
  const all: { notebook: string; fig: FoundFigure }[] = [];
  for (const notebook of names) {
    const nb = JSON.parse(await Deno.readTextFile(join(OUT, notebook))) as Notebook;
    for (const fig of plotlyFigures(nb)) all.push({ notebook, fig });
  }
  const seen = new Map<string, string>();
  for (const { notebook, fig } of all) {
    if (!/^[\w.-]+$/.test(fig.name)) {
      throw new Error(`${notebook} cell ${fig.cell}: figure name "${fig.name}" is not a file name`);
    }
    const other = seen.get(fig.name);
    if (other) throw new Error(`figure "${fig.name}" appears in ${other} and ${notebook}`);
    seen.set(fig.name, notebook);
  }
  return all;
}

async function main(): Promise<void> {
  const figures = await executedFigures();
  const plotly = await Deno.readTextFile(await plotlyPath());
  await Deno.remove(FIGURES, { recursive: true }).catch(() => {});
  await Deno.mkdir(FIGURES, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  try {
    const page = await browser.newPage();
    await page.setContent("<!doctype html><html><body></body></html>");
    await page.addScriptTag({ content: plotly });
    for (const { fig } of figures) {
      const layout = fig.figure.layout ?? {};
      const width = typeof layout.width === "number" ? layout.width : WIDTH;
      const height = typeof layout.height === "number" ? layout.height : HEIGHT;
      const [png, svg] = await page.evaluate(
        async ({ figure, width, height, scale }) => {
          // deno-lint-ignore no-explicit-any
          const Plotly = (globalThis as any).Plotly;
          const input = { data: figure.data, layout: figure.layout };
          return [
            await Plotly.toImage(input, { format: "png", width, height, scale }),
            await Plotly.toImage(input, { format: "svg", width, height }),
          ] as string[];
        },
        { figure: fig.figure, width, height, scale: PNG_SCALE },
      );
      const base64 = png.slice(png.indexOf(",") + 1);
      await Deno.writeFile(
        join(FIGURES, `${fig.name}.png`),
        Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)),
      );
      await Deno.writeTextFile(
        join(FIGURES, `${fig.name}.svg`),
        decodeURIComponent(svg.slice(svg.indexOf(",") + 1)),
      );
    }
  } finally {
    await browser.close();
  }
  console.log(`wrote ${figures.length} figure(s) as PNG and SVG to ${FIGURES}`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`figures: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
