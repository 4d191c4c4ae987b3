import assert from "node:assert/strict";
import { join } from "node:path";
import {
  docTestTargets,
  exportFiles,
  lintDocs,
  reachableFiles,
  runExamples,
} from "./check_docs.ts";

/** A scratch project: `files` maps relative paths to their text. */
async function project(files: Record<string, string>): Promise<string> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "check_docs_test-" }));
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, path), text);
  }
  return dir;
}

Deno.test("exportFiles: the targets of a map or a string, without ./, once each, sorted", () => {
  const map = {
    exports: { ".": "./mod.ts", "./b": "./b/mod.ts", "./a": "./a.ts", "./c": "./a.ts" },
  };
  assert.deepEqual(exportFiles(JSON.stringify(map)), ["a.ts", "b/mod.ts", "mod.ts"]);
  assert.deepEqual(exportFiles(JSON.stringify({ exports: "./mod.ts" })), ["mod.ts"]);
});

Deno.test("exportFiles: no exports, or a target that is not a file name, is a one-line error", () => {
  for (const bad of [{}, { exports: {} }, { exports: { ".": 1 } }, { exports: 3 }]) {
    assert.throws(
      () => exportFiles(JSON.stringify(bad)),
      { message: 'deno.json: "exports" must be a file name or a map of names to files' },
    );
  }
});

Deno.test("reachableFiles and docTestTargets: exactly the files the exports import", async () => {
  const dir = await project({
    "deno.json": JSON.stringify({ exports: { ".": "./mod.ts" } }),
    "mod.ts": 'export * from "./lib/a.ts";\n',
    "lib/a.ts": 'export { b } from "./b.ts";\n',
    "lib/b.ts": "export const b = 1;\n",
    "lib/a_test.ts": 'import "./a.ts";\n',
    "lib/unused.ts": "export const u = 2;\n",
    "tools/x.ts": "export const x = 3;\n",
    "README.md": "# x\n",
  });
  try {
    const files = await reachableFiles(dir, ["mod.ts"]);
    assert.deepEqual(files, ["lib/a.ts", "lib/b.ts", "mod.ts"].map((f) => join(dir, f)));
    const ignored = ["README.md", "deno.json", "lib/a_test.ts", "lib/unused.ts", "tools"];
    assert.deepEqual(await docTestTargets(dir, files), [
      `--ignore=${ignored.map((f) => join(dir, f)).join(",")}`,
      dir,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lintDocs: an undocumented export fails, a documented one passes", async () => {
  const dir = await project({
    "deno.json": JSON.stringify({ exports: { ".": "./mod.ts" } }),
    "mod.ts":
      "/**\n * A module.\n * @module\n */\n/** One. */\nexport const x = 1;\nexport const y = 2;\n",
  });
  try {
    assert.notEqual(await lintDocs(dir), 0);
    await Deno.writeTextFile(
      join(dir, "mod.ts"),
      "/**\n * A module.\n * @module\n */\n/** One. */\nexport const x = 1;\n/** Two. */\nexport const y = 2;\n",
    );
    assert.equal(await lintDocs(dir), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runExamples: without test data, or with a part of it missing, a one-line error", async () => {
  await assert.rejects(() => runExamples(".", undefined), {
    message:
      "doc examples: no test data (set LPIPS_TEST_DATA): they read its images, weights and BAPPS fixture",
  });
  const empty = await project({
    "deno.json": JSON.stringify({ exports: "./mod.ts" }),
    "mod.ts": "",
  });
  try {
    await assert.rejects(() => runExamples(empty, empty), {
      message: `doc examples: the test data ${empty} has no images/ex_ref.png`,
    });
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});
