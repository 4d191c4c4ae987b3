/**
 * Calibration training of LPIPS on BAPPS 2AFC judgements (the reference's `train.py`): the
 * `Trainer`, the `train` loop and its checkpoints.
 *
 * @module
 */
export { TRAIN_MODES, Trainer, type TrainerOptions, type TrainMode } from "./trainer.ts";
export { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
export {
  train,
  TrainInterrupted,
  type TrainOptions,
  type TrainProgress,
  type TrainSummary,
} from "./train.ts";
