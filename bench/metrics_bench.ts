/**
 * Per-pair time of every metric of the registry (`metrics/registry.ts`) beside its authors' code:
 * `deno task bench:metrics [options]`. Prints a markdown table for the README.
 *
 * **Ours**: the registered metric's `scores` on the tensors of two decoded 8-bit images
 * (`metricTensor` of an `RGBImage`: decoded images in, score out; building the metric and the
 * first, warm-up call not timed), crops of the TID2013 pair I03 of the test data (`--sizes`).
 *
 * **Theirs**, where this repository can run it (a metric without one gets a "-"):
 * - FLIP: NVIDIA's FLIP tool v1.6, built with g++ by the test data's
 *   `metric-references/flip/build.sh` (or `--flip-tool PATH`); its own "Evaluation time", which
 *   leaves out decoding and the process start. It runs on all cores through OpenMP (the tool's
 *   default; `--flip-threads N` sets `OMP_NUM_THREADS`); ours runs on one thread.
 * - DISTS: the official PyTorch code (`bench/dists_torch.py`): `prepare_image` of both decoded
 *   PIL images and the forward, on as many threads as ONNX Runtime (all cores), model loaded once.
 * - LPIPS: not the reference implementation but our PyTorch transcription on torchvision's trunks
 *   with the same weight files (`bench/lpips_torch.py`, as `bench:torch`), the forward on tensors.
 * - MS-SSIM, FSIM, FSIMc, GMSD: the authors' MATLAB code run by Octave (`bench/authors_octave.m`),
 *   tic/toc around the call inside Octave; context only, since Octave is not MATLAB.
 *
 * Each round times every metric once on our side, then once on theirs, so that a busy machine
 * slows both alike; the table gives the range over the rounds and the ratio of the medians.
 *
 * Options: `--rounds R` (default 5), `--sizes WxH,...` (default `256x256,512x384`, at most the
 * source's 512x384), `--metrics a,b` (default: every registered metric), `--no-reference` (ours
 * only), `--flip-tool PATH`, `--flip-threads N`, `--python PATH` (default `/usr/bin/python3`,
 * Debian's torch), `--octave PATH` (default `octave`). Weights: `LPIPS_WEIGHTS_DIR`, else the test
 * data's `weights/` (`LPIPS_TEST_DATA`, default `../shared`); without the official VGG16 file the
 * test data's random-weight one stands in for DISTS (same arithmetic, same time).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { encode } from "fast-png";
import { im2tensor, readImage, type RGBImage } from "../bappsloader/image.ts";
import type { Metric, MetricInfo, MetricOptions } from "../metrics/contract.ts";
import { findMetrics, METRICS } from "../metrics/registry.ts";
import { metricTensor } from "../metrics/images.ts";
import { arch } from "../lpips/arch.ts";
import { linFileName } from "../lpips/weight_files.ts";
import { testData } from "../_internal/test_data.ts";
import { LineWorker, TorchWorker } from "./_torch_worker.ts";

const USAGE = "usage: deno task bench:metrics [--rounds R] [--sizes WxH,...] [--metrics a,b] " +
  "[--no-reference] [--flip-tool PATH] [--flip-threads N] [--python PATH] [--octave PATH]";

/** One crop size's inputs, in every form a side reads. */
interface Pair {
  width: number;
  height: number;
  ref: RGBImage;
  dist: RGBImage;
  /** The crops as PNG files (the tools read files; their timings leave decoding out). */
  refPng: string;
  distPng: string;
  /** The crops as float32 NCHW [-1, 1] tensors (`bench/lpips_torch.py` reads these). */
  refBin: string;
  distBin: string;
}

/** The authors' code for one metric, ready to time a pair. */
interface Reference {
  /** What runs, for the table. */
  label: string;
  /** Milliseconds of one pair and its score. */
  time(pair: Pair): Promise<{ ms: number; score: number }>;
}

/** One table row's measurements. */
interface Row {
  /** Where the row goes: the metric's place in `--metrics`, then the size's. */
  order: [number, number];
  title: string;
  size: string;
  ours: number[];
  theirs: number[];
  label: string;
  scores: [number, number | undefined];
}

const cores = navigator.hardwareConcurrency ?? 1;

