/**
 * `deno task notebooks [NAME...]`: registers the Deno Jupyter kernel, type-checks the notebooks'
 * code, executes every `notebooks/NN_*.ipynb` (or those whose names start with a given NAME)
 * headless through Jupyter, writes the executed copies to `notebooks/out/`, and checks that
 * every `plot(...)` call produced a plotly output and every cell tagged `images:N` its N PNG
 * pictures (and no other cell any). Exits non-zero, with one line per failure naming the notebook
 * and cell, when anything fails.
 *
 * Execution goes through `_run.py` on Debian's Jupyter modules (`/usr/bin/python3`, or
 * `NB_PYTHON`); see there for how late kernel outputs are caught and which cells must show output.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { cellSource, figureProblems, type Notebook, plotlyFigures } from "./_plotly_outputs.ts";
import { imageProblems, pngOutputCount } from "./_image_outputs.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(HERE);
const OUT = join(HERE, "out");
const PYTHON = Deno.env.get("NB_PYTHON") ?? "/usr/bin/python3";

/** The notebooks to run: `NN_*.ipynb`, filtered by the name prefixes given. */
export function selectNotebooks(files: string[], wanted: string[]): string[] {
  return files
    .filter((f) => /^\d\d_.*\.ipynb$/.test(f))
    .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
    .sort();
}

/**
 * A notebook's code cells as one TypeScript module for `deno check`: relative imports point
 * to absolute file URLs so the module can live in a temporary folder.
 */
export function notebookModule(nb: Notebook, dir: string): string {
  const base = pathToFileURL(dir.endsWith("/") ? dir : dir + "/");
  return nb.cells
    .filter((c) => c.cell_type === "code")
    .map((c, i) =>
      `// cell ${i + 1}\n` +
      cellSource(c).replace(
        /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(["'])(\.\.?\/[^"']*)\2/g,
        (_m, head: string, q: string, spec: string) => `${head}${q}${new URL(spec, base).href}${q}`,
      )
    )
    .join("\n\n") + "\n";
}

async function run(cmd: string, args: string[], opts: { quiet?: boolean } = {}) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    stdout: opts.quiet ? "piped" : "inherit",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/**
 * Where each line of {@link notebookModule}'s output came from: `[cell, line]` (1-based; cell 0
 * for the separator lines).
 */
export function moduleLineMap(nb: Notebook): [number, number][] {
  const map: [number, number][] = [];
  nb.cells.filter((c) => c.cell_type === "code").forEach((c, i) => {
    if (i > 0) map.push([0, 0]);
    map.push([0, 0]);
    cellSource(c).split("\n").forEach((_, k) => map.push([i + 1, k + 1]));
  });
  return map;
}

/**
 * `deno check` errors on the notebook modules as one line each:
 * `NAME.ipynb cell N line M: TS2322 message`.
 */
export function typeErrorLines(
  stderr: string,
  dir: string,
  maps: Map<string, [number, number][]>,
): string[] {
  const lines: string[] = [];
  let message = "";
  for (const line of stderr.split("\n")) {
    const head = line.match(/^(TS\d+) \[ERROR\]: (.*)$/);
    if (head) {
      message = `${head[1]} ${head[2]}`;
      continue;
    }
    const at = line.match(/at (file:\/\/\S+?\.ts):(\d+):(\d+)/);
    if (at && message) {
      const file = fileURLToPath(at[1]);
      const name = file.startsWith(dir) ? file.slice(dir.length + 1) : file;
      const [cell, row] = maps.get(name)?.[Number(at[2]) - 1] ?? [0, 0];
      const where = cell ? `cell ${cell} line ${row}` : `line ${at[2]}`;
      lines.push(`${name.replace(/\.ts$/, ".ipynb")} ${where}: ${message}`);
      message = "";
    }
  }
  return lines;
}

async function typeCheck(names: string[]): Promise<string[]> {
  const tmp = await Deno.makeTempDir({ prefix: "nb_check_" });
  try {
    const files: string[] = [];
    const maps = new Map<string, [number, number][]>();
    for (const name of names) {
      const nb = JSON.parse(await Deno.readTextFile(join(HERE, name))) as Notebook;
      const module = name.replace(/\.ipynb$/, ".ts");
      await Deno.writeTextFile(join(tmp, module), notebookModule(nb, HERE));
      maps.set(module, moduleLineMap(nb));
      files.push(join(tmp, module));
    }
    const r = await run(Deno.execPath(), [
      "check",
      "--quiet",
      "--config",
      join(ROOT, "deno.json"),
      ...files,
    ], { quiet: true });
    if (r.code === 0) return [];
    const errors = typeErrorLines(r.stderr, tmp, maps);
    return errors.length ? errors : [`deno check failed on the notebooks: ${r.stderr.trim()}`];
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

async function main(args: string[]): Promise<number> {
  const all = [...Deno.readDirSync(HERE)].map((e) => e.name);
  const names = selectNotebooks(all, args);
  if (names.length === 0) {
    console.error(`no notebooks match ${args.join(" ") || "NN_*.ipynb"} in ${HERE}`);
    return 1;
  }
  const install = await run(Deno.execPath(), ["jupyter", "--install", "--force"], { quiet: true });
  if (install.code !== 0) {
    console.error(`deno jupyter --install failed: ${install.stderr.trim().split("\n").at(-1)}`);
    return 1;
  }
  const failures: string[] = [];
  let t = performance.now();
  failures.push(...await typeCheck(names));
  console.log(`type-checked ${names.length} notebook(s) in ${sec(t)}`);
  await Deno.mkdir(OUT, { recursive: true });
  for (const name of names) {
    t = performance.now();
    const dst = join(OUT, name);
    const r = await run(PYTHON, [join(HERE, "_run.py"), join(HERE, name), dst]);
    const msg = r.stderr.split("\n").filter((l) =>
      l.trim() && !/"deno jupyter" is unstable/.test(l)
    );
    if (r.code !== 0) {
      failures.push(msg.at(-1) ?? `${name}: the runner exited with ${r.code}`);
      console.log(`${name}: FAILED after ${sec(t)}`);
      continue;
    }
    const nb = JSON.parse(await Deno.readTextFile(dst)) as Notebook;
    const problems = [...figureProblems(nb), ...imageProblems(nb)].map((p) => `${name} ${p}`);
    failures.push(...problems);
    console.log(
      `${name}: ${plotlyFigures(nb).length} plotly figure(s), ${pngOutputCount(nb)} picture(s), ` +
        `${sec(t)}` + (problems.length ? " (figure or picture problems)" : ""),
    );
  }
  for (const f of failures) console.error(f);
  return failures.length ? 1 : 0;
}

function sec(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(1)} s`;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
