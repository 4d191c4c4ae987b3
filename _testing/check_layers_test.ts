/**
 * Tests of the layering check: small trees in temporary folders, one per kind of violation, and
 * the real repository, which must be clean.
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkLayers, importSpecifiers } from "./check_layers.ts";

/** Writes `files` (root-relative path -> contents) under a fresh temporary folder and checks it. */
async function check(files: Record<string, string>): Promise<string[]> {
  const root = await Deno.makeTempDir({ prefix: "check_layers_" });
  try {
    for (const [path, text] of Object.entries(files)) {
      await Deno.mkdir(dirname(join(root, path)), { recursive: true });
      await Deno.writeTextFile(join(root, path), text);
    }
    return await checkLayers(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** A layered tree with no violation; each test adds or replaces files. */
const CLEAN: Record<string, string> = {
  "_internal/atomic.ts": "export const atomic = 1;\n",
  "bappsloader/image.ts": 'import { atomic } from "../_internal/atomic.ts";\nexport { atomic };\n',
  "bappsloader/image_test.ts": 'import { atomic } from "./image.ts";\nconsole.log(atomic);\n',
  "lpips/lpips.ts":
    'import type { atomic } from "../bappsloader/image.ts";\nexport type A = atomic;\n',
  "lpips/_private.ts": "export const secret = 2;\n",
  "lpips/uses_private.ts": 'export { secret } from "./_private.ts";\n',
  "lpips/train/trainer.ts": 'import { secret } from "../_private.ts";\nexport { secret };\n',
  // Leaves: files in directories that import nothing, so that an import of them closes no cycle.
  "lpips/pth/pth.ts": "export const pth = 1;\n",
  "eval/metrics/table.ts": "export const table = 1;\n",
  "_testing/fixtures/data.ts": "export const data = 1;\n",
  "baselines/l2.ts": 'import "../_internal/atomic.ts";\nimport * as npm from "npm:fast-png";\n' +
    'import tf from "@tensorflow/tfjs-core";\nexport { npm, tf };\n',
  "eval/runner.ts":
    'export * from "../lpips/lpips.ts";\nexport * as l2 from "../baselines/l2.ts";\n',
  "cli/compare.ts": 'const m = await import("../lpips/lpips.ts");\nexport { m };\n',
  "notebook/show.ts": 'import "../eval/runner.ts";\nimport "../baselines/l2.ts";\n',
  "cli.ts": 'import "./cli/compare.ts";\nimport "./eval/runner.ts";\n',
  "mod.ts": [
    "/**",
    " * @example",
    " * ```ts",
    ' * import { LPIPS } from "./bench/x.ts";',
    " * ```",
    " * @module",
    " */",
    '// import "./notebooks/nb.ts";',
    'export { atomic } from "./_internal/atomic.ts";',
    "",
  ].join("\n"),
  "bench/x.ts": 'import "../cli.ts";\nimport "../cli/compare.ts";\nimport "../lpips/lpips.ts";\n',
  "notebooks/nb.ts": 'import "../bench/x.ts";\n',
  "_testing/t_test.ts": 'import "../mod.ts";\nimport "../notebooks/nb.ts";\n',
  "docs/example.ts": 'import "../lpips/_private.ts";\nimport "../../../outside.ts";\n',
  ".ci/tool.ts": 'import "../lpips/_private.ts";\n',
  "node_modules/pkg/index.ts": 'import "../../lpips/_private.ts";\n',
};

Deno.test("a clean tree has no violations", async () => {
  assert.deepEqual(await check(CLEAN), []);
});

Deno.test("an upward import is a violation", async () => {
  assert.deepEqual(
    await check({ ...CLEAN, "bappsloader/dataset.ts": 'import "../lpips/pth/pth.ts";\n' }),
    [
      "bappsloader/dataset.ts imports lpips/pth/pth.ts: bappsloader (layer 1) may import only " +
      "_internal",
    ],
  );
});

Deno.test("a sideways import between baselines and lpips is a violation", async () => {
  assert.deepEqual(
    await check({ ...CLEAN, "baselines/lab.ts": 'import { x } from "../lpips/lpips.ts";\n' }),
    [
      "baselines/lab.ts imports lpips/lpips.ts: baselines (layer 2) may import only _internal, " +
      "bappsloader",
    ],
  );
});

Deno.test("a library importing cli/ is a violation", async () => {
  assert.deepEqual(
    await check({ ...CLEAN, "eval/runner.ts": 'import { parse } from "../cli/args.ts";\n' }),
    [
      "eval/runner.ts imports cli/args.ts: eval (layer 4) may import only _internal, " +
      "bappsloader, baselines, lpips, metrics",
    ],
  );
});

Deno.test("a library importing a top folder, or the root a top folder, is a violation", async () => {
  assert.deepEqual(
    await check({
      ...CLEAN,
      "_internal/a.ts": 'import "../_testing/fixtures/data.ts";\n',
      "cli/b.ts": 'import "../_testing/fixtures/data.ts";\n',
      "mod.ts": 'import "./_testing/fixtures/data.ts";\n',
    }),
    [
      "_internal/a.ts imports _testing/fixtures/data.ts: _internal (layer 0) may import nothing outside " +
      "_internal",
      "cli/b.ts imports _testing/fixtures/data.ts: cli (layer 5) may import only _internal, " +
      "bappsloader, baselines, lpips, metrics, eval",
      "mod.ts imports _testing/fixtures/data.ts: root files (layer 6) may import only _internal, " +
      "bappsloader, baselines, lpips, metrics, eval, cli, notebook",
    ],
  );
});

Deno.test("metrics sits between lpips/baselines and eval", async () => {
  assert.deepEqual(
    await check({
      ...CLEAN,
      "metrics/registry.ts": 'import "../lpips/lpips.ts";\nimport "../baselines/l2.ts";\n',
      "metrics/up.ts": 'import "../eval/metrics/table.ts";\n',
      "lpips/down.ts": 'import "../metrics/registry.ts";\n',
    }),
    [
      "cycle: lpips -> metrics -> lpips (lpips/down.ts imports metrics/registry.ts; " +
      "metrics/registry.ts imports lpips/lpips.ts)",
      "lpips/down.ts imports metrics/registry.ts: lpips (layer 2) may import only _internal, " +
      "bappsloader",
      "metrics/up.ts imports eval/metrics/table.ts: metrics (layer 3) may import only _internal, " +
      "bappsloader, baselines, lpips",
    ],
  );
});

Deno.test("cli and notebook are one layer: neither imports the other", async () => {
  assert.deepEqual(
    await check({
      ...CLEAN,
      "notebook/run.ts": 'import "../cli/compare.ts";\n',
      "cli/show.ts": 'import "../notebook/show.ts";\n',
    }),
    [
      "cli/show.ts imports notebook/show.ts: cli (layer 5) may import only _internal, " +
      "bappsloader, baselines, lpips, metrics, eval",
      "cycle: cli -> notebook -> cli (cli/show.ts imports notebook/show.ts; notebook/run.ts " +
      "imports cli/compare.ts)",
      "notebook/run.ts imports cli/compare.ts: notebook (layer 5) may import only _internal, " +
      "bappsloader, baselines, lpips, metrics, eval",
    ],
  );
});

Deno.test("a library importing a root file is a violation (and a cycle)", async () => {
  assert.deepEqual(
    await check({ ...CLEAN, "lpips/uses_mod.ts": 'import "../mod.ts";\n' }),
    [
      "cycle: . -> cli -> lpips -> . (cli.ts imports cli/compare.ts; cli/compare.ts imports " +
      "lpips/lpips.ts; lpips/uses_mod.ts imports mod.ts) [component: ., cli, eval, lpips]",
      "lpips/uses_mod.ts imports mod.ts: lpips (layer 2) may import only _internal, bappsloader",
    ],
  );
});

Deno.test("a cycle between lpips and lpips/train is a violation", async () => {
  assert.deepEqual(
    await check({
      ...CLEAN,
      "lpips/lpips.ts": 'import { Trainer } from "./train/trainer.ts";\n',
      "lpips/arch.ts": "export const arch = 1;\n",
      "lpips/train/trainer.ts": 'import { arch } from "../arch.ts";\n',
    }),
    [
      "cycle: lpips -> lpips/train -> lpips (lpips/lpips.ts imports lpips/train/trainer.ts; " +
      "lpips/train/trainer.ts imports lpips/arch.ts)",
    ],
  );
});

Deno.test("a cycle across top-level folders is a violation", async () => {
  const found = await check({
    ...CLEAN,
    "bench/x.ts": 'import "../notebooks/nb.ts";\n',
    "notebooks/nb.ts": 'import "../_testing/t_test.ts";\n',
    "_testing/t_test.ts": 'import "../bench/x.ts";\n',
  });
  assert.deepEqual(found, [
    "cycle: _testing -> bench -> notebooks -> _testing (_testing/t_test.ts imports bench/x.ts; " +
    "bench/x.ts imports notebooks/nb.ts; notebooks/nb.ts imports _testing/t_test.ts)",
  ]);
});

Deno.test("an upward import that closes a cycle reports both", async () => {
  assert.deepEqual(
    await check({ ...CLEAN, "_internal/atomic.ts": 'import "../bappsloader/image.ts";\n' }),
    [
      "_internal/atomic.ts imports bappsloader/image.ts: _internal (layer 0) may import nothing " +
      "outside _internal",
      "cycle: _internal -> bappsloader -> _internal (_internal/atomic.ts imports " +
      "bappsloader/image.ts; bappsloader/image.ts imports _internal/atomic.ts)",
    ],
  );
});

Deno.test("importing another folder's private file is a violation", async () => {
  assert.deepEqual(
    await check({ ...CLEAN, "eval/runner.ts": 'import { secret } from "../lpips/_private.ts";\n' }),
    ["eval/runner.ts imports lpips/_private.ts, which is private to lpips/"],
  );
});

Deno.test("top folders may import anything but other folders' private files", async () => {
  assert.deepEqual(
    await check({
      ...CLEAN,
      "bench/x.ts": 'import "../cli.ts";\nimport "../lpips/train/_adam.ts";\nimport "./_w.ts";\n',
      "cli.ts": 'import "./lpips/_private.ts";\n',
    }),
    [
      "bench/x.ts imports lpips/train/_adam.ts, which is private to lpips/train/",
      "cli.ts imports lpips/_private.ts, which is private to lpips/",
    ],
  );
});

Deno.test("a top-level folder without a layer is a violation", async () => {
  assert.deepEqual(
    await check({
      ...CLEAN,
      "tools/gen.ts": 'import "../_internal/atomic.ts";\n',
      "lpips/gen.ts": 'import "../tools/gen.ts";\n',
      "assets/readme.md": "not TypeScript\n",
    }),
    [
      "folder tools has no layer: add it to LAYERS in _testing/check_layers.ts",
      "lpips/gen.ts imports tools/gen.ts: tools has no layer, so lpips (layer 2) may not import it",
    ],
  );
});

Deno.test("a dynamic import going up is a violation", async () => {
  assert.deepEqual(
    await check({
      ...CLEAN,
      "bappsloader/lazy.ts": "export async function f() {\n" +
        '  return await import("../baselines/l2.ts");\n}\n',
    }),
    [
      "bappsloader/lazy.ts imports baselines/l2.ts: bappsloader (layer 1) may import only " +
      "_internal",
    ],
  );
});

Deno.test("export * from going up is a violation", async () => {
  assert.deepEqual(
    await check({ ...CLEAN, "lpips/mod.ts": 'export * from "../eval/metrics/table.ts";\n' }),
    [
      "lpips/mod.ts imports eval/metrics/table.ts: lpips (layer 2) may import only _internal, " +
      "bappsloader",
    ],
  );
});

Deno.test("import type and export type going up are violations", async () => {
  assert.deepEqual(
    await check({
      ...CLEAN,
      "bappsloader/a.ts": 'import type { T } from "../lpips/pth/pth.ts";\n',
      "bappsloader/b.ts": 'export type { T } from "../baselines/l2.ts";\n',
    }),
    [
      "bappsloader/a.ts imports lpips/pth/pth.ts: bappsloader (layer 1) may import only " +
      "_internal",
      "bappsloader/b.ts imports baselines/l2.ts: bappsloader (layer 1) may import only _internal",
    ],
  );
});

Deno.test("an import that escapes the repository is a violation", async () => {
  assert.deepEqual(
    await check({ ...CLEAN, "lpips/far.ts": 'import "../../elsewhere/x.ts";\n' }),
    ["lpips/far.ts imports ../../elsewhere/x.ts, which is outside the repository"],
  );
});

Deno.test("imports in comments and import-like strings are not counted", async () => {
  const source = [
    "/**",
    " * @example",
    " * ```ts",
    ' * import { LPIPS } from "../cli/args.ts";',
    ' * const m = await import("../cli/args.ts");',
    " * ```",
    " */",
    '// export * from "../cli/args.ts";',
    '/* import "../cli/args.ts"; */',
    "const code = 'import { x } from \"../cli/args.ts\";';",
    'const more = "export * from \\"../cli/args.ts\\"; // not a comment";',
    'const tpl = `import("../cli/args.ts") ${code + "/* not a comment */"} // nor this`;',
    "const re = /\\/\\/ '\"/g;",
    'const url = new URL("../cli/args.ts", import.meta.url);',
    "const half = 1 / 2; // a division, then a comment",
    "export { code, half, more, re, tpl, url };",
    'import { real } from "../_internal/atomic.ts";',
    "",
  ].join("\n");
  assert.deepEqual(importSpecifiers(source), ["../_internal/atomic.ts"]);
  assert.deepEqual(await check({ ...CLEAN, "eval/strings.ts": source }), []);
});

Deno.test("importSpecifiers reads every import form", () => {
  const source = [
    'import a from "./a.ts";',
    'import b, { c as d, "e-f" as ef } from "./b.ts";',
    'import * as g from "./g.ts";',
    'import type { H } from "./h.ts";',
    'import "./side.ts";',
    'import json from "./data.json" with { type: "json" };',
    "import {",
    "  from,",
    "  type Multi,",
    '} from "./multi.ts";',
    'export * from "./star.ts";',
    'export * as ns from "./ns.ts";',
    'export { x, y as z } from "./named.ts";',
    'export type { T } from "./types.ts";',
    "export const local = 1;",
    'const dyn = await import("./dyn.ts");',
    'type Q = typeof import("./typeof.ts");',
    "const tdyn = await import(`./template.ts`);",
    "const skipped = await import(name);",
    'import { LPIPS } from "npm:lpips";',
  ].join("\n");
  assert.deepEqual(importSpecifiers(source), [
    "./a.ts",
    "./b.ts",
    "./g.ts",
    "./h.ts",
    "./side.ts",
    "./data.json",
    "./multi.ts",
    "./star.ts",
    "./ns.ts",
    "./named.ts",
    "./types.ts",
    "./dyn.ts",
    "./typeof.ts",
    "./template.ts",
    "npm:lpips",
  ]);
});

Deno.test("violations are sorted and deduplicated", async () => {
  const found = await check({
    ...CLEAN,
    "bappsloader/dataset.ts": 'import "../lpips/pth/pth.ts";\nimport "../lpips/pth/pth.ts";\n' +
      'import "../eval/metrics/table.ts";\n',
  });
  assert.deepEqual(found, [
    "bappsloader/dataset.ts imports eval/metrics/table.ts: bappsloader (layer 1) may import " +
    "only _internal",
    "bappsloader/dataset.ts imports lpips/pth/pth.ts: bappsloader (layer 1) may import only " +
    "_internal",
  ]);
});

Deno.test("the repository obeys its layering", async () => {
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  const found = await checkLayers(root);
  assert.deepEqual(found, [], `layering violations:\n${found.join("\n")}`);
});
