import assert from "node:assert/strict";
import { join } from "node:path";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { type CliRun, runCli } from "../_internal/test_cli.ts";
import { fileListHash, parseShard, shardRange } from "./shard.ts";
import { readShardFile } from "./shard_file.ts";

const lpips = (...args: string[]): Promise<CliRun> => runCli(args);
async function ok(...args: string[]): Promise<string> {
  const r = await lpips(...args);
  assert.equal(r.code, 0, `${args.join(" ")}\n${r.stderr}`);
  return r.stdout;
}

Deno.test("parseShard: K/N counts from 0; unset variables and K >= N are clear errors", () => {
  assert.deepEqual(parseShard("0/4"), { index: 0, count: 4 });
  assert.deepEqual(parseShard(" 3 / 4 "), { index: 3, count: 4 });
  assert.throws(() => parseShard("/4"), /--shard must be K\/N .*SLURM_ARRAY_TASK_ID/);
  assert.throws(() => parseShard("4/4"), /K counts from 0 and must be below N \(0\/4 to 3\/4\)/);
  assert.throws(
    () => parseShard("1/0"),
    /--shard 1\/0: N, the number of shards, must be a positive/,
  );
  assert.throws(
    () => parseShard("0/0"),
    /--shard 0\/0: N, the number of shards, must be a positive/,
  );
  assert.throws(() => parseShard("-1/4"), /--shard must be K\/N/);
  assert.throws(() => parseShard("1.5/4"), /--shard must be K\/N/);
});

Deno.test("shardRange: every item in exactly one shard, blocks of whole batches, in order", () => {
  for (const total of [0, 1, 7, 50, 120, 121]) {
    for (const batch of [1, 7, 50]) {
      for (const count of [1, 2, 3, 4, 9]) {
        let next = 0;
        for (let index = 0; index < count; index++) {
          const r = shardRange(total, batch, { index, count });
          assert.equal(r.start, next, `${total} ${batch} ${index}/${count}`);
          assert.ok(r.end >= r.start);
          assert.ok(r.start % batch === 0 && (r.end % batch === 0 || r.end === total));
          next = r.end;
        }
        assert.equal(next, total);
      }
    }
  }
  // Near-equal: shard sizes differ by at most one batch.
  const sizes = [0, 1, 2, 3].map((index) => {
    const r = shardRange(120, 7, { index, count: 4 });
    return r.end - r.start;
  });
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 7, String(sizes));
});

Deno.test("fileListHash: relative to the root, order and content sensitive", () => {
  const a = fileListHash("/x", [["/x/ref/1.png", "/x/p0/1.png"]]);
  assert.equal(a, fileListHash("/mnt/y", [["/mnt/y/ref/1.png", "/mnt/y/p0/1.png"]]));
  assert.notEqual(a, fileListHash("/x", [["/x/ref/2.png", "/x/p0/1.png"]]));
  assert.notEqual(
    fileListHash("/x", [["/x/a"], ["/x/b"]]),
    fileListHash("/x", [["/x/b"], ["/x/a"]]),
  );
});

/**
 * Runs `eval` once unsharded and as four shards merged, and asserts that stdout (`--json`: scores,
 * n, ci95) and every per-item CSV are byte for byte the same.
 */
async function shardedEqualsSingle(args: string[], datasets: string[]) {
  const dir = await Deno.makeTempDir();
  try {
    const base = ["eval", "--root", testData("bapps-mini"), "--datasets", ...datasets, ...args];
    const single = await ok(...base, "--json", "--per-item", join(dir, "single.csv"), "-q");
    const shards = [0, 1, 2, 3].map((k) => join(dir, `shard-${k}.jsonl`));
    await Promise.all(shards.map((f, k) => ok(...base, "--shard", `${k}/4`, "--out", f, "-q")));
    for (const [k, f] of shards.entries()) {
      assert.deepEqual((await readShardFile(f)).header.shard, { index: k, count: 4 });
    }
    const merged = await ok(
      "merge",
      ...[...shards].reverse(), // any order
      "--json",
      "--per-item",
      join(dir, "merged.csv"),
      "-q",
    );
    assert.equal(merged, single);
    const j = JSON.parse(single);
    for (const ds of datasets) {
      assert.equal(j.results[ds].n, 120);
      assert.ok(j.results[ds].ci95[0] < j.results[ds].ci95[1]);
      const name = (stem: string) =>
        datasets.length === 1 ? stem : `${stem}.${ds.replace("/", "_")}`;
      const a = await Deno.readTextFile(join(dir, `${name("single")}.csv`));
      const b = await Deno.readTextFile(join(dir, `${name("merged")}.csv`));
      assert.equal(a.split("\n").length, 122);
      assert.equal(b, a);
    }
    // Another seed in merge gives the single run's interval for that seed.
    const seeded = await ok(...base, "--json", "--seed", "7", "--bootstrap", "300", "-q");
    assert.equal(
      await ok("merge", ...shards, "--json", "--seed", "7", "--bootstrap", "300"),
      seeded,
    );
    assert.notEqual(seeded, single);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  ...needsTestData("eval --shard K/4 + merge equals the single run exactly (2afc, lpips alex)"),
  fn: () => shardedEqualsSingle(["--batch-size", "16"], ["val/cnn"]),
});

