/**
 * Training checkpoints (the reference's `save_network`, readable by `torch.load`).
 *
 * Checkpoint files, in `<checkpointsDir>/<name>/`, for label `latest` or an epoch number:
 * - `<label>_net_.pth`: the LPIPS state dict with the reference's keys: `scaling_layer.shift`,
 *   `scaling_layer.scale`, `net.slice{i}.{j}.weight|bias` (trunk), `lin{k}.model.1.weight`. The
 *   reference's live state dict also repeats the heads as `lins.{k}.model.1.weight`; those
 *   duplicates are not written (torch's `load_state_dict(strict=False)` does not need them).
 * - `<label>_net_rank.pth`: the ranking net, `model.{0,2,4}.{weight,bias}`.
 * - `latest_optim.pth` (ours): Adam's moments, `exp_avg.<param>` / `exp_avg_sq.<param>` where
 *   `<param>` is `net.<LPIPS key>` or `rank.<ranking key>`; `latest_state.json`: epoch, batch,
 *   step, learning rate, seed, Adam step counts, options.
 * Each set of files is written to `NAME.part` names, then renamed together: a crash, a full disk
 * or Ctrl-C never leaves a half-written or mixed checkpoint.
 *
 * @module
 */
import { join } from "node:path";
import { writeFilesAtomic } from "../../_internal/atomic_write.ts";
import { readFailure, writeFailure } from "../../_internal/fs_errors.ts";
import { readRegularFile } from "../../_internal/read_file.ts";
import { arch, linTensorSpec, type NetName } from "../arch.ts";
import type { WeightMap } from "../tfjs_engine.ts";
import { readPthFile, toFloat32, writePth } from "../pth/pth.ts";

import {
  type StateDict,
  Trainer,
  type TrainerOptions,
  type TrainMode,
  trunkFromCheckpoint,
} from "./trainer.ts";

/** Where a run's progress stands; saved as `latest_state.json`. */
export interface TrainState {
  /** The trunk trained. */
  net: NetName;
  /** The training mode. */
  mode: TrainMode;
  /** The run's seed (initial weights, shuffles, dropout masks). */
  seed: number;
  /** The epoch to continue in (1-based). */
  epoch: number;
  /** Batches of that epoch already done. */
  batch: number;
  /** Steps taken in all. */
  step: number;
  /** Learning rate for the next step. */
  lr: number;
  /** Adam's step count per parameter. */
  adamSteps: Record<string, number>;
  /** Whether the heads train behind Dropout(0.5). */
  dropout: boolean;
  /** Whether the trunk's 1x1 convolutions are clamped to >= 0 too. */
  clampTrunk1x1: boolean;
  /** Triplets per step; a resumed run must use the same. */
  batchSize: number;
}

function pthFile(state: StateDict, path: string): Uint8Array {
  const base = path.split(/[\\/]/).pop()!.replace(/\.pth$/, "");
  return writePth(state, base.length > 0 ? base : "archive");
}

/**
 * Writes `<label>_net_.pth` and `<label>_net_rank.pth` into `dir`; with `state`, also
 * `<label>_optim.pth` and `<label>_state.json`. Returns the LPIPS file's path. The set is replaced
 * whole or not at all: on a failed write (a full disk) the previous files stay as they were.
 */
export async function saveCheckpoint(
  trainer: Trainer,
  dir: string,
  label: string,
  state?: Omit<TrainState, "adamSteps">,
): Promise<string> {
  const net = join(dir, `${label}_net_.pth`);
  const rank = join(dir, `${label}_net_rank.pth`);
  const files: [string, Uint8Array][] = [
    [net, pthFile(await trainer.netState(), net)],
    [rank, pthFile(await trainer.rankState(), rank)],
  ];
  if (state) {
    const { tensors, steps } = trainer.optimizerState();
    const optim = join(dir, `${label}_optim.pth`);
    files.push([optim, pthFile(tensors, optim)]);
    const json = JSON.stringify({ ...state, adamSteps: steps }, null, 2) + "\n";
    files.push([join(dir, `${label}_state.json`), new TextEncoder().encode(json)]);
  }
  await writeFilesAtomic(files, {
    mkdir: true,
    onError: (path, e) =>
      new Error(`${path}: cannot write the checkpoint (${writeFailure(e)})`, { cause: e }),
  });
  return net;
}

async function readFloats(path: string): Promise<Map<string, Float32Array>> {
  const raw = await readPthFile(path);
  return new Map([...raw].map(([k, t]) => [k, toFloat32(t)]));
}

/**
 * Rebuilds a trainer from `<dir>/<label>_*` files written by {@link saveCheckpoint} with a state:
 * weights, ranking net, Adam's moments, the step counter; returns the saved state too.
 */
export async function loadCheckpoint(
  dir: string,
  label = "latest",
  opts: Pick<TrainerOptions, "backend" | "engine"> & {
    /** ONNX Runtime's threads, or a function of the saved run's mode that gives them. */
    threads?: number | ((mode: TrainMode) => number);
  } = {},
): Promise<{ trainer: Trainer; state: TrainState }> {
  const statePath = join(dir, `${label}_state.json`);
  let text: string;
  try {
    text = new TextDecoder().decode(
      await readRegularFile(statePath, { maxBytes: 1 << 24, what: "a checkpoint state" }),
    );
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${statePath}: no checkpoint to resume from (start without --resume)`);
    }
    throw new Error(`${statePath}: cannot read (${readFailure(e)})`);
  }
  let state: TrainState;
  try {
    state = JSON.parse(text) as TrainState;
  } catch {
    throw new Error(`${statePath}: corrupt checkpoint state (not JSON)`);
  }
  const net = await readFloats(join(dir, `${label}_net_.pth`));
  const rank = await readFloats(join(dir, `${label}_net_rank.pth`));
  const a = arch(state.net);
  const lin: WeightMap = new Map(
    linTensorSpec(a).map(({ key }) => {
      const v = net.get(key);
      if (!v) throw new Error(`${dir}: ${label}_net_.pth has no ${key}`);
      return [key, v];
    }),
  );
  const trainer = await Trainer.create({
    net: state.net,
    mode: state.mode,
    seed: state.seed,
    lr: state.lr,
    dropout: state.dropout,
    clampTrunk1x1: state.clampTrunk1x1,
    backend: opts.backend,
    engine: opts.engine,
    threads: typeof opts.threads === "function" ? opts.threads(state.mode) : opts.threads,
    initial: { lin, rank, trunk: trunkFromCheckpoint(net) },
  });
  trainer.loadOptimizerState(await readFloats(join(dir, `${label}_optim.pth`)), state.adamSteps);
  trainer.steps = state.step;
  return { trainer, state };
}
