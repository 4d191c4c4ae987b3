/**
 * `allpairs DIR`: distances of a folder's consecutive (or all) pairs and their mean (the
 * reference's `lpips_1dir_allpairs.py`).
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
  allpairsLine,
  type AllpairsRow,
  finishAllpairs,
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

/** `allpairs DIR`: distances of consecutive (or all) pairs of a folder's images, and their mean. */
export const allpairs: Command = {
  synopsis: "allpairs DIR",
  summary: "consecutive (or all) pairs of a folder, and the mean",
  usage: helpText({
    usage: "allpairs DIR [options]",
    about: [
      'Prints "a, b: distance" for consecutive image files of DIR (in name order), then ' +
      '"Avg: mean +/- std/sqrt(n)" as the reference prints.',
    ],
    options: [
      ["--all-pairs", "every pair i<j instead of consecutive pairs"],
      ["--json", "print {pairs: [{a, b, distance}, ...], mean, stderr}"],
      ...outShardHelp("the pairs in order"),
    ],
    sections: [METRIC_HELP, MODEL_HELP],
    notes: [PAIR_FAILURES, READING],
  }),
  async run(args) {
    const { values, positionals: p } = parse(args, {
      "all-pairs": { type: "boolean" },
      shard: { type: "string" },
      metric: { type: "string" },
      colorspace: { type: "string" },
      ppd: { type: "string" },
      "trunk-path": { type: "string" },
      out: { type: "string" },
    });
    if (values.help) return console.log(this.usage);
    const [dir] = positionals(p, 1, "one folder: allpairs DIR");
    const shard = shardOption(values);
    // The output is checked before any image is scored (a folder, a missing parent, ...).
    const out = values.out as string | undefined;
    if (out !== undefined) await checkOutputFiles([out]);
    const names = await listImages(dir);
    if (names.length < 2) throw new UsageError(`${dir} holds fewer than two images`);
    const pairs: [string, string][] = [];
    for (let i = 0; i < names.length - 1; i++) {
      const last = values["all-pairs"] ? names.length - 1 : i + 1;
      for (let j = i + 1; j <= last; j++) pairs.push([names[i], names[j]]);
    }
    const range = shardRange(pairs.length, 1, shard ?? { index: 0, count: 1 });
    const mine = pairs.slice(range.start, range.end);
    const info = singleMetric(values);
    if (shard && info.name !== "lpips") {
      throw new UsageError(`--shard works with --metric lpips only (got --metric ${info.name})`);
    }
    const other = info.name === "lpips" ? undefined : await info.create(metricOptions(values));
    const m = other ? undefined : await LPIPS.create(modelOptions(values));
    const score: PairScore = other ? metricPairScore(other) : lpipsPairScore(m!);
    const withScore = (v: number | null) =>
      other ? { distance: v === null ? null : info.toDistance(v), score: v } : { distance: v };
    const rows: AllpairsRow[] = [];
    let failed: number;
    try {
      const paths = mine.map(([a, b]) => [join(dir, a), join(dir, b)] as const);
      failed = await scorePairs(score, paths, "lpips allpairs", (i, distance, error) => {
        const [a, b] = mine[i];
        const value = withScore(distance);
        rows.push(error === undefined ? { a, b, ...value } : { a, b, ...value, error });
        if (!values.json && !shard && error === undefined) {
          console.log(allpairsLine(rows.at(-1)!));
        }
      });
    } finally {
      (other ?? m!).dispose();
    }
    if (shard) {
      if (failed) throw pairsFailed(failed, rows.length, `${out} not written`);
      const header = pairsShardHeader("allpairs", m!, shard, {
        name: "pairs",
        total: pairs.length,
        ...range,
        files: fileListHash(dir, pairs.map(([a, b]) => [join(dir, a), join(dir, b)])),
      }, { dir });
      header.config.all_pairs = !!values["all-pairs"];
      return await writeShard(out!, header, rows, range.start, "allpairs");
    }
    if (failed) {
      if (values.json) await finishAllpairs(rows, { json: true });
      const skipped = `no mean printed${out ? `, ${out} not written` : ""}`;
      throw pairsFailed(failed, rows.length, skipped);
    }
    await finishAllpairs(rows, { json: !!values.json, out });
  },
};
