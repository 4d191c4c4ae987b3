import assert from "node:assert/strict";
import { join } from "node:path";
import { encode } from "fast-png";
import { needsTestData, testData } from "../_internal/test_data.ts";
import {
  BappsLayoutError,
  compareCodePoints,
  distinctSubsets,
  listJND,
  listTwoAFC,
  normalizeSubset,
} from "./layout.ts";
import { writeNpy } from "./npy.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bapps_layout_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const tinyPng = encode({ width: 2, height: 2, channels: 3, depth: 8, data: new Uint8Array(12) });

/** Writes `files` (paths relative to `root`): `.npy` get a judgement, the rest a tiny PNG. */
async function populate(root: string, files: string[]): Promise<void> {
  for (const f of files) {
    const path = join(root, f);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeFile(
      path,
      f.endsWith(".npy") ? writeNpy(new Float64Array([0.5]), [1]) : tinyPng,
    );
  }
}

function twoAFCFiles(subset: string, stems: string[], ext = ".png"): string[] {
  return stems.flatMap((s) => [
    `2afc/${subset}/ref/${s}${ext}`,
    `2afc/${subset}/p0/${s}${ext}`,
    `2afc/${subset}/p1/${s}${ext}`,
    `2afc/${subset}/judge/${s}.npy`,
  ]);
}

async function assertLayoutError(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error) => {
    assert.ok(e instanceof BappsLayoutError, `expected BappsLayoutError, got ${e}`);
    assert.match(e.message, pattern);
    return true;
  });
}

Deno.test({
  ...needsTestData("bapps-mini: item counts and file pairing of every subset"),
  fn: async () => {
    const root = testData("bapps-mini");
    const counts: [string, "2afc" | "jnd", number][] = [
      ["val/traditional", "2afc", 120],
      ["val/cnn", "2afc", 120],
      ["train/traditional", "2afc", 300],
      ["val/traditional", "jnd", 120],
      ["val/cnn", "jnd", 120],
    ];
    for (const [subset, mode, n] of counts) {
      const list = mode === "2afc" ? await listTwoAFC(root, subset) : await listJND(root, subset);
      assert.equal(list.items.length, n, `${mode} ${subset}`);
      assert.deepEqual(list.subsets.map((s) => [s.subset, s.start, s.count]), [[subset, 0, n]]);
      list.items.forEach((it, i) => {
        const stem = String(i).padStart(6, "0");
        assert.equal(it.index, i);
        assert.equal(it.subset, subset);
        assert.ok(it.p0.endsWith(join(subset, "p0", `${stem}.png`)), it.p0);
        assert.ok(it.p1.endsWith(join(subset, "p1", `${stem}.png`)), it.p1);
      });
    }
    const tw = await listTwoAFC(root, "val/traditional");
    assert.ok(tw.items[37].ref.endsWith(join("ref", "000037.png")));
    assert.ok(tw.items[37].judge.endsWith(join("judge", "000037.npy")));
    const jn = await listJND(root, ["val/cnn"]);
    assert.ok(jn.items[51].same.endsWith(join("same", "000051.npy")));
  },
});

Deno.test({
  ...needsTestData("bapps-mini: several subsets form one list sorted by full path, with ranges"),
  fn: async () => {
    const list = await listTwoAFC(testData("bapps-mini"), ["val/traditional", "val/cnn"]);
    assert.equal(list.items.length, 240);
    // As in the reference's single concatenated dataset: global path order puts cnn first.
    assert.deepEqual(list.subsets.map((s) => [s.subset, s.start, s.count]), [
      ["val/cnn", 0, 120],
      ["val/traditional", 120, 120],
    ]);
    assert.equal(list.items[0].subset, "val/cnn");
    assert.equal(list.items[120].subset, "val/traditional");
    assert.ok(list.items[120].ref.endsWith(join("traditional", "ref", "000000.png")));
  },
});

Deno.test("walks recursively, keeps the image extensions and sorts full paths", async () => {
  await withTempDir(async (root) => {
    // Nested folders and a name that sorts differently by folder than by flat name:
    // "a.png" < "a/0.png" because '.' < '/'; case-sensitive: "B" < "a".
    const stems = ["a/0", "a", "B", "c/d/e"];
    await populate(root, [
      ...twoAFCFiles("val/x", stems.slice(0, 3)),
      "2afc/val/x/ref/c/d/e.PNG",
      "2afc/val/x/p0/c/d/e.jpeg",
      "2afc/val/x/p1/c/d/e.BMP",
      "2afc/val/x/judge/c/d/e.npy",
      // the other formats decodeImage reads
      "2afc/val/x/ref/c/d/f.tif",
      "2afc/val/x/p0/c/d/f.webp",
      "2afc/val/x/p1/c/d/f.GIF",
      "2afc/val/x/judge/c/d/f.npy",
      // ignored: other extensions, .npy among images, images among judgements, hidden files
      "2afc/val/x/ref/notes.txt",
      "2afc/val/x/ref/zz.npy",
      "2afc/val/x/judge/zz.png",
      "2afc/val/x/p0/.DS_Store",
    ]);
    const list = await listTwoAFC(root, "val/x");
    const rel = (p: string) => p.slice(join(root, "2afc/val/x/ref").length + 1);
    assert.deepEqual(list.items.map((it) => rel(it.ref)), [
      "B.png",
      "a.png",
      join("a", "0.png"),
      join("c", "d", "e.PNG"),
      join("c", "d", "f.tif"),
    ]);
    assert.ok(list.items[3].p0.endsWith("e.jpeg"));
    assert.ok(list.items[4].p0.endsWith("f.webp") && list.items[4].p1.endsWith("f.GIF"));
    assert.ok(list.items[3].judge.endsWith(join("c", "d", "e.npy")));
  });
});