function parseOptions() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rounds: { type: "string", default: "5" },
      sizes: { type: "string", default: "256x256,512x384" },
      metrics: { type: "string" },
      "no-reference": { type: "boolean", default: false },
      "flip-tool": { type: "string" },
      "flip-threads": { type: "string" },
      python: { type: "string", default: "/usr/bin/python3" },
      octave: { type: "string", default: "octave" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(`--rounds must be a whole number >= 1, got ${values.rounds}`);
  }
  const sizes = values.sizes.split(",").map((s) => {
    const m = s.trim().match(/^(\d+)x(\d+)$/);
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) {
      throw new RangeError(`--sizes takes WIDTHxHEIGHT,..., got ${JSON.stringify(s)}`);
    }
    return [Number(m[1]), Number(m[2])] as const;
  });
  const flipThreads = values["flip-threads"];
  if (flipThreads !== undefined && !(Number.isInteger(Number(flipThreads)) && +flipThreads > 0)) {
    throw new RangeError(`--flip-threads must be a whole number >= 1, got ${flipThreads}`);
  }
  return {
    rounds,
    sizes,
    metrics: values.metrics === undefined ? [...METRICS] : findMetrics(values.metrics),
    reference: !values["no-reference"],
    flipTool: values["flip-tool"],
    flipThreads,
    python: values.python,
    octave: values.octave,
  };
}

/** The top-left `w` x `h` of `img`. */
function crop(img: RGBImage, w: number, h: number): RGBImage {
  if (w > img.width || h > img.height) {
    throw new RangeError(`size ${w}x${h} exceeds the source image's ${img.width}x${img.height}`);
  }
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    data.set(img.data.subarray(y * img.width * 3, (y * img.width + w) * 3), y * w * 3);
  }
  return { width: w, height: h, data };
}

async function writePair(dir: string, ref: RGBImage, dist: RGBImage): Promise<Pair> {
  const { width, height } = ref, name = `${width}x${height}`;
  const pair: Pair = {
    width,
    height,
    ref,
    dist,
    refPng: join(dir, `ref_${name}.png`),
    distPng: join(dir, `dist_${name}.png`),
    refBin: join(dir, `ref_${name}.bin`),
    distBin: join(dir, `dist_${name}.bin`),
  };
  for (
    const [img, png, bin] of [[ref, pair.refPng, pair.refBin], [
      dist,
      pair.distPng,
      pair.distBin,
    ]] as const
  ) {
    await Deno.writeFile(png, encode({ ...img, channels: 3, depth: 8 }));
    const t = im2tensor(img).data;
    await Deno.writeFile(bin, new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
  }
  return pair;
}

/** Where the weight files are, and the VGG16 trunk DISTS uses (official, else the stand-in). */
function weights(): { dir: string; vgg: string; vggNote: string } {
  const dir = Deno.env.get("LPIPS_WEIGHTS_DIR") ?? testData("weights");
  const official = join(dir, arch("vgg").trunkFile);
  if (existsSync(official)) return { dir, vgg: official, vggNote: "" };
  return { dir, vgg: testData("weights", "vgg16-random-seed0.pth"), vggNote: "random-weight" };
}

/** The authors' code of each metric that has some here, started on first use. */
class References {
  readonly #closers: (() => Promise<void>)[] = [];
  readonly #cache = new Map<string, Promise<Reference | undefined>>();

  constructor(
    readonly opts: ReturnType<typeof parseOptions>,
    readonly tmp: string,
    readonly w: ReturnType<typeof weights>,
  ) {}

  /** The reference of `metric` (built as `setting` says), or `undefined` when there is none. */
  get(metric: Metric): Promise<Reference | undefined> {
    const name = metric.info.name;
    if (!this.#cache.has(name)) {
      // A tool that cannot start (no Octave, no g++, no torch) leaves its metric without one.
      this.#cache.set(
        name,
        Promise.resolve().then(() => this.#start(metric)).catch((e) => {
          console.error(`no reference for ${name}: ${e instanceof Error ? e.message : e}`);
          return undefined;
        }),
      );
    }
    return this.#cache.get(name)!;
  }

  async close(): Promise<void> {
    for (const close of this.#closers) await close();
  }

  #start(metric: Metric): Promise<Reference | undefined> {
    switch (metric.info.name) {
      case "flip":
        return this.#flip();
      case "dists":
        return this.#dists();
      case "lpips":
        // lpips_torch.py computes the registry's default model only.
        return metric.setting === "alex, v0.1" ? this.#lpips() : Promise.resolve(undefined);
      case "msssim":
      case "fsim":
      case "fsimc":
      case "gmsd":
        return this.#octave(metric.info.name);
      default:
        return Promise.resolve(undefined);
    }
  }

  async #flip(): Promise<Reference> {
    let tool = this.opts.flipTool;
    if (!tool) {
      tool = join(this.tmp, "flip-tool");
      console.error("building NVIDIA's FLIP tool (g++, about 30 s)...");
      await run("bash", [testData("metric-references", "flip", "build.sh"), tool]);
    }
    const threads = this.opts.flipThreads ?? String(cores);
    const env = { OMP_NUM_THREADS: threads };
    return {
      label: `NVIDIA FLIP tool v1.6, C++, ${threads} thread${threads === "1" ? "" : "s"}`,
      async time(p) {
        const out = await run(tool, ["-r", p.refPng, "-t", p.distPng, "-nerm", "-v", "2"], env);
        const ms = out.match(/Evaluation time: ([0-9.]+) seconds/);
        const mean = out.match(/Mean: ([0-9.]+)/);
        if (!ms || !mean) throw new Error(`no evaluation time or mean from the FLIP tool: ${out}`);
        return { ms: Number(ms[1]) * 1000, score: Number(mean[1]) };
      },
    };
  }

  async #dists(): Promise<Reference> {
    const worker = new TorchWorker(this.opts.python, "dists_torch.py");
    this.#closers.push(() => worker.close());
    const loaded = await worker.call({
      cmd: "load",
      refs: testData("metric-references", "dists"),
      vgg: this.w.vgg,
      threads: cores,
    });
    return {
      label: `official DISTS_pt.py, PyTorch ${loaded.torch}, ${cores} threads`,
      async time(p) {
        const r = await worker.call({ cmd: "run", ref: p.refPng, dist: p.distPng, resize: true });
        return { ms: r.ms as number, score: r.score as number };
      },
    };
  }

  async #lpips(): Promise<Reference> {
    const worker = new TorchWorker(this.opts.python, "lpips_torch.py");
    this.#closers.push(() => worker.close());
    const loaded = await worker.call({
      cmd: "load",
      net: "alex",
      version: "0.1",
      lpips: true,
      trunk: join(this.w.dir, arch("alex").trunkFile),
      lin: join(this.w.dir, linFileName("alex", "0.1")),
      threads: cores,
    });
    const out = join(this.tmp, "lpips_torch.bin");
    return {
      label: `bench/lpips_torch.py, PyTorch ${loaded.torch}, ${cores} threads`,
      async time(p) {
        const r = await worker.call({
          cmd: "run",
          inputs: [p.refBin, p.distBin],
          shape: [1, 3, p.height, p.width],
          pairs: [[0, 1]],
          spatial: false,
          iters: 1,
          out,
        });
        const bytes = await Deno.readFile(out);
        const score = new Float32Array(bytes.buffer, bytes.byteOffset, 1)[0];
        return { ms: (r.seconds as number) * 1000, score };
      },
    };
  }

  #octaveWorker?: OctaveWorker;

  #octave(metric: string): Promise<Reference> {
    if (!this.#octaveWorker) {
      const w = new OctaveWorker(this.opts.octave, testData("metric-references", "octave"));
      this.#closers.push(() => w.close());
      this.#octaveWorker = w;
    }
    const worker = this.#octaveWorker;
    return Promise.resolve({
      label: "authors' MATLAB code, Octave (context)",
      time: (p: Pair) => worker.time(metric, p.refPng, p.distPng),
    });
  }
}

