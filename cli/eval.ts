/**
 * `lpips eval`: the reference's `test_dataset_model.py` on the command line (the
 * contract of README's "Command line"). Scores go to stdout (the reference's `  Dataset [val/traditional]: 72.17` lines, or
 * one JSON object with `--json`); progress and errors go to stderr.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { extname } from "node:path";
import { type Bar, progressBar } from "../_internal/progress_bar.ts";
import {
  type Command,
  integer,
  MODEL_HELP,
  modelOptions,
  oneOf,
  parse,
  positionals,
  UsageError,
} from "./args.ts";
import { type Colorspace, COLORSPACES } from "../baselines/l2.ts";
import { BAPPS_MODES, type BappsMode, distinctSubsets } from "../bappsloader/layout.ts";
import { jndCsv, twoAFCCsv } from "../eval/csv.ts";
import { trapInterrupts } from "./interrupt.ts";
import { helpText } from "./help.ts";
import { checkDefaultSubsets } from "./_subsets.ts";
import { parseShard, type ShardSpec } from "../eval/shard.ts";
import {
  SHARD_FILE_VERSION,
  type ShardHeader,
  type ShardRow,
  writeShardFile,
} from "../eval/shard_file.ts";
import { partPath, writeFilesAtomic } from "../_internal/atomic_write.ts";
import { readFailure, writeFailure } from "../_internal/fs_errors.ts";
import { checkOutputFiles } from "../_internal/output_path.ts";
import { readRegularFile } from "../_internal/read_file.ts";
import { MAX_PTH_BYTES } from "../lpips/pth/pth.ts";
import {
  EVAL_MODELS,
  type EvalModel,
  type EvalProgress,
  evaluate,
  type EvaluateResult,
  JND_VAL_DATASETS,
  type JNDItems,
  TWOAFC_VAL_DATASETS,
  type TwoAFCItems,
} from "../eval/runner.ts";
import { findMetric } from "../metrics/registry.ts";

const EVAL_OPTIONS = {
  "dataset-mode": { type: "string" },
  root: { type: "string" },
  model: { type: "string" },
  colorspace: { type: "string" },
  "batch-size": { type: "string" },
  "model-path": { type: "string" },
  "trunk-path": { type: "string" },
  "per-item": { type: "string" },
  bootstrap: { type: "string" },
  seed: { type: "string" },
  workers: { type: "string" },
  threads: { type: "string" },
  quiet: { type: "boolean", short: "q" },
  shard: { type: "string" },
  out: { type: "string" },
} as const;

/**
 * Where `--per-item OUT.csv` writes a dataset's rows: `OUT.csv` itself when one dataset is
 * evaluated, else `OUT.<dataset with / as _>.csv` (e.g. `OUT.val_traditional.csv`).
 *
 * @example
 * ```ts
 * import { perItemPath } from "./eval.ts";
 * console.log(perItemPath("out/items.csv", "val/cnn", 2)); // out/items.val_cnn.csv
 * console.log(perItemPath("out/items.csv", "val/cnn", 1)); // out/items.csv
 * ```
 */
export function perItemPath(out: string, dataset: string, datasets: number): string {
  if (datasets === 1) return out;
  const ext = extname(out);
  const stem = ext ? out.slice(0, -ext.length) : out;
  return `${stem}.${dataset.replace(/[\\/]+/g, "_")}${ext || ".csv"}`;
}

/**
 * The JSON object of `eval --json`: mode, model, net, version, colorspace and per dataset the
 * score (a fraction), the item count and the bootstrap interval.
 *
 * @example
 * ```ts
 * import { evaluate } from "../eval/runner.ts";
 * import { evalJson } from "./eval.ts";
 * const r = await evaluate({ root: "dataset", datasets: ["val/cnn"] });
 * console.log(JSON.stringify(evalJson(r)));
 * ```
 */