Deno.test("symbolic links: links to files count, links to folders are not followed", async () => {
  await withTempDir(async (root) => {
    await populate(root, [...twoAFCFiles("val/x", ["000000"]), "elsewhere/000001.png"]);
    await Deno.symlink(join(root, "elsewhere"), join(root, "2afc/val/x/ref/linked"));
    let list = await listTwoAFC(root, "val/x");
    assert.equal(list.items.length, 1);
    await Deno.symlink(join(root, "elsewhere/000001.png"), join(root, "2afc/val/x/ref/000001.png"));
    for (const r of ["p0", "p1"]) await populate(root, [`2afc/val/x/${r}/000001.png`]);
    await populate(root, ["2afc/val/x/judge/000001.npy"]);
    list = await listTwoAFC(root, "val/x");
    assert.equal(list.items.length, 2);
  });
});

Deno.test("code-point order as Python sorts str (astral characters after U+FFFF)", () => {
  const names = ["\u{1F600}.png", "\uFF01.png", "a.png", "Z.png", "\u00e9.png"];
  const sorted = [...names].sort(compareCodePoints);
  assert.deepEqual(sorted, ["Z.png", "a.png", "\u00e9.png", "\uFF01.png", "\u{1F600}.png"]);
  assert.notDeepEqual([...names].sort(), sorted); // JS's UTF-16 order differs here
  assert.equal(compareCodePoints("ab", "ab"), 0);
  assert.ok(compareCodePoints("ab", "abc") < 0);
});

Deno.test("one folder, one name: subset names are normalised; one subset twice is refused", async () => {
  for (const name of ["val/x", "val//x", "./val/x", "val/x/", "val/./x", "val\\x", "/val/x"]) {
    assert.equal(normalizeSubset(name), "val/x", name);
  }
  for (const bad of ["", ".", "./", "val/../x", ".."]) {
    assert.throws(() => normalizeSubset(bad), {
      name: "BappsLayoutError",
      message: `bad subset name '${bad}'`,
    });
  }
  assert.deepEqual(distinctSubsets(["./val/x/", "val/y"]), ["val/x", "val/y"]);
  assert.throws(() => distinctSubsets(["val/x", "val//x"]), {
    message: "subset 'val/x' given twice (as 'val/x' and 'val//x')",
  });
  assert.throws(() => distinctSubsets(["val/x", "val/x"]), {
    message: "subset 'val/x' given twice",
  });
  await withTempDir(async (root) => {
    await populate(root, twoAFCFiles("val/x", ["000000"]));
    const list = await listTwoAFC(root, ["./val//x/"]);
    assert.deepEqual(list.subsets.map((s) => s.subset), ["val/x"]);
    assert.equal(list.items[0].subset, "val/x");
  });
});

Deno.test("broken layouts are errors naming the folder", async () => {
  await withTempDir(async (root) => {
    await assertLayoutError(
      listTwoAFC(root, "val/x"),
      /2afc: no such folder .*holds 2afc\/ and jnd\//,
    );
    await populate(root, twoAFCFiles("val/x", ["000000", "000001"]));
    await assertLayoutError(
      listTwoAFC(root, "val/y"),
      /2afc[\\/]val[\\/]y: no such 2afc subset folder/,
    );
    await assertLayoutError(listTwoAFC(root, []), /no 2afc subsets given/);
    await assertLayoutError(listTwoAFC(root, ["val/x", "val/x/"]), /given twice/);
    await assertLayoutError(listTwoAFC(root, ["val", "val/x"]), /overlap/);
    await assertLayoutError(listTwoAFC(root, "../x"), /bad subset name/);

    await populate(root, twoAFCFiles("val/y", ["000000"]).filter((f) => !f.includes("/p1/")));
    await assertLayoutError(
      listTwoAFC(root, "val/y"),
      /val[\\/]y[\\/]p1: missing \(a 2afc subset has the folders ref, p0, p1, judge\)/,
    );

    await populate(
      root,
      twoAFCFiles("val/z", ["000000", "000001"]).filter((f) => f !== "2afc/val/z/judge/000001.npy"),
    );
    await assertLayoutError(
      listTwoAFC(root, "val/z"),
      /val[\\/]z: the folders hold different numbers of files \(ref\/ 2, p0\/ 2, p1\/ 2, judge\/ 1\)/,
    );

    await populate(root, [
      ...twoAFCFiles("val/s", ["000000", "000001", "000002", "000003", "000004"]).filter((f) =>
        f !== "2afc/val/s/p0/000005.png"
      ),
    ]);
    await Deno.rename(
      join(root, "2afc/val/s/p0/000004.png"),
      join(root, "2afc/val/s/p0/000006.png"),
    );
    await Deno.rename(
      join(root, "2afc/val/s/ref/000004.png"),
      join(root, "2afc/val/s/ref/000005.png"),
    );
    await assertLayoutError(
      listTwoAFC(root, ["val/x", "val/s"]),
      /val[\\/]s: files do not line up at item 4: ref\/000005\.png but p0\/000006\.png/,
    );

    await Deno.mkdir(join(root, "2afc/val/e/ref"), { recursive: true });
    for (const r of ["p0", "p1", "judge"]) await Deno.mkdir(join(root, "2afc/val/e", r));
    await assertLayoutError(listTwoAFC(root, "val/e"), /val[\\/]e: no files/);

    await assertLayoutError(listJND(root, "val/x"), /jnd: no such folder/);
    await populate(root, ["jnd/val/x/p0/000000.png", "jnd/val/x/p1/000000.png"]);
    await assertLayoutError(
      listJND(root, "val/x"),
      /same: missing \(a jnd subset has the folders p0, p1, same\)/,
    );
  });
});
