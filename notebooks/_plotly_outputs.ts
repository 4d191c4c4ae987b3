/**
 * Reading executed notebooks: the plotly figures they hold, and the check that every `plot(...)`
 * call in a code cell produced one plotly output in that cell (the "a test reads the
 * executed notebooks and counts the plotly outputs"). Used by `deno task notebooks`,
 * `deno task figures` and notebooks_test.ts.
 *
 * @module
 */

import { PLOTLY_MIME } from "../notebook/plot.ts";

export { PLOTLY_MIME };

/** The parts of an .ipynb file read here. */
export interface Notebook {
  cells: NotebookCell[];
}

/** One cell of an .ipynb file. */
export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  outputs?: { output_type: string; data?: Record<string, unknown> }[];
  metadata?: Record<string, unknown>;
}

/** A plotly figure found in an output: its name (`layout.meta.figure`) and its JSON. */
export interface FoundFigure {
  name: string;
  /** 1-based number of the code cell. */
  cell: number;
  figure: { data: unknown[]; layout: Record<string, unknown> };
}

/** A cell's source as one string (.ipynb stores it as a string or a list of lines). */
export function cellSource(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/**
 * The figure names of the `plot(...)` calls in a cell's code (comments skipped). A call whose
 * name is not a string literal counts as `"?"`.
 *
 * @example
 * ```ts
 * plotCalls('plot("a", []);\n// plot("b")'); // ["a"]
 * ```
 */
export function plotCalls(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  const names: string[] = [];
  for (const m of code.matchAll(/(?<![\w.$])plot\(\s*(?:(["'])([^"'`]*)\1|(`[^`]*`)|)/g)) {
    names.push(m[2] ?? "?");
  }
  return names;
}

/** The plotly figures in a notebook's outputs, in order. */
export function plotlyFigures(nb: Notebook): FoundFigure[] {
  const found: FoundFigure[] = [];
  codeCells(nb).forEach((cell, i) => {
    for (const out of cell.outputs ?? []) {
      const fig = out.data?.[PLOTLY_MIME] as FoundFigure["figure"] | undefined;
      if (!fig) continue;
      const meta = fig.layout?.meta as { figure?: unknown } | undefined;
      const name = typeof meta?.figure === "string" ? meta.figure : "";
      found.push({ name, cell: i + 1, figure: fig });
    }
  });
  return found;
}

/**
 * What is wrong with an executed notebook's figures, one line each (empty when all is well):
 * a code cell whose plotly outputs do not match its `plot(...)` calls in number or name, a figure
 * without a name, and a name used twice.
 *
 * @example
 * ```ts
 * figureProblems({ cells: [] }); // []
 * ```
 */
export function figureProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  const figures = plotlyFigures(nb);
  codeCells(nb).forEach((cell, i) => {
    const calls = plotCalls(cellSource(cell));
    const got = figures.filter((f) => f.cell === i + 1).map((f) => f.name);
    if (calls.length !== got.length) {
      problems.push(
        `cell ${i + 1}: ${calls.length} plot() call(s) but ${got.length} plotly output(s)`,
      );
      return;
    }
    calls.forEach((name, k) => {
      if (name !== "?" && name !== got[k]) {
        problems.push(`cell ${i + 1}: plot("${name}") produced a figure named "${got[k]}"`);
      }
    });
  });
  const seen = new Set<string>();
  for (const f of figures) {
    if (!f.name) problems.push(`cell ${f.cell}: a plotly figure without layout.meta.figure`);
    else if (seen.has(f.name)) problems.push(`cell ${f.cell}: figure name "${f.name}" used twice`);
    seen.add(f.name);
  }
  return problems;
}

function codeCells(nb: Notebook): NotebookCell[] {
  return nb.cells.filter((c) => c.cell_type === "code");
}
