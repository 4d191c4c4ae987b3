/**
 * Calibration training of LPIPS on BAPPS 2AFC judgements (`@perceptual/lpips/train`), as the
 * reference's `train.py`: {@link train} runs the whole recipe (shuffled batches, Adam, the
 * constant-then-decaying learning rate, checkpoints that `torch.load` reads), {@link Trainer}
 * takes single steps, and {@link saveCheckpoint} / {@link loadCheckpoint} write and resume runs.
 * Modes: `lin` trains the linear heads on a frozen pretrained trunk, `tune` the heads and the
 * trunk, `scratch` both from a random trunk.
 *
 * @example Train the linear heads for one epoch, then score the result
 * ```ts
 * import { train } from "@perceptual/lpips/train";
 * import { evaluate } from "@perceptual/lpips/eval";
 *
 * // "dataset" holds 2afc/train/traditional and 2afc/val/traditional (`lpips download`).
 * const run = await train({
 *   root: "dataset",
 *   datasets: ["train/traditional"],
 *   mode: "lin",
 *   epochs: 1,
 *   epochsDecay: 0,
 *   name: "alex_lin",
 *   quiet: true,
 * });
 * console.log(run.checkpoint, run.steps); // checkpoints/alex_lin/latest_net_.pth 6
 * const r = await evaluate({ root: "dataset", datasets: ["val/traditional"], modelPath: run.checkpoint });
 * console.log(r.results[0].score);
 * ```
 *
 * @module
 */
export {
  type MaskSource,
  type StateDict,
  type StateTensor,
  type StepOptions,
  type StepResult,
  TRAIN_MODES,
  type TrainBatch,
  Trainer,
  type TrainerOptions,
  type TrainMode,
} from "./trainer.ts";
export type { WeightMap } from "../engine.ts";
export { loadCheckpoint, saveCheckpoint, type TrainState } from "./checkpoint.ts";
export {
  train,
  TrainInterrupted,
  type TrainOptions,
  type TrainProgress,
  type TrainSummary,
} from "./train.ts";
