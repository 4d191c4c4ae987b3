import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { readJudgement } from "../bappsloader/dataset.ts";
import { listJND, listTwoAFC } from "../bappsloader/layout.ts";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { parsePerItemCsv } from "./csv.ts";
import { jndMAP } from "./jnd.ts";
import { score2AFC } from "./twoafc.ts";

type Scores = Record<string, Record<string, Record<string, { score: number; n: number }>>>;

/** `lpips_alex_v0.1__2afc__val_cnn.csv` -> ["lpips_alex_v0.1", "2afc", "val/cnn"]. */
function keyOf(file: string): [string, "2afc" | "jnd", string] {
  const m = /^(.+)__(2afc|jnd)__([a-z]+)_(.+)\.csv$/.exec(file);
  if (!m) throw new Error(`unexpected file name ${file}`);
  return [m[1], m[2] as "2afc" | "jnd", `${m[3]}/${m[4]}`];
}

async function expectedCsvs(): Promise<string[]> {
  const dir = testData("bapps-mini", "expected");
  const files = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.name.endsWith(".csv")) files.push(join(dir, e.name));
  }
  return files.sort();
}

Deno.test({
  ...needsTestData("golden: every expected/*.csv scores as expected_scores.json (1e-4)"),
  fn: async () => {
    const scores = JSON.parse(
      await Deno.readTextFile(testData("bapps-mini", "expected_scores.json")),
    ) as Scores;
    const files = await expectedCsvs();
    assert.equal(files.length, 32); // 8 models x 2 modes x 2 subsets
    const seen = new Set<string>();
    for (const path of files) {
      const [model, mode, subset] = keyOf(basename(path));
      const want = scores[model]?.[mode]?.[subset];
      assert.ok(want, `${basename(path)} has no entry in expected_scores.json`);
      const cols = parsePerItemCsv(await Deno.readTextFile(path));
      const got = mode === "2afc"
        ? score2AFC(cols.d0 as Float64Array, cols.d1 as Float64Array, cols.judge as Float64Array)
        : jndMAP(cols.d as Float64Array, cols.same as Float64Array);
      assert.equal((cols.index as Float64Array).length, want.n);
      assert.ok(Math.abs(got - want.score) < 1e-4, `${basename(path)}: ${got} vs ${want.score}`);
      seen.add(`${model}/${mode}/${subset}`);
    }
    // Every score in the JSON has its CSV.
    for (const [model, modes] of Object.entries(scores)) {
      for (const [mode, subsets] of Object.entries(modes)) {
        for (const subset of Object.keys(subsets)) {
          assert.ok(seen.has(`${model}/${mode}/${subset}`));
        }
      }
    }
  },
});

Deno.test({
  ...needsTestData("golden: the CSVs' judge/same columns equal the loader's float32 judgements"),
  fn: async () => {
    const root = testData("bapps-mini");
    const cache = new Map<string, number[]>();
    const judgements = async (mode: "2afc" | "jnd", subset: string) => {
      const key = `${mode}/${subset}`;
      if (!cache.has(key)) {
        const paths = mode === "2afc"
          ? (await listTwoAFC(root, subset)).items.map((it) => it.judge)
          : (await listJND(root, subset)).items.map((it) => it.same);
        cache.set(key, await Promise.all(paths.map(readJudgement)));
      }
      return cache.get(key)!;
    };
    for (const path of await expectedCsvs()) {
      const [, mode, subset] = keyOf(basename(path));
      const cols = parsePerItemCsv(await Deno.readTextFile(path));
      const col = [...(cols[mode === "2afc" ? "judge" : "same"] as Float64Array)];
      assert.deepEqual(col, await judgements(mode, subset), basename(path));
    }
  },
});