/** `bench/authors_octave.m` in one Octave process: a line in, a line out. */
class OctaveWorker {
  readonly #worker: LineWorker;

  constructor(octave: string, path: string) {
    const script = new URL("./authors_octave.m", import.meta.url).pathname;
    this.#worker = new LineWorker(octave, ["-q", "--no-gui", "--path", path, script], "Octave");
  }

  async time(metric: string, ref: string, dist: string): Promise<{ ms: number; score: number }> {
    const [ms, score] = (await this.#worker.ask(`${metric}\t${ref}\t${dist}`)).split("\t");
    if (ms === "error") throw new Error(`Octave, ${metric}: ${score}`);
    return { ms: Number(ms), score: Number(score) };
  }

  close(): Promise<void> {
    return this.#worker.close();
  }
}

/** Runs a command, returning its stdout; a failure is an error with its stderr's first line. */
async function run(cmd: string, args: string[], env?: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
    throw new Error(`${cmd} ${args.join(" ")} failed: ${err}`);
  }
  return new TextDecoder().decode(out.stdout);
}

async function timeOurs(m: Metric, p: Pair): Promise<{ ms: number; score: number }> {
  const t0 = performance.now();
  const [x, y] = await Promise.all([metricTensor(p.ref), metricTensor(p.dist)]);
  const [score] = await m.scores(x, y);
  return { ms: performance.now() - t0, score };
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b), n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

function ms(v: number): string {
  return v < 10 ? v.toFixed(1) : v.toFixed(0);
}

function range(v: number[]): string {
  if (!v.length) return "-";
  const lo = Math.min(...v), hi = Math.max(...v);
  return `${ms(lo)}-${ms(hi)} ms`;
}

/** A markdown table with padded columns (as `deno fmt` writes it). */
function table(head: string[], rows: string[][]): string {
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => `| ${r.map((s, c) => s.padEnd(width[c])).join(" | ")} |`;
  return [line(head), line(width.map((n) => "-".repeat(n))), ...rows.map(line)].join("\n");
}

