/**
 * Does calibration training help? Trains the `lin` heads on bapps-mini's `train/traditional` and
 * prints the 2AFC score on its val sets before (the random initial heads) and after training.
 * bapps-mini is synthetic; the numbers only show that training moves the score the right way.
 *
 * ```sh
 * npx -y deno@2.9.6 run -A bench/train_2afc.ts [--epochs 5] [--epochs-decay 5] [--lr 1e-4] [--seed 0]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { train, Trainer } from "../lpips/train/mod.ts";
import { LPIPS } from "../lpips/lpips.ts";
import { listTwoAFC } from "../bappsloader/layout.ts";
import { twoAFCBatches } from "../bappsloader/dataset.ts";
import { score2AFC } from "../eval/twoafc.ts";
import type { ImageTensor } from "../bappsloader/image.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    epochs: { type: "string", default: "5" },
    "epochs-decay": { type: "string", default: "5" },
    lr: { type: "string", default: "1e-4" },
    seed: { type: "string", default: "0" },
    data: { type: "string", default: Deno.env.get("LPIPS_TEST_DATA") ?? "../shared" },
  },
});
const root = join(values.data, "bapps-mini");
const weightsDir = join(values.data, "weights");
const seed = Number(values.seed);
const VAL = ["val/traditional", "val/cnn"];

type Dist = (a: ImageTensor, b: ImageTensor) => Promise<Float32Array>;
async function scores(dist: Dist): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const subset of VAL) {
    const d0: number[] = [], d1: number[] = [], j: number[] = [];
    for await (const b of twoAFCBatches(await listTwoAFC(root, subset), { batchSize: 50 })) {
      d0.push(...await dist(b.ref, b.p0));
      d1.push(...await dist(b.ref, b.p1));
      j.push(...b.judge);
    }
    out[subset] = score2AFC(d0, d1, j);
  }
  return out;
}

const untrained = await Trainer.create({ net: "alex", mode: "lin", seed, weightsDir, quiet: true });
const before = await scores((a, b) => untrained.distance(a, b));
untrained.dispose();

const dir = await Deno.makeTempDir({ prefix: "lpips_train_bench_" });
const t0 = performance.now();
const summary = await train({
  root,
  datasets: ["train/traditional"],
  net: "alex",
  mode: "lin",
  epochs: Number(values.epochs),
  epochsDecay: Number(values["epochs-decay"]),
  lr: Number(values.lr),
  seed,
  name: "bench",
  checkpointsDir: dir,
  weightsDir,
  quiet: true,
});
const seconds = (performance.now() - t0) / 1000;
const m = await LPIPS.create({ linPath: summary.checkpoint, weightsDir, quiet: true });
const after = await scores((a, b) => m.distance(a, b));
m.dispose();
await Deno.remove(dir, { recursive: true });

const shipped = await LPIPS.create({ weightsDir, quiet: true });
const official = await scores((a, b) => shipped.distance(a, b));
shipped.dispose();

console.log(JSON.stringify(
  {
    epochs: Number(values.epochs),
    epochsDecay: Number(values["epochs-decay"]),
    lr: Number(values.lr),
    seed,
    steps: summary.steps,
    secondsPerStep: Number((seconds / summary.steps).toFixed(3)),
    before,
    after,
    officialV01Heads: official,
  },
  null,
  2,
));
