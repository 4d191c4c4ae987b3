/**
 * Reading the pictures of executed notebooks: a code cell that shows pictures says how many with
 * the tag `images:N`, and every such cell must hold exactly N `image/png` outputs, each a real PNG
 * (the `image/png` counterpart of the `plot(...)` check in `_plotly_outputs.ts`). Used by
 * `deno task notebooks` and notebooks_test.ts.
 *
 * @module
 */
import type { Notebook, NotebookCell } from "./_plotly_outputs.ts";

/** The MIME type of a picture in a notebook output (base64 PNG). */
export const PNG_MIME = "image/png";

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * How many `image/png` outputs a cell declares with its `images:N` tag: 0 without one; a string
 * saying what is wrong for a malformed tag or more than one.
 *
 * @example
 * ```ts
 * declaredImages({ cell_type: "code", source: "", metadata: { tags: ["images:2"] } }); // 2
 * ```
 */
export function declaredImages(cell: NotebookCell): number | string {
  const tags = (cell.metadata?.tags as unknown[] | undefined) ?? [];
  const mine = tags.filter((t): t is string => typeof t === "string" && t.startsWith("images"));
  if (mine.length === 0) return 0;
  if (mine.length > 1) return `more than one images tag (${mine.join(", ")})`;
  const m = /^images:([1-9]\d*)$/.exec(mine[0]);
  return m ? Number(m[1]) : `tag "${mine[0]}" is not images:N (N >= 1)`;
}

/** Why a base64 `image/png` payload is not a PNG picture, or undefined when it is one. */
export function pngProblem(payload: unknown): string | undefined {
  if (typeof payload !== "string" || payload === "") return "not a base64 string";
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.fromBase64(payload.replace(/\s+/g, ""));
  } catch {
    return "not valid base64";
  }
  if (bytes.length < 24 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) {
    return "no PNG signature";
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ihdr = String.fromCharCode(...bytes.subarray(12, 16));
  if (ihdr !== "IHDR" || view.getUint32(16) === 0 || view.getUint32(20) === 0) {
    return "no picture in it (IHDR missing or 0 pixels)";
  }
  return undefined;
}

/**
 * What is wrong with an executed notebook's pictures, one line each (empty when all is well): a
 * malformed `images:N` tag, a cell whose number of `image/png` outputs differs from its tag
 * (untagged cells must have none), and a payload that is not a PNG.
 *
 * @example
 * ```ts
 * imageProblems({ cells: [] }); // []
 * ```
 */
export function imageProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  nb.cells.filter((c) => c.cell_type === "code").forEach((cell, i) => {
    const declared = declaredImages(cell);
    if (typeof declared === "string") {
      problems.push(`cell ${i + 1}: ${declared}`);
      return;
    }
    const pngs = (cell.outputs ?? []).filter((o) => o.data?.[PNG_MIME] !== undefined);
    if (pngs.length !== declared) {
      problems.push(
        declared === 0
          ? `cell ${i + 1}: ${pngs.length} image/png output(s) but no images:N tag`
          : `cell ${i + 1}: tagged images:${declared} but ${pngs.length} image/png output(s)`,
      );
    }
    pngs.forEach((o, k) => {
      const why = pngProblem(o.data![PNG_MIME]);
      if (why) problems.push(`cell ${i + 1}: image/png output ${k + 1} is broken: ${why}`);
    });
  });
  return problems;
}

/** How many `image/png` outputs the notebook holds. */
export function pngOutputCount(nb: Notebook): number {
  return nb.cells.reduce(
    (n, c) => n + (c.outputs ?? []).filter((o) => o.data?.[PNG_MIME] !== undefined).length,
    0,
  );
}
