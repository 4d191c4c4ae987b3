import assert from "node:assert/strict";
import { progressLine } from "./train.ts";

Deno.test("progress line shows epoch, loss, accuracy, speed and ETA", () => {
  const line = progressLine({
    epoch: 2,
    epochs: 10,
    batch: 3,
    batches: 6,
    step: 9,
    loss: 0.69,
    accuracy: 0.7,
    lr: 1e-4,
    itemsPerSecond: 35,
    etaSeconds: 125,
  });
  assert.match(
    line,
    /^epoch 2\/10 \[#+-+\] 3\/6 loss 0\.6900 acc 70\.00% .*35\.0 items\/s ETA 2m05s$/,
  );
});
