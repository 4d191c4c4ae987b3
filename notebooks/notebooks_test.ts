import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  cellSource,
  figureProblems,
  type Notebook,
  type NotebookCell,
  plotCalls,
  PLOTLY_MIME,
  plotlyFigures,
} from "./_plotly_outputs.ts";
import { declaredImages, imageProblems, PNG_MIME, pngProblem } from "./_image_outputs.ts";
import { moduleLineMap, notebookModule, selectNotebooks, typeErrorLines } from "./_run.ts";
import { encode } from "fast-png";

const HERE = dirname(fileURLToPath(import.meta.url));
const CONFIG = JSON.parse(Deno.readTextFileSync(join(HERE, "..", "deno.json")));

function code(source: string, figures: string[] = []): NotebookCell {
  return {
    cell_type: "code",
    source,
    metadata: {},
    outputs: figures.map((name) => ({
      output_type: "execute_result",
      data: { [PLOTLY_MIME]: { data: [], layout: { meta: { figure: name } } } },
    })),
  };
}

function sourceNotebooks(): string[] {
  return selectNotebooks([...Deno.readDirSync(HERE)].map((e) => e.name), []);
}

function readNotebook(path: string): Notebook {
  return JSON.parse(Deno.readTextFileSync(path)) as Notebook;
}

Deno.test("plotCalls: names of plot() calls, comments and other calls skipped", () => {
  const src = [
    'plot("a", [], {});',
    '// plot("commented")',
    "/* plot('block') */",
    "x.plot('method');",
    "myplot('other');",
    "plot('b',",
    "plot(`t_${k}`, []);",
    'const url = "https://example.com"; plot("c", [])',
  ].join("\n");
  assert.deepEqual(plotCalls(src), ["a", "b", "?", "c"]);
});

Deno.test("figureProblems: one plotly output per plot() call, named as called, names unique", () => {
  const ok: Notebook = {
    cells: [
      { cell_type: "markdown", source: 'plot("not code")' },
      code('plot("a", [])', ["a"]),
      { ...code("", ["b", "c"]), source: ['await show(plot("b", []));\n', 'plot("c", [])'] },
    ],
  };
  assert.deepEqual(figureProblems(ok), []);
  assert.deepEqual(plotlyFigures(ok).map((f) => [f.name, f.cell]), [["a", 1], ["b", 2], ["c", 2]]);

  const dropped: Notebook = { cells: [code('plot("a", []);\nplot("b", [])', ["a"])] };
  assert.deepEqual(figureProblems(dropped), ["cell 1: 2 plot() call(s) but 1 plotly output(s)"]);

  const renamed: Notebook = { cells: [code('plot("a", [])', ["z"])] };
  assert.match(figureProblems(renamed)[0], /plot\("a"\) produced a figure named "z"/);

  const twice: Notebook = { cells: [code('plot("a", [])', ["a"]), code('plot("a", [])', ["a"])] };
  assert.deepEqual(figureProblems(twice), ['cell 2: figure name "a" used twice']);
});

/** A real w x h PNG as base64. */
function png(w = 2, h = 1): string {
  return encode({ width: w, height: h, data: new Uint8Array(w * h * 3), channels: 3, depth: 8 })
    .toBase64();
}

function pictures(n: number, tags?: string[], payload = png()): NotebookCell {
  return {
    cell_type: "code",
    source: "x",
    metadata: tags ? { tags } : {},
    outputs: Array.from({ length: n }, () => ({
      output_type: "display_data",
      data: { [PNG_MIME]: payload, "text/plain": "[image]" },
    })),
  };
}

Deno.test("declaredImages: the images:N tag, none, or what is wrong with it", () => {
  assert.equal(declaredImages(pictures(0)), 0);
  assert.equal(declaredImages(pictures(0, ["output", "images:3"])), 3);
  assert.match(String(declaredImages(pictures(0, ["images:0"]))), /is not images:N/);
  assert.match(String(declaredImages(pictures(0, ["images"]))), /is not images:N/);
  assert.match(String(declaredImages(pictures(0, ["images:1", "images:2"]))), /more than one/);
});

Deno.test("pngProblem: a PNG passes; other payloads say why not", () => {
  assert.equal(pngProblem(png(3, 2)), undefined);
  assert.equal(pngProblem(42), "not a base64 string");
  assert.equal(pngProblem("@@@"), "not valid base64");
  assert.equal(pngProblem(btoa("GIF89a but long enough to be looked at")), "no PNG signature");
  const bytes = Uint8Array.fromBase64(png());
  new DataView(bytes.buffer).setUint32(16, 0); // width 0
  assert.match(pngProblem(bytes.toBase64())!, /0 pixels/);
});

