/**
 * The batch forward, layer by layer, beside PyTorch: each convolution of a trunk with its ReLU,
 * on the input it sees for `--images` images of `--size` pixels, timed alone (best of ~`--seconds`
 * s), in PyTorch (`bench/lpips_torch.py`, Debian torch, its oneDNN convolutions) and in ONNX
 * Runtime as this package runs it (spinning off, weights pre-packed), then with the session-level
 * levers that need no change to the convolutions themselves:
 *
 * - `spin`: ONNX Runtime's worker threads spin between runs (its own default);
 * - `halves`: the batch as two runs of half the images (what separate images of a pair cost next
 *   to one batch of both);
 * - `no prepack`: weight pre-packing off (what pre-packing already saves).
 *
 *     deno run -A bench/forward_layers.ts [--net alex] [--size 64] [--images 100] [--threads 2]
 *
 * Rounds alternate between the two sides. Weights are random (speed does not depend on them).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { arch, type ConvLayer, layerSizes, type NetName } from "../lpips/arch.ts";
import { loadOrt } from "../lpips/onnx_engine.ts";
import { GraphBuilder } from "../lpips/onnx_proto.ts";
import { TorchWorker } from "./_torch_worker.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    net: { type: "string", default: "alex" },
    size: { type: "string", default: "64" },
    images: { type: "string", default: "100" },
    threads: { type: "string", default: "2" },
    seconds: { type: "string", default: "1" },
    rounds: { type: "string", default: "2" },
    python: { type: "string", default: "/usr/bin/python3" },
  },
});
const a = arch(args.net as NetName);
const size = Number(args.size), n = Number(args.images), threads = Number(args.threads);
const seconds = Number(args.seconds), rounds = Number(args.rounds);
const ort = await loadOrt();

/** Each convolution with the side of its input. */
function convInputs(): { conv: ConvLayer; side: number }[] {
  const sizes = layerSizes(a, size);
  return a.layers.flatMap((l, i) => {
    const side = i === 0 ? size : sizes[i - 1];
    if (l.op === "conv") return [{ conv: l, side }];
    if (l.op === "fire") {
      return [
        { conv: l.squeeze, side },
        { conv: l.expand1x1, side: sizes[i] },
        { conv: l.expand3x3, side: sizes[i] },
      ];
    }
    return [];
  });
}

const random = (len: number, scale: number) =>
  Float32Array.from({ length: len }, () => (Math.random() * 2 - 1) * scale);

/** Best seconds of one run of Conv + Relu on `batch` images in an ONNX Runtime session. */
async function ortTime(
  c: ConvLayer,
  side: number,
  batch: number,
  opts: { spin: boolean; prepack: boolean },
): Promise<number> {
  const g = new GraphBuilder();
  const x = g.input("x", [batch, c.inChannels, side, side]);
  const w = g.initializer(
    "w",
    [c.outChannels, c.inChannels, c.kernel, c.kernel],
    random(
      c.outChannels * c.inChannels * c.kernel * c.kernel,
      0.01,
    ),
  );
  const b = g.initializer("b", [c.outChannels], random(c.outChannels, 0.01));
  const y = g.node("Relu", [
    g.node("Conv", [x, w, b], {
      kernel_shape: { ints: [c.kernel, c.kernel] },
      strides: { ints: [c.stride, c.stride] },
      pads: { ints: [c.pad, c.pad, c.pad, c.pad] },
    }),
  ]);
  g.output("y", y, [batch, c.outChannels, "h", "w"]);
  const s = await ort.InferenceSession.create(g.model(17), {
    graphOptimizationLevel: "all",
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    logSeverityLevel: 3,
    extra: {
      session: {
        intra_op: { allow_spinning: opts.spin ? "1" : "0" },
        disable_prepacking: opts.prepack ? "0" : "1",
      },
    },
  });
  const feeds = {
    x: new ort.Tensor("float32", random(batch * c.inChannels * side * side, 1), [
      batch,
      c.inChannels,
      side,
      side,
    ]),
  };
  await s.run(feeds);
  let best = Infinity;
  for (const end = performance.now() + seconds * 1000; performance.now() < end;) {
    const t = performance.now();
    await s.run(feeds);
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  await s.release();
  return best;
}

const VARIANTS = ["PyTorch", "ORT", "spin", "halves", "no prepack"] as const;
type Variant = typeof VARIANTS[number];

async function main(): Promise<void> {
  const torch = new TorchWorker(args.python!, "lpips_torch.py");
  const layers = convInputs();
  const best = layers.map(() => new Map<Variant, number>());
  const keep = (i: number, v: Variant, s: number) =>
    best[i].set(v, Math.min(best[i].get(v) ?? Infinity, s));
  console.log(
    `${args.net} at ${size}x${size}, ${n} images, ${threads} threads on both sides, best of ` +
      `${rounds} alternating rounds of ~${seconds} s; load average ${Deno.loadavg()[0].toFixed(1)}`,
  );
  for (let r = 0; r < rounds; r++) {
    for (const [i, { conv: c, side }] of layers.entries()) {
      const reply = await torch.call({
        cmd: "conv",
        shape: [n, c.inChannels, side, side],
        out: c.outChannels,
        kernel: c.kernel,
        stride: c.stride,
        pad: c.pad,
        threads,
        seconds,
      });
      keep(i, "PyTorch", reply.seconds as number);
      keep(i, "ORT", await ortTime(c, side, n, { spin: false, prepack: true }));
      keep(i, "spin", await ortTime(c, side, n, { spin: true, prepack: true }));
      keep(i, "halves", 2 * await ortTime(c, side, n / 2, { spin: false, prepack: true }));
      keep(i, "no prepack", await ortTime(c, side, n, { spin: false, prepack: false }));
    }
  }
  await torch.close();
  const ms = (s: number) => (s * 1000).toFixed(2).padStart(10);
  console.log(`| layer | ${VARIANTS.join(" | ")} |`);
  console.log(`|---|${VARIANTS.map(() => "---:").join("|")}|`);
  const total = new Map<Variant, number>();
  layers.forEach(({ conv: c }, i) => {
    for (const v of VARIANTS) total.set(v, (total.get(v) ?? 0) + best[i].get(v)!);
    console.log(`| ${c.key} | ${VARIANTS.map((v) => ms(best[i].get(v)!)).join(" | ")} |`);
  });
  console.log(`| total (ms) | ${VARIANTS.map((v) => ms(total.get(v)!)).join(" | ")} |`);
}

await main();
