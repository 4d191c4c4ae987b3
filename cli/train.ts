/**
 * `lpips train`: calibration training on BAPPS 2AFC judgements (the reference's
 * `train.py`, docs/algorithm.md §6), with a progress line on stderr and a JSONL log for plotting.
 *
 * @module
 */
import { join } from "node:path";
import { checkOutputFolder } from "../_internal/output_path.ts";
import { type Command, integer, oneOf, parse, positionals, UsageError } from "./args.ts";
import { helpText } from "./help.ts";
import { checkDefaultSubsets } from "./_subsets.ts";
import {
  train,
  TRAIN_MODES,
  TrainInterrupted,
  type TrainMode,
  type TrainProgress,
} from "../lpips/train/mod.ts";
import type { NetName } from "../lpips/arch.ts";
import { BACKEND_NAMES, type BackendName } from "../lpips/backend.ts";
import { ENGINE_NAMES, type EngineName } from "../lpips/engine.ts";

function duration(s: number): string {
  if (!Number.isFinite(s)) return "?";
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = Math.floor(s % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(sec).padStart(2, "0")}s`;
}

/** The subsets `train` uses without `--datasets`: the reference's. */
const TRAIN_DATASETS = ["train/traditional", "train/cnn", "train/mix"];

/** One progress line: epoch, a bar over the epoch's batches, loss, accuracy, speed, ETA. */
export function progressLine(p: TrainProgress, width = 24): string {
  const filled = Math.round((p.batch / p.batches) * width);
  const bar = "#".repeat(filled) + "-".repeat(width - filled);
  return `epoch ${p.epoch}/${p.epochs} [${bar}] ${p.batch}/${p.batches} ` +
    `loss ${p.loss.toFixed(4)} acc ${(100 * p.accuracy).toFixed(2)}% lr ${p.lr.toExponential(2)} ` +
    `${p.itemsPerSecond.toFixed(1)} items/s ETA ${duration(p.etaSeconds)}`;
}

/** `train`: trains the linear heads (and optionally the trunk) like the reference's train.py. */
export const trainCommand: Command = {
  synopsis: "train --root DIR",
  summary: "train LPIPS on BAPPS 2AFC judgements (train.py)",
  usage: helpText({
    usage: "train --root DATASET_ROOT [options]",
    options: [
      ["--root DIR", "folder holding 2afc/ (required)"],
      ["--datasets A B ...", `2AFC subsets (default ${TRAIN_DATASETS.join(" ")})`],
      ["--net alex|squeeze|vgg", "trunk (default alex)"],
      [
        "--mode lin|tune|scratch",
        "lin: frozen pretrained trunk (default); tune: trunk trained too; scratch: random " +
        "trunk, trained (tune/scratch are much slower: a gradient through the whole trunk)",
      ],
      ["--epochs N", "epochs at the initial learning rate (default 5)"],
      ["--epochs-decay N", "epochs with the learning rate decaying linearly to 0 (default 5)"],
      ["--lr X", "initial learning rate (default 1e-4)"],
      ["--batch-size N", "default 50"],
      ["--seed S", "seeds the heads' init, the shuffles and dropout (default 0)"],
      ["--name RUN", "run name; files go to CHECKPOINTS/RUN/ (default tmp)"],
      ["--checkpoints-dir DIR", "default checkpoints"],
      ["--resume", "continue from CHECKPOINTS/RUN/latest_*"],
      ["--no-dropout", "no Dropout(0.5) before the heads (the reference trains with it)"],
      [
        "--no-trunk-clamp",
        "clamp only the heads to >= 0; the reference also clamps SqueezeNet's 1x1 trunk convs " +
        "(any 1x1 kernel in the network), which is the default",
      ],
      ["--no-shuffle", "file order, as with the reference's --serial_batches"],
      [
        "--log-every N",
        "JSONL line every N steps (default 10) in CHECKPOINTS/RUN/train_log.jsonl",
      ],
      ["--save-latest-freq N", "save latest_* every N items (default 20000)"],
      ["--workers N", "image decoding workers (default: half the cores; 0: none)"],
      [
        "--threads N",
        "on onnx: ONNX Runtime threads (default: lin, the cores the workers leave; tune, scratch: all)",
      ],
      [
        "--engine auto|onnx|tfjs",
        "what runs the trunk (default auto: onnx when it loads, else tfjs): lin: its features; " +
        "tune, scratch: trunk and heads forward and backward",
      ],
      ["--backend wasm|cpu|webgpu|tensorflow", "TF.js backend (default wasm)"],
      ["--weights-dir DIR", "folder with the trunk weights under their official names"],
      ["--json", "print the summary as one JSON object"],
    ],
    notes: [
      "Writes latest_net_.pth (LPIPS state dict, for eval --model-path), latest_net_rank.pth, " +
      "<epoch>_net_.pth, <epoch>_net_rank.pth, latest_optim.pth and latest_state.json.",
      "Ctrl-C stops after the current step, saves latest_* and exits with status 130 (a second " +
      "Ctrl-C stops at once); --resume then continues exactly where the run stopped.",
    ],
  }),
  async run(args) {
    const { values, positionals: p } = parse(args, {
      root: { type: "string" },
      datasets: { type: "string" },
      mode: { type: "string" },
      epochs: { type: "string" },
      "epochs-decay": { type: "string" },
      lr: { type: "string" },
      "batch-size": { type: "string" },
      seed: { type: "string" },
      name: { type: "string" },
      "checkpoints-dir": { type: "string" },
      resume: { type: "boolean" },
      "no-dropout": { type: "boolean" },
      "no-trunk-clamp": { type: "boolean" },
      "no-shuffle": { type: "boolean" },
      "log-every": { type: "string" },
      "save-latest-freq": { type: "string" },
      workers: { type: "string" },
      threads: { type: "string" },
    });
    if (values.help) return console.log(this.usage);
    // --datasets takes several words: the first after the flag, the rest as positionals.
    const datasets = values.datasets ? [values.datasets as string, ...p] : undefined;
    if (!datasets) positionals(p, 0, "subsets go after --datasets, the folder after --root");
    if (!values.root) throw new UsageError("--root DATASET_ROOT is required");
    if (values.uncalibrated) throw new UsageError("--uncalibrated cannot be trained");
    if (values.version && values.version !== "0.1") {
      throw new UsageError("training uses version 0.1 (as the reference's trainer)");
    }
    const lr = values.lr === undefined ? 1e-4 : Number(values.lr);
    if (!(lr > 0)) throw new UsageError(`--lr must be a positive number (got ${values.lr})`);
    if (!datasets) await checkDefaultSubsets(values.root as string, "2afc", TRAIN_DATASETS);
    const name = (values.name as string | undefined) ?? "tmp";
    const checkpointsDir = (values["checkpoints-dir"] as string | undefined) ?? "checkpoints";
    await checkOutputFolder(join(checkpointsDir, name));
    const isTty = Deno.stderr.isTerminal();
    const enc = new TextEncoder();
    let lastPrint = 0;
    // Ctrl-C (or SIGTERM): the first stops the run before its next step and saves latest_* where
    // it stands, then exits 130 (143); a second stops at once. Checkpoint sets are renamed
    // synchronously, so the handler never runs between two renames: the last complete checkpoint
    // stays intact either way.
    const stop = new AbortController();
    let exitCode = 130;
    const listeners: [Deno.Signal, () => void][] = [];
    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
      const listener = () => {
        if (!stop.signal.aborted) {
          exitCode = code;
          return stop.abort();
        }
        const at = join(checkpointsDir, name);
        console.error(`lpips train: interrupted again; stopped at once (last checkpoint: ${at})`);
        Deno.exit(code);
      };
      try {
        Deno.addSignalListener(signal, listener);
        listeners.push([signal, listener]);
      } catch {
        // SIGTERM cannot be listened to on Windows
      }
    }
    let summary;
    try {
      summary = await train({
        root: values.root as string,
        datasets: datasets ?? TRAIN_DATASETS,
        net: oneOf<NetName>("net", values.net === "vgg16" ? "vgg" : values.net, [
          "alex",
          "squeeze",
          "vgg",
        ], "alex"),
        mode: oneOf<TrainMode>("mode", values.mode, TRAIN_MODES, "lin"),
        epochs: integer("epochs", values.epochs, 5, 0),
        epochsDecay: integer("epochs-decay", values["epochs-decay"], 5, 0),
        lr,
        batchSize: integer("batch-size", values["batch-size"], 50, 1),
        seed: integer("seed", values.seed, 0, 0),
        name,
        checkpointsDir,
        resume: Boolean(values.resume),
        dropout: !values["no-dropout"],
        clampTrunk1x1: !values["no-trunk-clamp"],
        shuffle: !values["no-shuffle"],
        logEvery: integer("log-every", values["log-every"], 10, 1),
        saveLatestFreq: integer("save-latest-freq", values["save-latest-freq"], 20000, 1),
        workers: values.workers === undefined
          ? undefined
          : integer("workers", values.workers, 0, 0),
        threads: values.threads === undefined
          ? undefined
          : integer("threads", values.threads, 0, 1),
        backend: oneOf<BackendName>("backend", values.backend, BACKEND_NAMES, "wasm"),
        engine: oneOf<EngineName>("engine", values.engine, ENGINE_NAMES, "auto"),
        weightsDir: values["weights-dir"] as string | undefined,
        onProgress: (pr) => {
          const now = performance.now();
          const end = pr.batch === pr.batches;
          if (!end && now - lastPrint < (isTty ? 200 : 10000)) return;
          lastPrint = now;
          const line = progressLine(pr);
          Deno.stderr.writeSync(
            enc.encode(isTty ? `\r${line}\x1b[K${end ? "\n" : ""}` : `${line}\n`),
          );
        },
        signal: stop.signal,
      });
    } catch (e) {
      if (!(e instanceof TrainInterrupted)) throw e;
      if (isTty) Deno.stderr.writeSync(enc.encode("\n"));
      console.error(`lpips train: ${e.message}`);
      Deno.exit(exitCode);
    } finally {
      for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
    }
    const out = {
      checkpoint: summary.checkpoint,
      log: join(checkpointsDir, name, "train_log.jsonl"),
      steps: summary.steps,
      loss: summary.loss,
      accuracy: summary.accuracy,
      seconds: Number(summary.seconds.toFixed(1)),
    };
    if (values.json) console.log(JSON.stringify(out));
    else {
      console.log(
        `Trained ${out.steps} steps in ${out.seconds}s; last epoch: loss ` +
          `${out.loss.toFixed(4)}, accuracy ${(100 * out.accuracy).toFixed(2)}%`,
      );
      console.log(`Checkpoint: ${out.checkpoint} (use: eval --model-path ${out.checkpoint})`);
      console.log(`Log: ${out.log}`);
    }
  },
};