Deno.test("imageProblems: every tagged cell holds its pictures, untagged cells none", () => {
  const ok: Notebook = {
    cells: [{ cell_type: "markdown", source: "" }, pictures(1, ["images:1"]), pictures(0)],
  };
  assert.deepEqual(imageProblems(ok), []);
  assert.deepEqual(imageProblems({ cells: [pictures(0, ["images:2"])] }), [
    "cell 1: tagged images:2 but 0 image/png output(s)",
  ]);
  assert.deepEqual(imageProblems({ cells: [code("a"), pictures(1)] }), [
    "cell 2: 1 image/png output(s) but no images:N tag",
  ]);
  assert.deepEqual(
    imageProblems({ cells: [pictures(1, ["images:1"], btoa("not a png at all!!"))] }),
    [
      "cell 1: image/png output 1 is broken: no PNG signature",
    ],
  );
  assert.deepEqual(imageProblems({ cells: [pictures(0, ["images:x"])] }), [
    'cell 1: tag "images:x" is not images:N (N >= 1)',
  ]);
});

Deno.test("notebookModule: relative imports become absolute, lines map back to cells", () => {
  const nb: Notebook = {
    cells: [
      code('import { LPIPS } from "../mod.ts";\nimport * as tf from "@tensorflow/tfjs-core";'),
      { cell_type: "markdown", source: "text" },
      code('const { plot } = await import("./nb.ts");\nplot("a", [])'),
    ],
  };
  const module = notebookModule(nb, "/work/proj/notebooks");
  assert.match(module, /from "file:\/\/\/work\/proj\/mod\.ts"/);
  assert.match(module, /import\("file:\/\/\/work\/proj\/notebooks\/nb\.ts"\)/);
  assert.match(module, /from "@tensorflow\/tfjs-core"/);
  const lines = module.split("\n");
  const map = moduleLineMap(nb);
  const at = lines.findIndex((l) => l.startsWith('plot("a"'));
  assert.deepEqual(map[at], [2, 2]);
  assert.deepEqual(map[lines.findIndex((l) => l.includes("tfjs-core"))], [1, 2]);
});

Deno.test("typeErrorLines: one line per deno check error, naming notebook, cell and line", () => {
  const nb: Notebook = { cells: [code("const a = 1;"), code('const x: number = "a";')] };
  const stderr = [
    "TS2322 [ERROR]: Type 'string' is not assignable to type 'number'.",
    'const x: number = "a";',
    "      ^",
    "    at file:///tmp/nb_check_1/02_demo.ts:5:7",
    "",
    "error: Type checking failed.",
  ].join("\n");
  const maps = new Map([["02_demo.ts", moduleLineMap(nb)]]);
  assert.deepEqual(typeErrorLines(stderr, "/tmp/nb_check_1", maps), [
    "02_demo.ipynb cell 2 line 1: TS2322 Type 'string' is not assignable to type 'number'.",
  ]);
});

Deno.test("selectNotebooks: NN_*.ipynb in order, filtered by prefix", () => {
  const files = [
    "06_performance.ipynb",
    "nb.ts",
    "01_quickstart.ipynb",
    "x.ipynb",
    "02_2afc.ipynb",
  ];
  assert.deepEqual(selectNotebooks(files, []), [
    "01_quickstart.ipynb",
    "02_2afc.ipynb",
    "06_performance.ipynb",
  ]);
  assert.deepEqual(selectNotebooks(files, ["06", "01"]), [
    "01_quickstart.ipynb",
    "06_performance.ipynb",
  ]);
});

