/**
 * `dirs DIR0 DIR1`: the distance of every file name in both folders (the reference's
 * `lpips_2dirs.py`).
 *
 * @module
 */
import { join } from "node:path";
import { checkOutputFiles } from "../_internal/output_path.ts";
import { LPIPS } from "../lpips/lpips.ts";
import {
  type Command,
  METRIC_HELP,
  metricOptions,
  MODEL_HELP,
  modelOptions,
  parse,
  positionals,
  singleMetric,
  UsageError,
} from "./args.ts";
import { fileListHash, shardRange } from "../eval/shard.ts";
import { helpText } from "./help.ts";
import {
  dirsLine,
  type DirsRow,
  finishDirs,
  listImages,
  lpipsPairScore,
  metricPairScore,
  outShardHelp,
  PAIR_FAILURES,
  type PairScore,
  pairsFailed,
  pairsShardHeader,
  READING,
  scorePairs,
  shardOption,
  writeShard,
} from "./_images.ts";

/** `dirs DIR0 DIR1`: the distance for every image file name present in both folders. */
export const dirs: Command = {
  synopsis: "dirs DIR0 DIR1",
  summary: "distance for every file name present in both folders",
  usage: helpText({
    usage: "dirs DIR0 DIR1 [options]",
    about: ['Prints "name: distance" for every image file name present in both folders.'],
    options: [
      ["--json", "print a JSON array of {file, distance}"],
      ...outShardHelp("the file names in both folders, sorted"),
    ],
    sections: [METRIC_HELP, MODEL_HELP],
    notes: [PAIR_FAILURES, READING],
  }),
  async run(args) {
    const { values, positionals: p } = parse(args, {
      out: { type: "string" },
      shard: { type: "string" },
      metric: { type: "string" },
      colorspace: { type: "string" },
      ppd: { type: "string" },
      "trunk-path": { type: "string" },
    });
    if (values.help) return console.log(this.usage);
    const [d0, d1] = positionals(p, 2, "two folders: dirs DIR0 DIR1");
    const shard = shardOption(values);
    // The output is checked before any image is scored (a folder, a missing parent, ...).
    const out = values.out as string | undefined;
    if (out !== undefined) await checkOutputFiles([out]);
    const in1 = new Set(await listImages(d1));
    const names = (await listImages(d0)).filter((n) => in1.has(n));
    if (names.length === 0) {
      throw new UsageError(`no image file name is present in both ${d0} and ${d1}`);
    }
    const range = shardRange(names.length, 1, shard ?? { index: 0, count: 1 });
    const mine = names.slice(range.start, range.end);
    const info = singleMetric(values);
    if (shard && info.name !== "lpips") {
      throw new UsageError(`--shard works with --metric lpips only (got --metric ${info.name})`);
    }
    const other = info.name === "lpips" ? undefined : await info.create(metricOptions(values));
    const m = other ? undefined : await LPIPS.create(modelOptions(values));
    const score: PairScore = other ? metricPairScore(other) : lpipsPairScore(m!);
    const withScore = (v: number | null) =>
      other ? { distance: v === null ? null : info.toDistance(v), score: v } : { distance: v };
    const rows: DirsRow[] = [];
    let failed: number;
    try {
      const pairs = mine.map((n) => [join(d0, n), join(d1, n)] as const);
      failed = await scorePairs(score, pairs, "lpips dirs", (i, distance, error) => {
        const file = mine[i];
        const value = withScore(distance);
        rows.push(error === undefined ? { file, ...value } : { file, ...value, error });
        if (!values.json && !shard && error === undefined) console.log(dirsLine(rows.at(-1)!));
      });
    } finally {
      (other ?? m!).dispose();
    }
    if (shard) {
      if (failed) throw pairsFailed(failed, rows.length, `${out} not written`);
      const header = pairsShardHeader("dirs", m!, shard, {
        name: "files",
        total: names.length,
        ...range,
        files: fileListHash(d0, names.map((n) => [join(d0, n)])),
      }, { dir0: d0, dir1: d1 });
      return await writeShard(out!, header, rows, range.start, "dirs");
    }
    if (failed) {
      if (values.json) await finishDirs(rows, { json: true });
      throw pairsFailed(failed, rows.length, out && `${out} not written`);
    }
    await finishDirs(rows, { json: !!values.json, out });
  },
};
