/**
 * `dirs DIR0 DIR1`: the distance of every file name in both folders (the reference's
 * `lpips_2dirs.py`).
 *
 * @module
 */
import { join } from "node:path";
import { LPIPS } from "../lpips/lpips.ts";
import { type Command, MODEL_USAGE, modelOptions, parse, positionals, UsageError } from "./args.ts";
import { loadImage } from "../bappsloader/image.ts";
import { fileListHash, shardRange } from "../eval/shard.ts";

import {
  dirsLine,
  type DirsRow,
  finishDirs,
  listImages,
  pairsShardHeader,
  READING,
  shardOption,
  shardUsage,
  writeShard,
} from "./_images.ts";

/** `dirs DIR0 DIR1`: the distance for every image file name present in both folders. */
export const dirs: Command = {
  summary: "dirs DIR0 DIR1      distance for every file name present in both folders",
  usage: `Usage: deno task lpips dirs DIR0 DIR1 [options]

  --out FILE   also write the "name: distance" lines to FILE
  --json       print a JSON array of {file, distance}
${shardUsage("the file names in both folders, sorted")}

${MODEL_USAGE}

${READING}`,
  async run(args) {
    const { values, positionals: p } = parse(args, {
      out: { type: "string" },
      shard: { type: "string" },
    });
    if (values.help) return console.log(this.usage);
    const [d0, d1] = positionals(p, 2, "two folders: dirs DIR0 DIR1");
    const shard = shardOption(values);
    const in1 = new Set(await listImages(d1));
    const names = (await listImages(d0)).filter((n) => in1.has(n));
    if (names.length === 0) {
      throw new UsageError(`no image file name is present in both ${d0} and ${d1}`);
    }
    const range = shardRange(names.length, 1, shard ?? { index: 0, count: 1 });
    const m = await LPIPS.create(modelOptions(values));
    const rows: DirsRow[] = [];
    try {
      for (const name of names.slice(range.start, range.end)) {
        const [a, b] = await Promise.all([loadImage(join(d0, name)), loadImage(join(d1, name))]);
        rows.push({ file: name, distance: (await m.distance(a, b))[0] });
        if (!values.json && !shard) console.log(dirsLine(rows.at(-1)!));
      }
    } finally {
      m.dispose();
    }
    if (shard) {
      const header = pairsShardHeader("dirs", m, shard, {
        name: "files",
        total: names.length,
        ...range,
        files: fileListHash(d0, names.map((n) => [join(d0, n)])),
      }, { dir0: d0, dir1: d1 });
      return await writeShard(values.out as string, header, rows, range.start, "dirs");
    }
    await finishDirs(rows, { json: !!values.json, out: values.out as string | undefined });
  },
};