Deno.test({
  ...needsTestData("eval --shard K/4 + merge equals the single run exactly (jnd, 2 datasets)"),
  fn: () =>
    shardedEqualsSingle(
      ["--dataset-mode", "jnd", "--batch-size", "50"], // 3 batches: shard 0 is empty
      ["val/traditional", "val/cnn"],
    ),
});

/** Two folders of six 64x64 images (BAPPS refs and their p0 versions), same names. */
async function imageDirs(): Promise<[string, string, string]> {
  const root = await Deno.makeTempDir();
  const src = testData("bapps-mini", "2afc", "val", "cnn");
  for (const [role, d] of [["ref", "a"], ["p0", "b"]]) {
    await Deno.mkdir(join(root, d));
    for (let i = 0; i < 6; i++) {
      const name = `${String(i).padStart(6, "0")}.png`;
      await Deno.copyFile(join(src, role, name), join(root, d, name));
    }
  }
  return [root, join(root, "a"), join(root, "b")];
}

Deno.test({
  ...needsTestData("dirs and allpairs --shard K/3 + merge print what the single run prints"),
  fn: async () => {
    const [root, a, b] = await imageDirs();
    try {
      const single = await ok("dirs", a, b, "--out", join(root, "single.txt"));
      assert.equal(single.trim().split("\n").length, 6);
      const shards = [0, 1, 2].map((k) => join(root, `dirs-${k}.jsonl`));
      for (const [k, f] of shards.entries()) {
        const r = await lpips("dirs", a, b, "--shard", `${k}/3`, "--out", f);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, "", "a shard prints no partial results");
      }
      assert.equal(await ok("merge", ...shards, "--out", join(root, "merged.txt")), single);
      assert.equal(
        await Deno.readTextFile(join(root, "merged.txt")),
        await Deno.readTextFile(join(root, "single.txt")),
      );

      const all = await ok("allpairs", a, "--all-pairs", "--json");
      assert.equal(JSON.parse(all).pairs.length, 15);
      const pairShards = [0, 1, 2].map((k) => join(root, `pairs-${k}.jsonl`));
      await Promise.all(
        pairShards.map((f, k) => ok("allpairs", a, "--all-pairs", "--shard", `${k}/3`, "--out", f)),
      );
      assert.equal(await ok("merge", ...pairShards, "--json"), all);
      const text = await ok("allpairs", a, "--all-pairs", "--out", join(root, "pairs.txt"));
      assert.equal(await Deno.readTextFile(join(root, "pairs.txt")), text, "--out: what it prints");
      assert.equal(
        await ok("merge", ...pairShards, "--out", join(root, "merged-pairs.txt")),
        text,
        "the text output (lines and Avg) too",
      );
      assert.equal(await Deno.readTextFile(join(root, "merged-pairs.txt")), text);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  ...needsTestData("eval/dirs --shard: option mistakes are one-line errors"),
  fn: async () => {
    const root = testData("bapps-mini");
    const cases: [string[], RegExp][] = [
      [["eval", "--root", root, "--model", "l2", "--shard", "1/4"], /--shard K\/N needs --out/],
      [["eval", "--root", root, "--model", "l2", "--shard", "/4", "--out", "x"], /is the index/],
      [["eval", "--root", root, "--model", "l2", "--out", "x.jsonl", "--json"], /--json belongs/],
      [["eval", "--root", root, "--model", "l2", "--out", "/no/such/x.jsonl"], /no such folder/],
      [["dirs", root, root, "--shard", "0/2"], /--shard K\/N needs --out/],
      [["allpairs", root, "--shard", "0/2"], /--shard K\/N needs --out/],
      [["dirs", root, root, "--shard", "0/0", "--out", "x"], /N, the number of shards, must be/],
      [["dirs", root, root, "--shard", "-1/2", "--out", "x"], /--shard must be K\/N .*"-1\/2"/],
    ];
    for (const [args, pattern] of cases) {
      const r = await lpips(...args);
      assert.equal(r.code, 1, args.join(" "));
      assert.equal(r.stdout, "");
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, pattern);
    }
  },
});
