import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { runCli } from "../_internal/test_cli.ts";
import { mergeShards } from "./merge.ts";
import { shardRange } from "./shard.ts";
import {
  parseShardFile,
  type ShardFile,
  shardFileText,
  type ShardHeader,
  type ShardRow,
} from "./shard_file.ts";

/** A synthetic `eval` shard file: shard `index` of `count` over two lists of `total` items. */
function shard(
  index: number,
  count: number,
  change: { path?: string; net?: string; total?: number; files?: string; command?: "dirs" } = {},
): ShardFile {
  const total = change.total ?? 10;
  const names = ["val/cnn", "val/traditional"];
  const range = shardRange(total, 1, { index, count });
  const header: ShardHeader = {
    format: "lpips-shard",
    version: 2,
    command: change.command ?? "eval",
    config: { dataset_mode: "jnd", net: change.net ?? "alex", datasets: names, batch_size: 1 },
    shard: { index, count },
    lists: names.map((name) => ({ name, total, ...range, files: change.files ?? `hash-${name}` })),
    inputs: { root: "/data" },
  };
  const rows: ShardRow[] = [];
  for (const list of names) {
    for (let i = range.start; i < range.end; i++) {
      rows.push(
        change.command === "dirs"
          ? { list, index: i, file: `${i}.png`, distance: i / 10 }
          : { list, index: i, d: i / 10, same: 1 },
      );
    }
  }
  const path = change.path ?? `s${index}.jsonl`;
  return parseShardFile(path, shardFileText(header, rows)); // through the text: a real round trip
}

const four = () => [0, 1, 2, 3].map((k) => shard(k, 4));

