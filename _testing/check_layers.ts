/**
 * Enforces the import layering of the repository, in the spirit of the Deno standard library's
 * circular-dependency check. Run it as `deno run --allow-read _testing/check_layers.ts [root]`.
 *
 * The layers are the top-level folders, listed bottom to top in {@linkcode LAYERS}: `_internal`,
 * `bappsloader`, `baselines` and `lpips` (one rank), `metrics`, `eval`, `cli` and `notebook` (one
 * rank), then the files at the root.
 * `bench`, `notebooks` and `_testing` sit on top. Dot-folders and the skipped folders are not
 * scanned; any other top-level folder holding `.ts` files is a violation until it gets a layer.
 *
 * Every relative import in every `.ts` file (tests included) must obey three rules:
 *
 * 1. A file may import only from its own top-level folder or from a folder of a strictly lower
 *    rank (so `baselines` and `lpips` may not import each other). Top folders may import any
 *    layer.
 * 2. No cycles between directories: in the graph of directories (subfolders are their own
 *    nodes, the root is `.`) with an edge wherever a file of one imports a file of another, every
 *    strongly connected component of more than one directory is reported with one cycle.
 * 3. A private file `_name.ts` in directory `D` may be imported only from `D` and its
 *    subdirectories, whatever the importer's layer.
 *
 * @module
 */
import { join, posix } from "node:path";

/** The shape of {@linkcode LAYERS}. */
export interface Layers {
  /** Library layers, bottom (rank 0) to top; `"."` stands for the files at the repository root. */
  readonly ranks: readonly (readonly string[])[];
  /** Folders above every layer: they may import anything (but not other folders' private files). */
  readonly top: readonly string[];
  /** Top-level folders that are not scanned at all (dot-folders are always skipped too). */
  readonly skip: readonly string[];
}

/** The layering of the repository: the single place to change when a folder is added. */
export const LAYERS: Layers = {
  ranks: [
    ["_internal"],
    ["bappsloader"],
    ["baselines", "lpips"],
    ["metrics"],
    ["eval"],
    ["cli", "notebook"],
    ["."],
  ],
  top: ["bench", "notebooks", "_testing"],
  skip: ["docs", "node_modules"],
};

type Layer =
  | { kind: "rank"; rank: number }
  | { kind: "top" }
  | { kind: "skip" }
  | { kind: "unknown" };

function layerOf(folder: string): Layer {
  const rank = LAYERS.ranks.findIndex((names) => names.includes(folder));
  if (rank >= 0) return { kind: "rank", rank };
  if (LAYERS.top.includes(folder)) return { kind: "top" };
  if (folder.startsWith(".") && folder !== "." || LAYERS.skip.includes(folder)) {
    return { kind: "skip" };
  }
  return { kind: "unknown" };
}

/** The top-level folder of a root-relative posix path, or `"."` for a file at the root. */
function topFolder(rel: string): string {
  const slash = rel.indexOf("/");
  return slash < 0 ? "." : rel.slice(0, slash);
}

function label(folder: string): string {
  return folder === "." ? "root files" : folder;
}

function allowedFor(folder: string, rank: number): string {
  const lower = LAYERS.ranks.slice(0, rank).flat();
  return lower.length === 0
    ? `${label(folder)} (layer ${rank}) may import nothing outside ${folder}`
    : `${label(folder)} (layer ${rank}) may import only ${lower.join(", ")}`;
}

// ---------------------------------------------------------------------------------------------
// Scanning: a small tokenizer that drops comments and keeps string literals whole.

interface Token {
  kind: "ident" | "string" | "template" | "number" | "regex" | "punct";
  value: string;
}

