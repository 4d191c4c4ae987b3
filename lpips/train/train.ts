/**
 * Calibration training of the LPIPS linear heads (and optionally the trunk) on BAPPS 2AFC
 * judgements, as the reference's `train.py` + `lpips.Trainer` do it (docs/algorithm.md §6): the ranking
 * head and BCE loss, Adam (lr 1e-4, betas 0.5/0.999) exactly as PyTorch 1.13 computes it,
 * Dropout(0.5) in front of each head, the clamp of every 1x1-kernel weight to >= 0 after each step,
 * the constant-then-linear-decay schedule, shuffled batches, checkpoints that `torch.load` reads.
 *
 * Modes: `lin` (pretrained trunk frozen; its features are computed once per batch without
 * gradients), `tune` (pretrained trunk trained too), `scratch` (random trunk, trained).
 *
 * Checkpoints: see checkpoint.ts. With `signal`, {@link train} stops between two steps when it
 * is aborted, saves `latest`, and throws {@link TrainInterrupted}.
 *
 * @example The reference's recipe (not run by the doc tests: ten epochs of training)
 * ```ts ignore
 * import { train } from "./train.ts";
 * const summary = await train({
 *   root: "dataset", datasets: ["train/traditional"], net: "alex", mode: "lin",
 *   epochs: 5, epochsDecay: 5, name: "alex_lin", seed: 1,
 * });
 * console.log(summary.checkpoint); // checkpoints/alex_lin/latest_net_.pth
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { Prng, STREAM } from "./_prng.ts";
import { listTwoAFC } from "../../bappsloader/layout.ts";
import {
  defaultDecodeWorkers,
  inferenceThreads,
  twoAFCBatches,
} from "../../bappsloader/dataset.ts";

import { Trainer, type TrainerOptions, type TrainMode } from "./trainer.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";

/** Progress of a run, reported after every step. */
export interface TrainProgress {
  /** The current epoch (1-based). */
  epoch: number;
  /** Epochs in the whole run (`epochs + epochsDecay`). */
  epochs: number;
  /** Batches done in this epoch, and its number of batches. */
  batch: number;
  /** Batches per epoch. */
  batches: number;
  /** Steps taken in all (one per batch). */
  step: number;
  /** Running means over the epoch so far. */
  loss: number;
  /** Running mean of the 2AFC training accuracy over the epoch so far. */
  accuracy: number;
  /** The learning rate of the step just taken. */
  lr: number;
  /** Training triplets per second since the run (or the resume) started. */
  itemsPerSecond: number;
  /** Seconds left for the whole run at the current speed. */
  etaSeconds: number;
}

/** Options of {@link train}. */
export interface TrainOptions extends Omit<TrainerOptions, "initial"> {
  /** The dataset root (holds `2afc/`). */
  root: string;
  /** 2AFC subsets (default the reference's train/traditional, train/cnn, train/mix). */
  datasets?: string[];
  /** Epochs at the initial learning rate (default 5) and decay epochs (default 5). */
  epochs?: number;
  /** Epochs after which, one by one, the learning rate drops by `lr / epochsDecay` (default 5). */
  epochsDecay?: number;
  /** Triplets per batch, i.e. per Adam step (default 50). */
  batchSize?: number;
  /** The run's name: checkpoints go to `<checkpointsDir>/<name>/` (default "tmp"). */
  name?: string;
  /** The folder of every run's checkpoint folder (default "checkpoints"). */
  checkpointsDir?: string;
  /** Continue from `latest` in the run's folder. */
  resume?: boolean;
  /** Shuffle the items every epoch (default true). */
  shuffle?: boolean;
  /** Write a JSONL line every this many steps (default 10). */
  logEvery?: number;
  /** Save `latest` every this many items (default 20000, the reference's). */
  saveLatestFreq?: number;
  /** Decoding workers for the loader (default: half the cores; 0: on this thread). */
  workers?: number;
  /**
   * ONNX Runtime's intra-op threads (default: `lin`, the cores the workers leave; `tune` and
   * `scratch`, every core).
   */
  threads?: number;
  /** Called after every step. */
  onProgress?: (p: TrainProgress) => void;
  /**
   * Aborting it stops the run before its next step: `latest` is saved where the run stands (so
   * `resume` continues exactly there) and {@link TrainInterrupted} is thrown.
   */
  signal?: AbortSignal;
}