Deno.test("mergeShards: all shards in any order give every item once, in order", () => {
  const run = mergeShards([shard(2, 4), shard(0, 4), shard(3, 4), shard(1, 4)]);
  assert.equal(run.command, "eval");
  assert.equal(run.count, 4);
  assert.deepEqual(run.lists.map((l) => l.name), ["val/cnn", "val/traditional"]);
  for (const l of run.lists) {
    assert.deepEqual(l.rows.map((r) => r.index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(l.rows.map((r) => r.d), [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
  }
  assert.equal(mergeShards([shard(0, 1)]).lists[0].rows.length, 10);
  // More shards than items: empty shards are fine.
  const many = Array.from({ length: 12 }, (_, k) => shard(k, 12));
  assert.equal(mergeShards(many).lists[1].rows.length, 10);
});

Deno.test("mergeShards: a missing shard is named", () => {
  const [s0, s1, , s3] = four();
  assert.throws(() => mergeShards([s0, s1, s3]), { message: "shard 2/4 missing" });
  assert.throws(() => mergeShards([s0, s3]), { message: "shards 1/4, 2/4 missing" });
});

Deno.test("mergeShards: an item in two files names both files", () => {
  const [s0, s1, s2, s3] = four();
  const copy = shard(1, 4, { path: "copy/s1.jsonl" });
  assert.throws(() => mergeShards([s0, s1, s2, s3, copy]), {
    message: `item ${s1.header.lists[0].start} of val/cnn in both s1.jsonl and copy/s1.jsonl`,
  });
});

Deno.test("mergeShards: shards of different runs are refused, saying what differs", () => {
  const [s0, s1, s2] = four();
  const differ = (other: ShardFile, what: string) =>
    assert.throws(() => mergeShards([s0, s1, s2, other]), {
      message: `shards come from different runs: ${what} (s0.jsonl, s3.jsonl)`,
    });
  differ(shard(3, 4, { net: "vgg" }), "net alex vs vgg");
  differ(shard(3, 4, { files: "other" }), "the files of val/cnn differ");
  differ(shard(3, 4, { total: 12 }), "val/cnn has 10 vs 12 items");
  differ(shard(3, 4, { command: "dirs" }), "command eval vs dirs");
  assert.throws(() => mergeShards([s0, shard(1, 2, { path: "s3.jsonl" })]), {
    message: "shards come from different runs: shard count 4 vs 2 (s0.jsonl, s3.jsonl)",
  });
  assert.throws(() => mergeShards([]), { message: "no shard files given" });
});

/** Lines (header and items, no end line) as a shard file with a correct end line and digest. */
function sealed(lines: string[]): string {
  const body = lines.join("\n") + "\n";
  const sha256 = createHash("sha256").update(body).digest("hex");
  return body + JSON.stringify({ end: true, items: lines.length - 1, sha256 }) + "\n";
}

Deno.test("parseShardFile: foreign, truncated and inconsistent files are refused", () => {
  const text = shardFileText(shard(1, 4).header, shard(1, 4).rows);
  const lines = text.trimEnd().split("\n");
  const items = lines.slice(0, -1);
  const bad = (t: string, pattern: RegExp) =>
    assert.throws(() => parseShardFile("f", t), { message: pattern });
  assert.equal(sealed(items), text); // the helper seals as lpips writes
  bad("index,d,same\n0,0.1,1\n", /^f: not an lpips shard file/);
  bad("", /^f: empty file/);
  bad(
    lines.slice(0, -1).join("\n") + "\n",
    /^f: truncated \(no end line\): was the run interrupted/,
  );
  bad(lines.slice(0, 3).join("\n") + "\n", /^f: truncated/);
  // Structure, in files whose digest matches (written by something other than lpips).
  bad(
    sealed([items[0], items[2], ...items.slice(1)]),
    /^f: line 2: item 3 of val\/cnn out of place/,
  );
  bad(
    sealed([...items.slice(0, 2), ...items.slice(3)]),
    /^f: line 3: item 4 of val\/cnn out of place \(expected item 3 of shard 1\/4, items 2 to 4\)/,
  );
  const end = JSON.parse(lines.at(-1)!);
  bad(
    [...items, JSON.stringify({ ...end, items: 2 })].join("\n"),
    /^f: end line says 2 items, the file holds 6$/,
  );
  const version3 = items[0].replace('"version":2', '"version":3');
  bad(sealed([version3, ...items.slice(1)]), /^f: shard file version 3 is not supported/);
  const version1 = items[0].replace('"version":2', '"version":1');
  bad(
    [version1, ...items.slice(1), JSON.stringify({ end: true, items: 6 })].join("\n"),
    /^f: shard file version 1 has no digest of its items and is no longer read: re-run the shard$/,
  );
});

Deno.test("parseShardFile: any changed, dropped, added or spliced item is refused", () => {
  const text = shardFileText(shard(1, 4).header, shard(1, 4).rows);
  const lines = text.trimEnd().split("\n");
  const changed =
    /^f: its items or header were changed after it was written \(the SHA-256 in its end line does not match its content\): re-run the shard$/;
  const refused = (t: string, pattern = changed) =>
    assert.throws(() => parseShardFile("f", t), { message: pattern });
  const edit = (i: number, from: string, to: string) =>
    lines.map((l, k) => k === i ? l.replace(from, to) : l).join("\n") + "\n";
  assert.ok(lines[1].includes('"d":0.2'), lines[1]);
  for (const value of ['"0.5"', "null", "1e999", "-5", "0.25"]) {
    refused(edit(1, '"d":0.2', `"d":${value}`));
  }
  refused(edit(1, '"same":1', '"same":7'));
  refused(edit(0, '"net":"alex"', '"net":"vgg"')); // the configuration is covered too
  refused([...lines.slice(0, 2), ...lines.slice(3)].join("\n")); // a dropped line
  refused([...lines.slice(0, 2), lines[1], ...lines.slice(2)].join("\n")); // a line twice
  const other = shardFileText(shard(2, 4).header, shard(2, 4).rows).trimEnd().split("\n");
  refused([lines[0], ...other.slice(1)].join("\n")); // another shard's items and end line
  refused(edit(lines.length - 1, '"sha256":"', '"sha256":"0')); // a damaged digest
  refused([...lines.slice(0, -1), lines.at(-1)!.replace(/,"sha256":"[0-9a-f]+"/, "")].join("\n"));
  // Values are checked against their domain even where the digest matches.
  const items = lines.slice(0, -1);
  const value = (from: string, to: string, message: RegExp) =>
    refused(sealed([items[0], items[1].replace(from, to), ...items.slice(2)]), message);
  value('"d":0.2', '"d":"0.5"', /^f: line 2: d is "0.5"; a distance is a finite number >= 0$/);
  value('"d":0.2', '"d":null', /^f: line 2: d is null; a distance is a finite number >= 0$/);
  value('"d":0.2', '"d":1e999', /^f: line 2: d is Infinity; a distance is a finite number >= 0$/);
  value('"d":0.2', '"d":-5', /^f: line 2: d is -5; a distance is a finite number >= 0$/);
  value('"same":1', '"same":7', /^f: line 2: same is 7; it must be in \[0, 1\]$/);
});

Deno.test("merge CLI: mistakes are one line on stderr, exit status 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const paths: string[] = [];
    for (const [k, s] of four().entries()) {
      const p = join(dir, `s${k}.jsonl`);
      await Deno.writeTextFile(p, shardFileText(s.header, s.rows));
      paths.push(p);
    }
    const vgg = join(dir, "vgg.jsonl");
    const v = shard(3, 4, { net: "vgg" });
    await Deno.writeTextFile(vgg, shardFileText(v.header, v.rows));
    const cases: [string[], string][] = [
      [[paths[0], paths[1], paths[3]], "shard 2/4 missing"],
      [[...paths, paths[2]], `item 5 of val/cnn in both ${paths[2]} and ${paths[2]}`],
      [[...paths.slice(0, 3), vgg], `shards come from different runs: net alex vs vgg`],
      [[paths[0], join(dir, "nope.jsonl")], "cannot read"],
      [[...paths, "--out", "x.txt"], "--out applies to dirs and allpairs shards (these are eval)"],
      [[...paths, "--net", "vgg"], "unknown option --net (--help lists the options)"],
      [[], "expected shard files"],
    ];
    for (const [args, message] of cases) {
      const out = await runCli(["merge", ...args]);
      assert.equal(out.code, 1, args.join(" "));
      assert.equal(out.stdout, "");
      assert.equal(out.stderr.trimEnd().split("\n").length, 1, out.stderr);
      assert.ok(out.stderr.startsWith(`lpips merge: `) && out.stderr.includes(message), out.stderr);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