export function evalJson(r: EvaluateResult): Record<string, unknown> {
  const results: Record<string, { score: number; n: number; ci95: [number, number] | null }> = {};
  for (const d of r.results) results[d.dataset] = { score: d.score, n: d.n, ci95: d.ci95 };
  return {
    dataset_mode: r.mode,
    model: r.model,
    net: r.net,
    version: r.version,
    colorspace: r.colorspace,
    results,
  };
}

/** `--model NAME`: lpips (default), baseline, or a registered metric, by its canonical name. */
function evalModelOption(value: unknown): EvalModel {
  if (value === undefined) return "lpips";
  const v = String(value);
  if (v === "lpips" || v === "baseline") return v;
  try {
    return findMetric(v).name;
  } catch {
    throw new UsageError(`--model must be one of ${EVAL_MODELS.join(", ")} (got "${v}")`);
  }
}

/** `eval`: 2AFC score or JND mAP of a model on BAPPS datasets. */
export const evalCommand: Command = {
  synopsis: "eval --root DIR",
  summary: "BAPPS 2AFC score or JND mAP (test_dataset_model.py)",
  usage: helpText({
    usage: "eval --root DATASET_ROOT [options]",
    options: [
      ["--dataset-mode 2afc|jnd", "default 2afc"],
      ["--root DIR", "the folder that holds 2afc/ and jnd/ (the reference's dataroot)"],
      [
        "--datasets NAME ...",
        "one or more subsets, each scored separately (default: the six 2AFC val sets " +
        `${TWOAFC_VAL_DATASETS.join(" ")}; jnd: ${JND_VAL_DATASETS.join(" ")})`,
      ],
      [
        "--model NAME",
        "default lpips; baseline = LPIPS without the linear heads (uncalibrated; it honours " +
        "--version, whose default 0.1 is the reference's baseline); l2, ssim (ranked by " +
        "DSSIM = (1 - SSIM) / 2) or any metric of `lpips metrics` (psnr, msssim, fsim, fsimc, " +
        "gmsd, flip, pyiqa's spellings too), ranked by its distance: 2AFC and JND follow the " +
        "metric's direction",
      ],
      ["--colorspace Lab|RGB", "l2 and ssim only (default Lab)"],
      ["--batch-size N", "items per batch (default 50)"],
      [
        "--model-path FILE",
        "lpips: linear heads (.pth with lin{k}.model.1.weight), the reference's --model_path",
      ],
      ["--trunk-path FILE", "dists, lpips --net vgg: an explicit VGG16 file"],
      [
        "--json",
        "print one JSON object: dataset_mode, model, net, version, colorspace, results " +
        "{dataset: {score (a fraction), n, ci95}}",
      ],
      [
        "--per-item OUT.csv",
        "write per-item rows (2afc: index,d0,d1,judge,ref,p0,p1; jnd: index,d,same,p0,p1); " +
        "with several datasets one file each, OUT.val_traditional.csv, OUT.val_cnn.csv, ...",
      ],
      ["--bootstrap N", "bootstrap resamples of the 95% interval (default 1000; 0: none)"],
      ["--seed S", "bootstrap seed (default 0)"],
      [
        "--workers N",
        "read, decode and score batches in N worker threads, each with its own copy of the " +
        "model (default: one per core, at most 8; none for datasets of at most 2 batches; " +
        "0: all on the main thread); with --engine tfjs they only decode images",
      ],
      [
        "--threads N",
        "ONNX Runtime threads of each copy (default: the cores shared out among the workers)",
      ],
      ["--quiet, -q", "no progress on stderr"],
      [
        "--shard K/N",
        "compute only shard K of N (K from 0, e.g. $JOB_COMPLETION_INDEX/4 or " +
        "$SLURM_ARRAY_TASK_ID/4): every dataset, in sorted order, is cut into N contiguous " +
        "blocks of whole batches; needs --out; scores come from `lpips merge` of all N files",
      ],
      [
        "--out FILE",
        "write the mergeable per-item file (JSON Lines) of this shard (of the whole run " +
        "without --shard); see `lpips merge --help`",
      ],
    ],
    sections: [MODEL_HELP],
    notes: [
      "Outputs are written to NAME.part and renamed when complete. Ctrl-C (SIGINT) or SIGTERM " +
      'stops the run with "interrupted: no results written", exit status 130 (SIGTERM: 143).',
      "Images are read as the reference's loader does: RGB, Resize(64) (Pillow bilinear), " +
      "[-1, 1].",
    ],
  }),
  async run(args) {
    const { datasets, rest } = takeDatasets(args);
    const { values, positionals: p } = parse(rest, EVAL_OPTIONS);
    if (values.help) return console.log(this.usage);
    positionals(p, 0, "subsets go after --datasets");
    const mode = oneOf<BappsMode>("dataset-mode", values["dataset-mode"], BAPPS_MODES, "2afc");
    const model = evalModelOption(values.model);
    const root = values.root as string | undefined;
    if (!root) {
      throw new UsageError("--root DATASET_ROOT is required (the folder with 2afc/, jnd/)");
    }
    if (values.uncalibrated) throw new UsageError("use --model baseline instead of --uncalibrated");
    const colorspace = oneOf<Colorspace>("colorspace", values.colorspace, COLORSPACES, "Lab");
    const batchSize = integer("batch-size", values["batch-size"], 50, 1);
    const bootstrap = integer("bootstrap", values.bootstrap, 1000, 0);
    const seed = integer("seed", values.seed, 0, -(2 ** 31));
    const threads = values.threads === undefined
      ? undefined
      : integer("threads", values.threads, 0, 1);
    const workers = values.workers === undefined
      ? undefined
      : integer("workers", values.workers, 0, 0);
    const modelPath = values["model-path"] as string | undefined;
    if (modelPath !== undefined && model !== "lpips") {
      throw new UsageError(`--model-path applies to --model lpips only (got --model ${model})`);
    }
    const trunkPath = values["trunk-path"] as string | undefined;
    const vgg = values.net === "vgg" || values.net === "vgg16";
    if (
      trunkPath !== undefined && model !== "dists" &&
      !((model === "lpips" || model === "baseline") && vgg)
    ) {
      throw new UsageError("--trunk-path applies to --model dists and to lpips with --net vgg");
    }
    const perItem = values["per-item"] as string | undefined;
    // One name per subset (`val//traditional` is `val/traditional`), so none is scored twice.
    const defaults = mode === "2afc" ? TWOAFC_VAL_DATASETS : JND_VAL_DATASETS;
    const names = distinctSubsets(datasets ?? defaults);
    if (perItem !== undefined) {
      await checkOutputFiles(names.map((d) => perItemPath(perItem, d, names.length)));
    }
    const out = values.out as string | undefined;
    let shard: ShardSpec | undefined;
    if (values.shard !== undefined) {
      try {
        shard = parseShard(values.shard as string);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      if (out === undefined) {
        throw new UsageError("--shard K/N needs --out FILE (the shard's mergeable results)");
      }
    }
    if (out !== undefined) {
      if (values.json || perItem !== undefined) {
        throw new UsageError(
          `--out writes a shard's items; ${values.json ? "--json" : "--per-item"} belongs to ` +
            "`lpips merge` of all shards",
        );
      }
      await checkOutputFiles([out]);
    }
    if (!datasets) await checkDefaultSubsets(root, mode, defaults);
    const modelSha256 = modelPath === undefined ? null : await sha256File(modelPath);
    const m = modelOptions(values);
    let done = 0, all: number | undefined;
    const trap = trapInterrupts(
      "lpips eval",
      () => all === undefined ? `${done} items done` : `${done} of ${all} items done`,
    );
    const reporter = values.quiet ? undefined : progressReporter();
    const onProgress = (p: EvalProgress) => {
      done = p.allDone;
      all = p.allTotal;
      reporter?.update(p);
    };
    let r: EvaluateResult;
    try {
      try {
        r = await evaluate({
          root,
          mode,
          datasets: names,
          model,
          net: m.net,
          version: m.version,
          colorspace,
          batchSize,
          modelPath,
          engine: m.engine,
          backend: m.backend,
          weightsDir: m.weightsDir,
          trunkPath,
          quiet: !!values.quiet,
          bootstrap: out === undefined ? bootstrap : 0,
          seed,
          workers,
          threads,
          shard,
          onProgress,
        });
      } finally {
        reporter?.stop();
      }
      if (out !== undefined) {
        trap.parts.add(partPath(out));
        const header = shardHeader(r, { resamples: bootstrap, seed }, modelSha256, {
          root,
          model_path: modelPath ?? null,
        });
        try {
          await writeShardFile(out, header, shardRows(r));
        } catch (e) {
          throw new UsageError(`cannot write ${out} (${e instanceof Error ? e.message : e})`);
        }
        if (!values.quiet) {
          const s = r.shard ?? { index: 0, count: 1 };
          console.error(`lpips eval: wrote ${out} (shard ${s.index}/${s.count}, ${done} items)`);
        }
        return;
      }
      await reportEval(r, { json: !!values.json, perItem, quiet: !!values.quiet }, trap.parts);
    } finally {
      trap.release();
    }
  },
};

/**
 * Prints an evaluation's scores (the reference's lines, or `--json`'s object) and writes the
 * `--per-item` CSV files (each to `NAME.part`, all renamed once all are written). Shared by
 * `eval` and `merge`.
 *
 * @example
 * ```ts
 * import { evaluate } from "../eval/runner.ts";
 * import { reportEval } from "./eval.ts";
 * const r = await evaluate({ root: "dataset", datasets: ["val/cnn"], model: "l2" });
 * await reportEval(r, { json: true, perItem: "items.csv", quiet: true });
 * ```
 */
export async function reportEval(
  r: EvaluateResult,
  options: { json: boolean; perItem?: string; quiet: boolean; prefix?: string },
  parts: Set<string> = new Set(),
): Promise<void> {
  const prefix = options.prefix ?? "lpips eval";
  if (options.perItem) {
    const files = r.results.map((d) =>
      [
        perItemPath(options.perItem!, d.dataset, r.results.length),
        r.mode === "2afc"
          ? twoAFCCsv((({ d0, d1, judge, paths }: TwoAFCItems) => ({ d0, d1, judge, paths }))(
            d.items as TwoAFCItems,
          ))
          : jndCsv((({ d, same, paths }: JNDItems) => ({ d, same, paths }))(d.items as JNDItems)),
      ] as const
    );
    await writeFilesAtomic(files, {
      parts,
      onError: (path, e) => new UsageError(`${path}: cannot write (${writeFailure(e, path)})`),
    });
    if (!options.quiet) {
      for (const [path] of files) console.error(`${prefix}: wrote ${path}`);
    }
  }
  if (options.json) return console.log(JSON.stringify(evalJson(r)));
  const what = r.model === "lpips" || r.model === "baseline"
    ? `${r.model} (${r.net}, v${r.version})`
    : r.model === "ssim" || r.model === "l2"
    ? `${r.model === "ssim" ? "ssim (DSSIM)" : "l2"} (${r.colorspace})`
    : `${r.model} (ranked by ${findMetric(r.model).distanceRule})`;
  console.log(`Evaluating ${r.mode} with ${what}`);
  for (const d of r.results) {
    const ci = d.ci95
      ? `  [95% CI ${(100 * d.ci95[0]).toFixed(2)}, ${(100 * d.ci95[1]).toFixed(2)}]`
      : "";
    console.log(`  Dataset [${d.dataset}]: ${(100 * d.score).toFixed(2)}${ci}  (n=${d.n})`);
  }
}

/** The configuration that must be equal in every shard of one run (see `shard_file.ts`). */
function shardHeader(
  r: EvaluateResult,
  boot: { resamples: number; seed: number },
  modelSha256: string | null,
  inputs: ShardHeader["inputs"],
): ShardHeader {
  return {
    format: "lpips-shard",
    version: SHARD_FILE_VERSION,
    command: "eval",
    config: {
      dataset_mode: r.mode,
      model: r.model,
      net: r.net,
      version: r.version,
      colorspace: r.colorspace,
      datasets: r.results.map((d) => d.dataset),
      model_path_sha256: modelSha256,
      batch_size: r.batchSize,
      engine: r.engine,
      backend: r.backend,
      bootstrap: boot.resamples,
      seed: boot.seed,
    },
    shard: r.shard ?? { index: 0, count: 1 },
    lists: r.results.map((d) => ({
      name: d.dataset,
      total: d.total,
      start: d.start,
      end: d.start + d.n,
      files: d.listHash,
    })),
    inputs,
  };
}

/** One row per item of every dataset, with its index in the whole dataset. */
function shardRows(r: EvaluateResult): ShardRow[] {
  const rows: ShardRow[] = [];
  for (const d of r.results) {
    for (let i = 0; i < d.n; i++) {
      const base = { list: d.dataset, index: d.start + i };
      if (r.mode === "2afc") {
        const it = d.items as TwoAFCItems;
        rows.push({ ...base, d0: it.d0[i], d1: it.d1[i], judge: it.judge[i], paths: it.paths[i] });
      } else {
        const it = d.items as JNDItems;
        rows.push({ ...base, d: it.d[i], same: it.same[i], paths: it.paths[i] });
      }
    }
  }
  return rows;
}

async function sha256File(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(path, { maxBytes: MAX_PTH_BYTES, what: "a weight file" });
  } catch (e) {
    throw new UsageError(`${path}: cannot read (${readFailure(e)})`);
  }
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Pulls `--datasets A B C` (argparse's `nargs='+'`: every following argument up to the next
 * option) and `--datasets=A,B` out of the arguments. Repeating `--datasets` adds to the list.
 */
function takeDatasets(args: string[]): { datasets?: string[]; rest: string[] } {
  let datasets: string[] | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      rest.push(...args.slice(i));
      break;
    }
    if (a === "--datasets" || a.startsWith("--datasets=")) {
      datasets ??= [];
      const before = datasets.length;
      if (a.includes("=")) {
        datasets.push(...a.slice(a.indexOf("=") + 1).split(",").filter((s) => s !== ""));
      } else {
        while (i + 1 < args.length && !args[i + 1].startsWith("-")) datasets.push(args[++i]);
      }
      if (datasets.length === before) throw new UsageError("--datasets needs at least one name");
    } else rest.push(a);
  }
  return { datasets, rest };
}

