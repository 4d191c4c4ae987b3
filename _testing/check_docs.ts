/**
 * The documentation checks of the package's exports (the `exports` of deno.json), from which JSR
 * builds the package's pages:
 *
 * - `lint` (`deno task doc:lint`, part of `deno task check`): `deno doc --lint` on every export
 *   file must find nothing: every public symbol and member documented, no public type referring
 *   to a private one.
 * - `examples` (`deno task test:doc`): the code examples of every file the exports reach run as
 *   tests (`deno test --doc --parallel`; examples that write files give them names of their own),
 *   with the network denied, in a scratch folder that holds what they read, taken from the test
 *   data: the paper's example patches `ex_ref.png`, `ex_p0.png`, `ex_p1.png`, and `dataset`, the
 *   BAPPS-format fixture (`bapps-mini`), with `LPIPS_WEIGHTS_DIR` set to its weights and an empty
 *   user cache. Examples marked
 *   ```` ```ts ignore ```` are not run; each says why.
 *
 * @module
 */
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the folder of deno.json). */
export const ROOT: string = dirname(dirname(fileURLToPath(import.meta.url)));

/** The export targets of a deno.json (`"exports"` as a string or a map), relative, sorted. */
export function exportFiles(denoJson: string): string[] {
  const exports = (JSON.parse(denoJson) as { exports?: unknown }).exports;
  const targets = typeof exports === "string"
    ? [exports]
    : exports && typeof exports === "object"
    ? Object.values(exports)
    : [];
  if (targets.length === 0 || targets.some((t) => typeof t !== "string")) {
    throw new Error('deno.json: "exports" must be a file name or a map of names to files');
  }
  return [...new Set((targets as string[]).map((t) => t.replace(/^\.\//, "")))].sort();
}

/** The local modules (absolute paths under `root`) that `entries` import, themselves included. */
export async function reachableFiles(root: string, entries: readonly string[]): Promise<string[]> {
  const files = new Set<string>();
  for (const entry of entries) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: root,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
      throw new Error(`deno info ${entry}: ${err}`);
    }
    const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as DenoInfo;
    for (const { specifier } of graph.modules) {
      if (!specifier.startsWith("file://")) continue;
      const path = fileURLToPath(specifier);
      if (path.startsWith(resolve(root) + "/")) files.add(path);
    }
  }
  return [...files].sort();
}

/**
 * `deno test --doc` arguments that run the examples of exactly `files`: the root folder, with
 * everything else in it ignored (tests and Markdown files included). A file named on the command
 * line would also run as a test module of its own, loading its whole import graph for no test,
 * and Deno 2.9 applies `--ignore` only below the first folder named; hence one folder, the root.
 */
export async function docTestTargets(root: string, files: readonly string[]): Promise<string[]> {
  const base = resolve(root);
  const wanted = new Set(files);
  const tops = new Set(files.map((f) => relative(base, f).split(sep)[0]));
  const ignore: string[] = [];
  for await (const e of Deno.readDir(base)) {
    const path = join(base, e.name);
    if (!tops.has(e.name)) ignore.push(path);
    else if (e.isDirectory) ignore.push(...(await walkFiles(path)).filter((f) => !wanted.has(f)));
  }
  return [`--ignore=${ignore.sort().join(",")}`, base];
}

/** Every file below `dir`, as absolute paths. */
async function walkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) out.push(...await walkFiles(path));
    else out.push(path);
  }
  return out;
}

/** The part of `deno info --json`'s output read here. */
interface DenoInfo {
  modules: { specifier: string }[];
}

/** Deno's own cache folder (`deno info`'s `denoDir`), which moves with `XDG_CACHE_HOME`. */
async function denoDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("deno info --json failed");
  return (JSON.parse(new TextDecoder().decode(out.stdout)) as { denoDir: string }).denoDir;
}

/** Runs `deno doc --lint` on the export files of `root`; its diagnostics go to stderr. */
export async function lintDocs(root: string): Promise<number> {
  const files = exportFiles(await Deno.readTextFile(join(root, "deno.json")));
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", ...files],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "null", // the documentation itself, printed when the lint passes
    stderr: "inherit",
  }).output();
  if (code === 0) console.log(`doc:lint: ${files.join(" ")}: no problems`);
  return code;
}

/** The test-data files the examples read, by their name in the scratch folder. */
const EXAMPLE_INPUTS = {
  "ex_ref.png": "images/ex_ref.png",
  "ex_p0.png": "images/ex_p0.png",
  "ex_p1.png": "images/ex_p1.png",
  dataset: "bapps-mini",
} as const;

/** Runs the examples of every file the exports reach, in a scratch folder (see the module doc). */
export async function runExamples(root: string, testData: string | undefined): Promise<number> {
  if (!testData) {
    throw new Error(
      "doc examples: no test data (set LPIPS_TEST_DATA): they read its images, weights and BAPPS fixture",
    );
  }
  const data = resolve(testData);
  const entries = exportFiles(await Deno.readTextFile(join(root, "deno.json")));
  const files = await reachableFiles(root, entries);
  const scratch = await Deno.makeTempDir({ prefix: "lpips-doc-examples-" });
  try {
    for (const [name, from] of Object.entries(EXAMPLE_INPUTS)) {
      const source = join(data, from);
      const info = await Deno.stat(source).catch(() => {
        throw new Error(`doc examples: the test data ${data} has no ${from}`);
      });
      if (info.isDirectory) await Deno.symlink(source, join(scratch, name));
      else await Deno.copyFile(source, join(scratch, name));
    }
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: [
        "test",
        "--doc",
        "--allow-all",
        "--deny-net",
        "--parallel",
        `--config=${join(root, "deno.json")}`,
        ...(await docTestTargets(root, files)),
      ],
      cwd: scratch,
      env: {
        NO_COLOR: "1",
        LPIPS_WEIGHTS_DIR: join(data, "weights"),
        // An empty LPIPS cache, so that no example passes on files left there by earlier runs;
        // Deno keeps its own cache (it would otherwise follow XDG_CACHE_HOME and download again).
        XDG_CACHE_HOME: join(scratch, "cache"),
        DENO_DIR: await denoDir(),
      },
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    return code;
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

if (import.meta.main) {
  const mode = Deno.args[0];
  try {
    if (mode === "lint") Deno.exit(await lintDocs(ROOT));
    if (mode === "examples") {
      // Read only here: the lint needs no test data (nor the permission to look for it).
      const { TEST_DATA } = await import("../_internal/test_data.ts");
      Deno.exit(await runExamples(ROOT, TEST_DATA));
    }
    throw new Error(`usage: check_docs.ts lint|examples (got ${mode ?? "nothing"})`);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    Deno.exit(1);
  }
}