/** The module specifiers a cell imports (static and dynamic, string literals only). */
function cellImports(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/\b(?:from|import)\s*\(?\s*(["'])([^"']+)\1/g)) found.push(m[2]);
  return found;
}

Deno.test("the committed notebooks import only the package's exports, npm, node: and ./_env.ts", () => {
  const exports = new Set(
    Object.keys(CONFIG.exports).map((k) =>
      k === "." ? CONFIG.name : `${CONFIG.name}/${k.slice(2)}`
    ),
  );
  const npm = new Set(Object.keys(CONFIG.imports));
  let packageImports = 0;
  for (const name of sourceNotebooks()) {
    readNotebook(join(HERE, name)).cells.forEach((cell, i) => {
      if (cell.cell_type !== "code") return;
      for (const spec of cellImports(cellSource(cell))) {
        const ok = exports.has(spec) || npm.has(spec) || spec.startsWith("node:") ||
          spec === "./_env.ts";
        assert.ok(ok, `${name} cell ${i + 1} imports "${spec}", not a public export`);
        if (exports.has(spec)) packageImports++;
      }
    });
  }
  assert.ok(packageImports >= sourceNotebooks().length, "each notebook imports the package");
  // The check can fail: the old relative imports are caught.
  assert.deepEqual(cellImports('import { x } from "../mod.ts";\nawait import("./nb.ts");'), [
    "../mod.ts",
    "./nb.ts",
  ]);
});

Deno.test("the committed notebooks use the deno kernel, hold no outputs and name figures uniquely", () => {
  const names = sourceNotebooks();
  assert.ok(names.length > 0, `no NN_*.ipynb in ${HERE}`);
  const seen = new Map<string, string>();
  for (const name of names) {
    const nb = readNotebook(join(HERE, name)) as Notebook & {
      metadata?: { kernelspec?: { name?: string } };
    };
    assert.equal(nb.metadata?.kernelspec?.name, "deno", `${name}: kernel`);
    nb.cells.forEach((cell, i) => {
      assert.equal(cell.outputs?.length ?? 0, 0, `${name} cell ${i + 1} has outputs`);
      if (cell.cell_type !== "code") return;
      const images = declaredImages(cell);
      assert.ok(typeof images === "number", `${name} cell ${i + 1}: ${images}`);
      for (const fig of plotCalls(cellSource(cell))) {
        assert.ok(/^[\w.-]+$/.test(fig), `${name}: plot("${fig}") needs a literal file name`);
        assert.ok(!seen.has(fig), `figure "${fig}" in ${name} and ${seen.get(fig)}`);
        seen.set(fig, name);
      }
    });
  }
});

const executed = (() => {
  try {
    return selectNotebooks([...Deno.readDirSync(join(HERE, "out"))].map((e) => e.name), []);
  } catch {
    return [];
  }
})();

Deno.test({
  name: executed.length
    ? "executed notebooks (notebooks/out): one plotly output per plot() call, tagged pictures"
    : "executed notebooks (notebooks/out): one plotly output per plot() call, tagged pictures " +
      "[skipped: run `deno task notebooks` first]",
  ignore: executed.length === 0,
  fn: () => {
    for (const name of executed) {
      const nb = readNotebook(join(HERE, "out", name));
      assert.deepEqual(figureProblems(nb), [], name);
      const calls = nb.cells.filter((c) => c.cell_type === "code")
        .reduce((n, c) => n + plotCalls(cellSource(c)).length, 0);
      assert.equal(plotlyFigures(nb).length, calls, `${name}: plotly outputs`);
      assert.deepEqual(imageProblems(nb), [], `${name}: pictures`);
    }
  },
});

/**
 * `deno fmt --check` is unreliable on .ipynb files in Deno 2.9.6 (it reports an empty diff for a
 * notebook that `deno fmt` leaves byte for byte unchanged), so deno.json excludes the notebooks
 * from `fmt` and this test checks them instead: formatting a copy must not change it.
 */
async function formatted(path: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "nbfmt_" });
  try {
    const copy = join(dir, "nb.ipynb");
    await Deno.copyFile(path, copy);
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--no-config", "--line-width=100", copy],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
    return await Deno.readTextFile(copy);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the committed notebooks are as deno fmt writes them (line width 100)", async () => {
  for (const name of sourceNotebooks()) {
    const path = join(HERE, name);
    assert.equal(await formatted(path), await Deno.readTextFile(path), `${name}: run deno fmt`);
  }
  // The check can fail: an untidy cell is rewritten.
  const dir = await Deno.makeTempDir({ prefix: "nbfmt_untidy_" });
  try {
    const nb = readNotebook(join(HERE, sourceNotebooks()[0]));
    nb.cells = [code("const  x=1 ;x")];
    const untidy = join(dir, "untidy.ipynb");
    await Deno.writeTextFile(untidy, JSON.stringify(nb, null, 1) + "\n");
    assert.notEqual(await formatted(untidy), await Deno.readTextFile(untidy));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
