/**
 * `allpairs DIR`: distances of a folder's consecutive (or all) pairs and their mean (the
 * reference's `lpips_1dir_allpairs.py`).
 *
 * @module
 */
import { join } from "node:path";
import { LPIPS } from "../lpips/lpips.ts";
import { type Command, MODEL_USAGE, modelOptions, parse, positionals, UsageError } from "./args.ts";
import { type ImageTensor, loadImage } from "../bappsloader/image.ts";
import { fileListHash, shardRange } from "../eval/shard.ts";

import {
  allpairsLine,
  type AllpairsRow,
  finishAllpairs,
  listImages,
  pairsShardHeader,
  READING,
  shardOption,
  shardUsage,
  writeShard,
} from "./_images.ts";

/** `allpairs DIR`: distances of consecutive (or all) pairs of a folder's images, and their mean. */
export const allpairs: Command = {
  summary: "allpairs DIR        distances of consecutive files (or all pairs), with the mean",
  usage: `Usage: deno task lpips allpairs DIR [options]

  --all-pairs   every pair i<j instead of consecutive pairs (files in name order)
  --json        print {pairs: [...], mean, stderr}; otherwise one line per pair and
                "Avg: mean +/- std/sqrt(n)" as the reference prints
${shardUsage("the pairs in order")}

${MODEL_USAGE}

${READING}`,
  async run(args) {
    const { values, positionals: p } = parse(args, {
      "all-pairs": { type: "boolean" },
      shard: { type: "string" },
      out: { type: "string" },
    });
    if (values.help) return console.log(this.usage);
    const [dir] = positionals(p, 1, "one folder: allpairs DIR");
    const shard = shardOption(values);
    if (!shard && values.out !== undefined) throw new UsageError("--out needs --shard K/N");
    const names = await listImages(dir);
    if (names.length < 2) throw new UsageError(`${dir} holds fewer than two images`);
    const pairs: [string, string][] = [];
    for (let i = 0; i < names.length - 1; i++) {
      const last = values["all-pairs"] ? names.length - 1 : i + 1;
      for (let j = i + 1; j <= last; j++) pairs.push([names[i], names[j]]);
    }
    const range = shardRange(pairs.length, 1, shard ?? { index: 0, count: 1 });
    const m = await LPIPS.create(modelOptions(values));
    const cache = new Map<string, ImageTensor>();
    const load = async (n: string) => {
      if (!cache.has(n)) cache.set(n, await loadImage(join(dir, n)));
      return cache.get(n)!;
    };
    const rows: AllpairsRow[] = [];
    try {
      for (const [a, b] of pairs.slice(range.start, range.end)) {
        rows.push({ a, b, distance: (await m.distance(await load(a), await load(b)))[0] });
        if (!values.json && !shard) console.log(allpairsLine(rows.at(-1)!));
      }
    } finally {
      m.dispose();
    }
    if (shard) {
      const header = pairsShardHeader("allpairs", m, shard, {
        name: "pairs",
        total: pairs.length,
        ...range,
        files: fileListHash(dir, pairs.map(([a, b]) => [join(dir, a), join(dir, b)])),
      }, { dir });
      header.config.all_pairs = !!values["all-pairs"];
      return await writeShard(values.out as string, header, rows, range.start, "allpairs");
    }
    finishAllpairs(rows, !!values.json);
  },
};