/** Keywords after which a `/` starts a regular expression rather than a division. */
const BEFORE_REGEX = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const n = src.length;
  /** For each open `${` of a template literal, the brace depth just outside it. */
  const templates: number[] = [];
  let depth = 0;
  let i = 0;

  const regexAllowed = (): boolean => {
    const prev = tokens.at(-1);
    if (prev === undefined) return true;
    if (prev.kind === "ident") return BEFORE_REGEX.has(prev.value);
    if (prev.kind !== "punct") return false;
    return prev.value !== ")" && prev.value !== "]" && prev.value !== "}";
  };

  /** Reads template text from `start` (just past "`" or "}"); returns the index after it. */
  const readTemplate = (start: number, whole: boolean): number => {
    let j = start;
    while (j < n) {
      const c = src[j];
      if (c === "\\") {
        j += 2;
      } else if (c === "`") {
        tokens.push({ kind: whole ? "string" : "template", value: src.slice(start, j) });
        return j + 1;
      } else if (c === "$" && src[j + 1] === "{") {
        tokens.push({ kind: "template", value: src.slice(start, j) });
        templates.push(depth);
        return j + 2;
      } else {
        j++;
      }
    }
    tokens.push({ kind: "template", value: src.slice(start) });
    return n;
  };

  while (i < n) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "/" && src[i + 1] === "/") {
      const end = src.indexOf("\n", i);
      i = end < 0 ? n : end;
    } else if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== "\n") j += src[j] === "\\" ? 2 : 1;
      tokens.push({ kind: "string", value: src.slice(i + 1, Math.min(j, n)) });
      i = j + 1;
    } else if (c === "`") {
      i = readTemplate(i + 1, true);
    } else if (c === "}" && templates.length > 0 && templates.at(-1) === depth) {
      templates.pop();
      i = readTemplate(i + 1, false);
    } else if (/[A-Za-z_$\u0080-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$\u0080-\uffff]/.test(src[j])) j++;
      tokens.push({ kind: "ident", value: src.slice(i, j) });
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(src[j])) j++;
      tokens.push({ kind: "number", value: src.slice(i, j) });
      i = j;
    } else if (c === "/" && regexAllowed()) {
      let j = i + 1;
      let inClass = false;
      while (j < n && src[j] !== "\n") {
        const d = src[j];
        if (d === "\\") j++;
        else if (d === "[") inClass = true;
        else if (d === "]") inClass = false;
        else if (d === "/" && !inClass) break;
        j++;
      }
      j++;
      while (j < n && /[A-Za-z]/.test(src[j])) j++;
      tokens.push({ kind: "regex", value: src.slice(i, j) });
      i = j;
    } else {
      if (c === "{") depth++;
      else if (c === "}") depth--;
      tokens.push({ kind: "punct", value: c });
      i++;
    }
  }
  return tokens;
}

const isPunct = (t: Token | undefined, value: string): boolean =>
  t?.kind === "punct" && t.value === value;
const isIdent = (t: Token | undefined, value: string): boolean =>
  t?.kind === "ident" && t.value === value;

/**
 * The module specifiers of a TypeScript source: static imports and re-exports (type-only ones
 * too) and dynamic `import()` of a string literal. Comments are ignored, and so are strings that
 * merely look like imports.
 */
export function importSpecifiers(src: string): string[] {
  const tokens = tokenize(src);
  const found: string[] = [];
  /** The specifier of `from "x"` at `j`, if there is one. */
  const fromAt = (j: number): string | undefined =>
    isIdent(tokens[j], "from") && tokens[j + 1]?.kind === "string"
      ? tokens[j + 1].value
      : undefined;

  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind !== "ident" || isPunct(tokens[k - 1], ".")) continue;
    if (t.value === "import") {
      const next = tokens[k + 1];
      if (isPunct(next, "(")) {
        const arg = tokens[k + 2];
        const after = tokens[k + 3];
        if (arg?.kind === "string" && (isPunct(after, ")") || isPunct(after, ","))) {
          found.push(arg.value);
        }
      } else if (next?.kind === "string") {
        found.push(next.value);
      } else {
        // import [type] Default, { a as b }, * as ns from "x"
        let braces = 0;
        for (let j = k + 1; j < tokens.length; j++) {
          const spec = fromAt(j);
          if (spec !== undefined) {
            found.push(spec);
            break;
          }
          const tok = tokens[j];
          if (isPunct(tok, "{")) braces++;
          else if (isPunct(tok, "}")) braces--;
          const clause = tok.kind === "ident" || (tok.kind === "string" && braces > 0) ||
            (tok.kind === "punct" && ",*{}".includes(tok.value));
          if (!clause || braces < 0) break;
        }
      }
    } else if (t.value === "export") {
      let j = k + 1;
      if (isIdent(tokens[j], "type")) j++;
      if (isPunct(tokens[j], "*")) {
        j++;
        if (isIdent(tokens[j], "as")) j += 2;
      } else if (isPunct(tokens[j], "{")) {
        while (j < tokens.length && !isPunct(tokens[j], "}")) j++;
        j++;
      } else {
        continue;
      }
      const spec = fromAt(j);
      if (spec !== undefined) found.push(spec);
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Checking.

interface Import {
  /** Root-relative posix path of the importing file. */
  from: string;
  /** Root-relative, normalised posix path of the imported file. */
  to: string;
}

async function collectFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    const entries: Deno.DirEntry[] = [];
    for await (const entry of Deno.readDir(rel === "" ? root : join(root, rel))) {
      entries.push(entry);
    }
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const entry of entries) {
      const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory) {
        const skipped = entry.name.startsWith(".") || entry.name === "node_modules" ||
          (rel === "" && layerOf(entry.name).kind === "skip");
        if (!skipped) await walk(path);
      } else if (entry.isFile && entry.name.endsWith(".ts")) {
        files.push(path);
      }
    }
  };
  await walk("");
  return files;
}

function isPrivate(path: string): boolean {
  return /^_.+\.[cm]?[jt]sx?$/.test(posix.basename(path));
}