/**
 * Thrown by {@link train} when its `signal` was aborted; `checkpoint` is the `latest_net_.pth`
 * saved at the point where it stopped.
 *
 * Not run by the doc tests (it trains until Ctrl-C):
 *
 * ```ts ignore
 * import { train, TrainInterrupted } from "@perceptual/lpips/train";
 * const stop = new AbortController();
 * Deno.addSignalListener("SIGINT", () => stop.abort());
 * try {
 *   await train({ root: "dataset", datasets: ["train/traditional"], signal: stop.signal });
 * } catch (e) {
 *   if (e instanceof TrainInterrupted) console.log(`resume from ${e.checkpoint}`);
 * }
 * ```
 */
export class TrainInterrupted extends Error {
  /** Always `"TrainInterrupted"`. */
  override name = "TrainInterrupted";
  /** `checkpoint`: the `latest_net_.pth` just saved; `step`: the steps taken until then. */
  constructor(readonly checkpoint: string, readonly step: number) {
    super(`interrupted at step ${step}; saved ${checkpoint} (continue with --resume)`);
  }
}

/** What {@link train} returns. */
export interface TrainSummary {
  /** The final `latest_net_.pth`. */
  checkpoint: string;
  /** Steps taken in all. */
  steps: number;
  /** Mean loss and accuracy of the last epoch. */
  loss: number;
  /** Mean 2AFC training accuracy of the last epoch. */
  accuracy: number;
  /** Wall-clock seconds of this call. */
  seconds: number;
}

/**
 * Trains as the reference's `train.py` does: `epochs` epochs at the learning rate, then
 * `epochsDecay` epochs after each of which it drops by `lr / epochsDecay`, over the triplets of
 * `datasets` shuffled every epoch (seeded), one {@link Trainer.step} per batch. Checkpoints go to
 * `<checkpointsDir>/<name>/`: `latest_net_.pth` (the LPIPS weights, which
 * `LPIPS.create({ linPath })` and `evaluate({ modelPath })` take) every `saveLatestFreq` items and
 * after every epoch, `<epoch>_net_.pth` after each epoch, and `train_log.jsonl` with the loss and
 * accuracy every `logEvery` steps. `resume` continues a run exactly where its `latest` checkpoint
 * stands.
 *
 * @example
 * ```ts
 * import { train } from "@perceptual/lpips/train";
 * const run = await train({
 *   root: "dataset", // holds 2afc/train/traditional
 *   datasets: ["train/traditional"],
 *   epochs: 1,
 *   epochsDecay: 1,
 *   name: "alex_lin_2",
 *   onProgress: (p) => {
 *     if (p.batch === p.batches) console.log(`epoch ${p.epoch}/${p.epochs}: loss ${p.loss.toFixed(3)}`);
 *   },
 * });
 * console.log(run.checkpoint, run.steps, run.accuracy); // checkpoints/alex_lin_2/latest_net_.pth 12 ...
 * ```
 */