/**
 * Progress on stderr: a cli-progress bar with items/s and ETA on a terminal, else a plain line
 * at every 10% of a dataset and at its end.
 */
function progressReporter(): { update: (p: EvalProgress) => void; stop: () => void } {
  const tty = Deno.stderr.isTerminal();
  let bar: Bar | undefined;
  let current = "";
  let t0 = 0;
  let nextLine = 0;
  const stats = (p: EvalProgress) => {
    const secs = (performance.now() - t0) / 1000;
    const rate = secs > 0 ? p.done / secs : 0;
    const eta = rate > 0 ? (p.total - p.done) / rate : NaN;
    return { rate: rate.toFixed(1), left: Number.isFinite(eta) ? `${Math.round(eta)}s` : "?" };
  };
  return {
    update(p) {
      if (p.dataset !== current) {
        bar?.stop();
        bar = undefined;
        current = p.dataset;
        t0 = performance.now();
        nextLine = p.total / 10;
        if (tty) {
          bar = progressBar(
            `${p.dataset} [{bar}] {value}/{total} items | {rate} items/s | ETA {left}`,
          );
          bar.start(p.total, p.done, { rate: "0.0", left: "?" });
        }
        if (p.done === 0) return;
      }
      const s = stats(p);
      if (bar) return bar.update(p.done, s);
      if (p.done < nextLine && p.done < p.total) return;
      while (nextLine <= p.done) nextLine += p.total / 10;
      console.error(
        `lpips eval: ${p.dataset} ${p.done}/${p.total} items, ${s.rate} items/s` +
          (p.done < p.total ? `, ETA ${s.left}` : ""),
      );
    },
    stop() {
      bar?.stop();
    },
  };
}