function loadAverage(): string {
  try {
    return Deno.loadavg()[0].toFixed(1);
  } catch {
    return "?";
  }
}

/** The CPU's model name, from `lscpu` (Deno reads /proc/cpuinfo only with --allow-all). */
async function cpuName(): Promise<string> {
  try {
    return (await run("lscpu", [])).match(/Model name:\s*(.*)/)?.[1].trim() ?? "unknown CPU";
  } catch {
    return "unknown CPU";
  }
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const w = weights();
  const options: MetricOptions = { weightsDir: w.dir, trunkPath: w.vgg, quiet: true };
  const source = await Promise.all(
    ["tid_I03_ref.png", "tid_I03_dist.png"].map((f) => readImage(testData("images", f))),
  );
  const tmp = await Deno.makeTempDir({ prefix: "metrics-bench-" });
  const refs = new References(opts, tmp, w);
  const loadStart = loadAverage(), started = new Date();
  const rows: Row[] = [];
  const built: { info: MetricInfo; metric: Metric }[] = [];
  try {
    const pairs: Pair[] = [];
    for (const [width, height] of opts.sizes) {
      pairs.push(
        await writePair(tmp, crop(source[0], width, height), crop(source[1], width, height)),
      );
    }
    for (const info of opts.metrics) built.push({ info, metric: await info.create(options) });
    for (const [sizeIndex, p] of pairs.entries()) {
      const cases: { m: Metric; row: Row; ref?: Reference }[] = [];
      for (const [metricIndex, { info, metric }] of built.entries()) {
        if (Math.min(p.width, p.height) < info.minSize) continue;
        const ref = opts.reference ? await refs.get(metric) : undefined;
        const title = metric.setting ? `${info.title} (${metric.setting})` : info.title;
        // Warm-up: the first call of a size compiles (JIT, ONNX Runtime, Octave's parser).
        const ours = await timeOurs(metric, p);
        const theirs = ref ? await ref.time(p) : undefined;
        cases.push({
          m: metric,
          ref,
          row: {
            order: [metricIndex, sizeIndex],
            title,
            size: `${p.width}x${p.height}`,
            ours: [],
            theirs: [],
            label: ref?.label ?? "-",
            scores: [ours.score, theirs?.score],
          },
        });
      }
      for (let r = 0; r < opts.rounds; r++) {
        console.error(`${p.width}x${p.height}: round ${r + 1} of ${opts.rounds}`);
        for (const c of cases) {
          c.row.ours.push((await timeOurs(c.m, p)).ms);
          if (c.ref) c.row.theirs.push((await c.ref.time(p)).ms);
        }
      }
      rows.push(...cases.map((c) => c.row));
    }
  } finally {
    for (const { metric } of built) metric.dispose();
    await refs.close();
    await Deno.remove(tmp, { recursive: true });
  }
  rows.sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1]);
  const body = rows.map((r) =>
    [
      r.title,
      r.size,
      range(r.ours),
      r.label,
      range(r.theirs),
      r.theirs.length ? (median(r.ours) / median(r.theirs)).toFixed(2) : "-",
    ].slice(0, opts.reference ? 6 : 3)
  );
  console.log(
    `\n${cores} cores (${await cpuName()}), ${started.toISOString().slice(0, 10)}, load average ` +
      `${loadStart} at the start and ${loadAverage()} at the end; ${opts.rounds} alternating ` +
      `round${
        opts.rounds === 1 ? "" : "s"
      }; ours runs on one thread except LPIPS and DISTS (ONNX Runtime, ${cores} threads)` +
      (w.vggNote ? `; DISTS on a ${w.vggNote} VGG16 on both sides (same time)` : "") + ".\n",
  );
  console.log(
    table(
      ["metric", "pair", "ours", "authors' code", "theirs", "ours / theirs (median)"]
        .slice(0, opts.reference ? 6 : 3),
      body,
    ),
  );
  if (!opts.reference) return;
  console.log(
    "\nFLIP: the tool's own evaluation time (no decoding, no process start). DISTS: " +
      "prepare_image and forward on decoded images. LPIPS: our PyTorch transcription, forward " +
      "on tensors. Octave: tic/toc around the authors' function, grey conversion included.",
  );
  console.log(
    "\nScores (ours, theirs) of the warm-up call, to show both compute the same thing " +
      "(the FLIP tool prints 6 decimals):",
  );
  for (const r of rows) {
    const [a, b] = r.scores;
    console.log(
      `- ${r.title} ${r.size}: ${a.toPrecision(7)}${
        b === undefined ? "" : `, ${b.toPrecision(7)}`
      }`,
    );
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`metrics_bench: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