function layerViolation(imp: Import): string | undefined {
  const a = topFolder(imp.from);
  const b = topFolder(imp.to);
  const la = layerOf(a);
  if (a === b || la.kind !== "rank") return undefined;
  const lb = layerOf(b);
  if (lb.kind === "rank" && lb.rank < la.rank) return undefined;
  const why = lb.kind === "skip" || lb.kind === "unknown"
    ? `${b} has no layer, so ${label(a)} (layer ${la.rank}) may not import it`
    : allowedFor(a, la.rank);
  return `${imp.from} imports ${imp.to}: ${why}`;
}

function privateViolation(imp: Import): string | undefined {
  if (!isPrivate(imp.to)) return undefined;
  const owner = posix.dirname(imp.to);
  const dir = posix.dirname(imp.from);
  if (owner === "." || dir === owner || dir.startsWith(`${owner}/`)) return undefined;
  return `${imp.from} imports ${imp.to}, which is private to ${owner}/`;
}

/** Strongly connected components (Tarjan) of more than one node, each sorted. */
function components(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** A shortest cycle through the first node of `scc`, within `scc`, closed (first == last). */
function cycleIn(scc: string[], graph: Map<string, string[]>): string[] {
  const members = new Set(scc);
  const start = scc[0];
  const parent = new Map<string, string>();
  const queue = [start];
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q];
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path: string[] = [];
        for (let u: string | undefined = v; u !== undefined && u !== start; u = parent.get(u)) {
          path.push(u);
        }
        return [start, ...path.reverse(), start];
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start]; // unreachable for a true component
}

function cycleViolations(imports: Import[]): string[] {
  const graph = new Map<string, Set<string>>();
  const examples = new Map<string, string>();
  for (const imp of imports) {
    const d1 = posix.dirname(imp.from);
    const d2 = posix.dirname(imp.to);
    if (d1 === d2) continue;
    if (!graph.has(d1)) graph.set(d1, new Set());
    graph.get(d1)!.add(d2);
    const key = `${d1}\0${d2}`;
    const example = `${imp.from} imports ${imp.to}`;
    const prev = examples.get(key);
    if (prev === undefined || example < prev) examples.set(key, example);
  }
  const sorted = new Map([...graph].map(([v, ws]) => [v, [...ws].sort()]));
  return components(sorted).map((scc) => {
    const cycle = cycleIn(scc, sorted);
    const edges = cycle.slice(1).map((to, i) => examples.get(`${cycle[i]}\0${to}`)!);
    const rest = scc.length > cycle.length - 1 ? ` [component: ${scc.join(", ")}]` : "";
    return `cycle: ${cycle.join(" -> ")} (${edges.join("; ")})${rest}`;
  });
}

/** What {@linkcode scan} found: the violations and how much was checked. */
export interface LayerReport {
  /** The violation messages, sorted and deduplicated; empty when the tree is clean. */
  violations: string[];
  /** How many `.ts` files were scanned. */
  files: number;
  /** How many relative imports were checked. */
  imports: number;
}

/** Checks the tree under `root` and reports the violations with counts. */
export async function scan(root: string): Promise<LayerReport> {
  const files = await collectFiles(root);
  const messages: string[] = [];
  const imports: Import[] = [];
  const unknown = new Set<string>();

  for (const file of files) {
    const folder = topFolder(file);
    if (layerOf(folder).kind === "unknown") unknown.add(folder);
    const src = await Deno.readTextFile(join(root, file));
    for (const spec of importSpecifiers(src)) {
      if (!spec.startsWith("./") && !spec.startsWith("../")) continue;
      const to = posix.normalize(posix.join(posix.dirname(file), spec));
      if (to === ".." || to.startsWith("../")) {
        messages.push(`${file} imports ${spec}, which is outside the repository`);
        continue;
      }
      imports.push({ from: file, to });
    }
  }
  for (const folder of unknown) {
    messages.push(`folder ${folder} has no layer: add it to LAYERS in _testing/check_layers.ts`);
  }
  for (const imp of imports) {
    const layer = layerViolation(imp);
    if (layer !== undefined) messages.push(layer);
    const priv = privateViolation(imp);
    if (priv !== undefined) messages.push(priv);
  }
  messages.push(...cycleViolations(imports));

  const violations = [...new Set(messages)].sort();
  return { violations, files: files.length, imports: imports.length };
}

/** The layering violations of the tree under `root`, sorted and deduplicated (empty if clean). */
export async function checkLayers(root: string): Promise<string[]> {
  return (await scan(root)).violations;
}

if (import.meta.main) {
  const root = Deno.args[0] ?? ".";
  const report = await scan(root);
  const counts = `${report.files} files, ${report.imports} imports checked`;
  if (report.violations.length > 0) {
    for (const v of report.violations) console.error(v);
    console.error(`layers: ${report.violations.length} violations (${counts})`);
    Deno.exit(1);
  }
  console.log(`layers: ${counts}, no violations`);
}