export async function train(opts: TrainOptions): Promise<TrainSummary> {
  const epochs = opts.epochs ?? 5, epochsDecay = opts.epochsDecay ?? 5;
  const total = epochs + epochsDecay;
  const batchSize = opts.batchSize ?? 50;
  const dir = join(opts.checkpointsDir ?? "checkpoints", opts.name ?? "tmp");
  const list = await listTwoAFC(
    opts.root,
    opts.datasets ?? ["train/traditional", "train/cnn", "train/mix"],
  );
  const n = list.items.length;
  if (n === 0) throw new Error("no training items");
  const batches = Math.ceil(n / batchSize);
  const workers = opts.workers ?? defaultDecodeWorkers(n, batchSize);
  // lin's frozen-trunk forward is short next to decoding, so it leaves the workers their cores;
  // tune/scratch are mostly the trunk's backward, which wants every core (the workers idle).
  const threadsFor = (mode: TrainMode) =>
    opts.threads ??
      (mode === "lin" ? inferenceThreads(workers) : navigator.hardwareConcurrency ?? 1);
  const lr0 = opts.lr ?? 1e-4;
  let trainer: Trainer;
  let epoch = 1, startBatch = 0;
  if (opts.resume) {
    const r = await loadCheckpoint(dir, "latest", {
      backend: opts.backend,
      engine: opts.engine,
      threads: threadsFor,
    });
    trainer = r.trainer;
    epoch = r.state.epoch;
    startBatch = r.state.batch;
    if (r.state.batchSize !== batchSize) {
      trainer.dispose();
      throw new Error(`resume: the run used --batch-size ${r.state.batchSize}`);
    }
  } else {
    trainer = await Trainer.create({ ...opts, threads: threadsFor(opts.mode ?? "lin") });
  }
  const seed = trainer.seed;
  const stateAt = (e: number, b: number) => ({
    net: trainer.arch.net,
    mode: trainer.mode,
    seed,
    epoch: e,
    batch: b,
    step: trainer.steps,
    lr: trainer.lr,
    dropout: trainer.dropout,
    clampTrunk1x1: trainer.clampTrunk1x1,
    batchSize,
  });
  const logEvery = opts.logEvery ?? 10;
  const saveEvery = Math.max(1, Math.round((opts.saveLatestFreq ?? 20000) / batchSize));
  await Deno.mkdir(dir, { recursive: true });
  const log = await Deno.open(join(dir, "train_log.jsonl"), {
    append: true,
    create: true,
    write: true,
  });
  const enc = new TextEncoder();
  const t0 = performance.now();
  let itemsDone = 0;
  const stepsLeftAtStart = (total - epoch + 1) * batches - startBatch;
  let lastLoss = NaN, lastAcc = NaN;
  let win = { loss: 0, acc: 0, n: 0 };
  try {
    for (; epoch <= total; epoch++, startBatch = 0) {
      const order = opts.shuffle === false
        ? list.items
        : new Prng(seed, STREAM.shuffle, epoch).permutation(n).map((i) => list.items[i]);
      let sumLoss = 0, sumAcc = 0, count = 0, b = startBatch;
      const source = twoAFCBatches(order.slice(startBatch * batchSize), {
        batchSize,
        workers,
      });
      for await (const batch of source) {
        if (opts.signal?.aborted) {
          const saved = await saveCheckpoint(trainer, dir, "latest", stateAt(epoch, b));
          throw new TrainInterrupted(saved, trainer.steps);
        }
        const r = await trainer.step(batch);
        b++;
        itemsDone += batch.judge.length;
        sumLoss += r.loss;
        sumAcc += r.accuracy;
        count++;
        win = { loss: win.loss + r.loss, acc: win.acc + r.accuracy, n: win.n + 1 };
        const secs = (performance.now() - t0) / 1000;
        const stepsDone = (epoch - 1) * batches + b - ((total * batches) - stepsLeftAtStart);
        const rate = stepsDone / Math.max(secs, 1e-9);
        opts.onProgress?.({
          epoch,
          epochs: total,
          batch: b,
          batches,
          step: trainer.steps,
          loss: sumLoss / count,
          accuracy: sumAcc / count,
          lr: trainer.lr,
          itemsPerSecond: itemsDone / Math.max(secs, 1e-9),
          etaSeconds: (stepsLeftAtStart - stepsDone) / Math.max(rate, 1e-9),
        });
        if (trainer.steps % logEvery === 0) {
          const line = {
            step: trainer.steps,
            epoch,
            batch: b,
            loss: win.loss / win.n,
            accuracy: win.acc / win.n,
            lr: trainer.lr,
            seconds: Number(secs.toFixed(3)),
          };
          await log.write(enc.encode(JSON.stringify(line) + "\n"));
          win = { loss: 0, acc: 0, n: 0 };
        }
        if (b % saveEvery === 0 && b < batches) {
          await saveCheckpoint(trainer, dir, "latest", stateAt(epoch, b));
        }
      }
      lastLoss = sumLoss / count;
      lastAcc = sumAcc / count;
      await saveCheckpoint(trainer, dir, String(epoch));
      if (epoch > epochs) trainer.lr = trainer.lr - lr0 / epochsDecay;
      await saveCheckpoint(trainer, dir, "latest", stateAt(epoch + 1, 0));
    }
    return {
      checkpoint: join(dir, "latest_net_.pth"),
      steps: trainer.steps,
      loss: lastLoss,
      accuracy: lastAcc,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    log.close();
    trainer.dispose();
  }
}
