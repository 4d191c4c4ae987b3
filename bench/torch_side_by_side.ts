/**
 * LPIPS throughput side by side with PyTorch: `deno task bench:torch [options]`.
 *
 * Runs the same workloads (same inputs, same weight files) through this package's engines and
 * through `bench/lpips_torch.py` (LPIPS written from docs/algorithm.md on torchvision's trunks, run with
 * `/usr/bin/python3`), alternating rounds between them, and prints pairs/s for each, the ratio,
 * each side's trunk GFLOP/s as a share of the machine's SGEMM peak (the better of ONNX Runtime's
 * MatMul and torch.mm, 2048x2048), and the largest difference between their distances (must be
 * <= 1e-5). Then the peak RSS of a fresh process of each for a 1024x1024 spatial map and for a
 * 64x64 batch of 50.
 *
 * Options: `--threads N` (default: all cores, for both), `--torch-threads N` (default: the same;
 * PyTorch's OpenMP threads stall when other processes hold the cores, 1 can be faster then),
 * `--nets alex,squeeze,vgg`,
 * `--rounds R` (default 3; the fastest pass of all rounds counts), `--seconds S` per round (default 1),
 * `--tfjs` (also time the TF.js wasm engine), `--no-rss`, `--python PATH`.
 * Weights: `LPIPS_WEIGHTS_DIR`, else the test data's `weights/` (`LPIPS_TEST_DATA`, `../shared`);
 * without the official VGG file the test data's random-weight VGG stands in (same speed).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ImageTensor } from "../bappsloader/image.ts";
import { LPIPS } from "../lpips/lpips.ts";
import { arch, convLayers, layerSizes, type NetName } from "../lpips/arch.ts";
import { linFileName } from "../lpips/weight_files.ts";
import { loadOrt } from "../lpips/onnx_engine.ts";
import { GraphBuilder } from "../lpips/onnx_proto.ts";
import { TorchWorker } from "./_torch_worker.ts";

/** One timed workload. */
interface Workload {
  net: NetName;
  size: number;
  batch: number;
  /**
   * pair: d(x0, x1); triplet: d(ref, p0) and d(ref, p1), the reference image's features computed
   * once on both sides; triplet-ref: the same on our side, while PyTorch runs the reference
   * implementation's eval procedure (`model(ref, p0)` then `model(ref, p1)`: ref's trunk twice).
   */
  kind: "pair" | "triplet" | "triplet-ref";
  spatial: boolean;
}

const args = parseArgs({
  args: Deno.args,
  options: {
    threads: { type: "string" },
    "torch-threads": { type: "string" },
    nets: { type: "string", default: "alex,squeeze,vgg" },
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "1" },
    tfjs: { type: "boolean", default: false },
    "no-rss": { type: "boolean", default: false },
    python: { type: "string", default: "/usr/bin/python3" },
    // Internal: one workload in a fresh process, printing its peak RSS.
    "rss-child": { type: "string" },
  },
}).values;

const threads = Number(args.threads ?? navigator.hardwareConcurrency ?? 1);
const torchThreads = Number(args["torch-threads"] ?? threads);
const rounds = Number(args.rounds);
const roundSeconds = Number(args.seconds);
const weightsDir = findWeightsDir();
const tmp = await Deno.makeTempDir({ prefix: "lpips-bench-" });

function findWeightsDir(): string {
  const env = Deno.env.get("LPIPS_WEIGHTS_DIR");
  if (env) return env;
  const data = Deno.env.get("LPIPS_TEST_DATA") ?? "../shared";
  const dir = join(data, "weights");
  if (!existsSync(dir)) {
    throw new Error("no weights: set LPIPS_WEIGHTS_DIR (or LPIPS_TEST_DATA)");
  }
  return dir;
}

/** The trunk file of `net`: the official one, else (vgg) the test data's random-weight stand-in. */
function trunkPath(net: NetName): { path: string; note: string } {
  const official = join(weightsDir, arch(net).trunkFile);
  if (existsSync(official)) return { path: official, note: "" };
  const standIn = join(weightsDir, "vgg16-random-seed0.pth");
  if (net === "vgg" && existsSync(standIn)) return { path: standIn, note: " (random weights)" };
  throw new Error(`missing ${official}`);
}

/** Deterministic [-1, 1] images: a smooth pattern plus noise, from integer pixel values. */
function images(n: number, size: number, seed: number): ImageTensor {
  const data = new Float32Array(n * 3 * size * size);
  let s = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const p = i % (size * size);
    const u = Math.round(128 + 70 * Math.sin(p / (size * 0.6) + seed) + ((s >>> 0) % 60) - 30);
    data[i] = Math.fround(Math.min(255, Math.max(0, u)) / 127.5 - 1);
  }
  return { data, shape: [n, 3, size, size] };
}

function peakRss(): number {
  const m = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/);
  return m ? Number(m[1]) * 1024 : 0;
}

function resetPeakRss(): void {
  Deno.writeTextFileSync("/proc/self/clear_refs", "5");
}

/** Inputs of a workload (2 or 3 batches) and the pairs it compares. */
function inputs(w: Workload): { xs: ImageTensor[]; pairs: [number, number][] } {
  const n = w.kind === "pair" ? 2 : 3;
  const xs = Array.from({ length: n }, (_, i) => images(w.batch, w.size, i + 1));
  return { xs, pairs: w.kind === "pair" ? [[0, 1]] : [[0, 1], [0, 2]] };
}

type Runner = (xs: ImageTensor[], pairs: [number, number][], spatial: boolean) => Promise<
  Float32Array
>;

/** One pass through the public API: distance() per pair, or features once + compare (2AFC). */
function apiRunner(m: LPIPS): Runner {
  return async (xs, pairs, spatial) => {
    if (pairs.length === 1) {
      const r = await m.distance(xs[0], xs[1], { spatial });
      return spatial ? r.map!.data : r.distance;
    }
    const fs = await Promise.all(xs.map((x) => m.features(x)));
    try {
      const out: Float32Array[] = [];
      for (const [i, j] of pairs) {
        const r = await m.compare(fs[i], fs[j], { spatial });
        out.push(spatial ? r.map!.data : r.distance);
      }
      return concat(out);
    } finally {
      for (const f of fs) f.dispose();
    }
  };
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Seconds of the fastest of `iters` passes (the least disturbed by other processes). */
async function timeRunner(
  run: Runner,
  xs: ImageTensor[],
  pairs: [number, number][],
  spatial: boolean,
  iters: number,
): Promise<{ seconds: number; out: Float32Array }> {
  let out: Float32Array = new Float32Array();
  let best = Infinity;
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    out = await run(xs, pairs, spatial);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  return { seconds: best, out };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function label(w: Workload): string {
  const kind = { pair: "", triplet: " 2afc", "triplet-ref": " 2afc vs ref. eval" }[w.kind];
  return `${w.net} ${w.size}x${w.size} b${w.batch}${kind}${w.spatial ? " map" : ""}`;
}

function workloads(nets: NetName[]): Workload[] {
  const out: Workload[] = [];
  for (const net of nets) {
    const base = { net, kind: "pair" as const, spatial: false };
    out.push({ ...base, size: 64, batch: 1 }, { ...base, size: 64, batch: 50 });
    out.push({ ...base, size: 64, batch: 50, kind: "triplet" });
    out.push({ ...base, size: 64, batch: 50, kind: "triplet-ref" });
    out.push({ ...base, size: 256, batch: 1 });
    // VGG at 1024x1024 takes tens of seconds a pass on two cores: left out.
    if (net !== "vgg") out.push({ ...base, size: 1024, batch: 1 });
  }
  return out;
}

async function loadModels(net: NetName, engine: "onnx" | "tfjs"): Promise<LPIPS> {
  return await LPIPS.create({
    net,
    engine,
    threads,
    weightsDir,
    trunkPath: trunkPath(net).path,
    quiet: true,
  });
}

async function rssChild(spec: string): Promise<void> {
  const [net, size, batch, spatial] = spec.split(",");
  const m = await loadModels(net as NetName, "onnx");
  const w: Workload = {
    net: net as NetName,
    size: Number(size),
    batch: Number(batch),
    kind: "pair",
    spatial: spatial === "1",
  };
  const { xs, pairs } = inputs(w);
  const loaded = peakRss();
  resetPeakRss();
  await apiRunner(m)(xs, pairs, w.spatial);
  console.log(JSON.stringify({ loaded, peak: peakRss() }));
  m.dispose();
}

async function torchRss(w: Workload, xs: string[]): Promise<{ loaded: number; peak: number }> {
  const t = new TorchWorker(args.python!, "lpips_torch.py");
  try {
    await t.call(torchLoad(w.net));
    const loaded = (await t.call({ cmd: "peak" })).bytes as number;
    await t.call({ cmd: "reset_peak" });
    await t.call({
      cmd: "run",
      inputs: xs,
      shape: [w.batch, 3, w.size, w.size],
      pairs: [[0, 1]],
      spatial: w.spatial,
      iters: 1,
      out: join(tmp, "rss.bin"),
    });
    return { loaded, peak: (await t.call({ cmd: "peak" })).bytes as number };
  } finally {
    await t.close();
  }
}

function torchLoad(net: NetName): Record<string, unknown> {
  return {
    cmd: "load",
    net,
    version: "0.1",
    lpips: true,
    trunk: trunkPath(net).path,
    lin: join(weightsDir, linFileName(net, "0.1")),
    threads: torchThreads,
  };
}

/** The best GFLOP/s of ONNX Runtime's MatMul (MLAS SGEMM) on n x n float32 matrices. */
async function mlasPeak(n: number, intraThreads: number, seconds = 2): Promise<number> {
  const ort = await loadOrt();
  const g = new GraphBuilder();
  g.output("c", g.node("MatMul", [g.input("a", [n, n]), g.input("b", [n, n])]), [n, n]);
  const s = await ort.InferenceSession.create(g.model(), { intraOpNumThreads: intraThreads });
  const m = () =>
    new ort.Tensor("float32", Float32Array.from({ length: n * n }, Math.random), [n, n]);
  const feeds = { a: m(), b: m() };
  // A preallocated output: a fresh array per run would cost page faults, not arithmetic.
  const fetches = { c: m() };
  let best = Infinity;
  for (const end = performance.now() + seconds * 1000; performance.now() < end;) {
    const t = performance.now();
    await s.run(feeds, fetches);
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  await s.release();
  return 2 * n ** 3 / best / 1e9;
}

/** Multiply-accumulates of one image through the trunk's convolutions (the heads are negligible). */
function trunkMacs(net: NetName, size: number): number {
  const a = arch(net);
  const sizes = layerSizes(a, size);
  const convs = new Map(convLayers(a).map((c) => [c.key, c]));
  let macs = 0;
  a.layers.forEach((l, i) => {
    const inSize = i === 0 ? size : sizes[i - 1];
    const mac = (key: string, side: number) => {
      const c = convs.get(key)!;
      macs += c.outChannels * c.inChannels * c.kernel * c.kernel * side * side;
    };
    if (l.op === "conv") mac(l.key, sizes[i]);
    else if (l.op === "fire") {
      for (const c of [l.squeeze, l.expand1x1, l.expand3x3]) mac(c.key, inSize);
    }
  });
  return macs;
}

async function writeInputs(w: Workload, xs: ImageTensor[]): Promise<string[]> {
  return await Promise.all(xs.map(async (x, i) => {
    const p = join(tmp, `${label(w).replaceAll(" ", "_")}_${i}.bin`);
    await Deno.writeFile(p, new Uint8Array(x.data.buffer, x.data.byteOffset, x.data.byteLength));
    return p;
  }));
}

async function main(): Promise<void> {
  const nets = args.nets!.split(",") as NetName[];
  const torch = new TorchWorker(args.python!, "lpips_torch.py");
  const rows: string[][] = [];
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
  console.log(
    `LPIPS v0.1 (calibrated), ${threads} thread(s), PyTorch ${torchThreads}; ${navigator.hardwareConcurrency} logical ` +
      `cores; fastest pass of ${rounds} alternating rounds of ~${roundSeconds} s each`,
  );
  const load = () => Deno.loadavg().map((l) => l.toFixed(1)).join(" ");
  console.log(
    `load average at start: ${load()} (other processes skew both sides; rerun when quiet)`,
  );
  let worstDiff = 0;
  // The machine's SGEMM peak: the better of ONNX Runtime's (MLAS) and PyTorch's BLAS.
  const mlas = await mlasPeak(2048, threads);
  const blas = (await torch.call({ cmd: "sgemm", n: 1024, threads: torchThreads }))
    .gflops as number;
  const peak = Math.max(mlas, blas);
  console.log(
    `SGEMM 2048x2048: MLAS ${mlas.toFixed(0)} GFLOP/s (${threads} threads), torch.mm ` +
      `${blas.toFixed(0)} (${torchThreads}); peak ${peak.toFixed(0)}`,
  );
  try {
    for (const net of nets) {
      const info = await torch.call(torchLoad(net));
      const onnx = await loadModels(net, "onnx");
      const tfjs = args.tfjs ? await loadModels(net, "tfjs") : undefined;
      console.error(
        `${net}${trunkPath(net).note}: torch ${info.torch}, torchvision ${info.torchvision}`,
      );
      for (const w of workloads([net])) {
        const { xs, pairs } = inputs(w);
        const files = await writeInputs(w, xs);
        const torchOut = join(tmp, "torch_out.bin");
        // The reference's eval: ref's trunk once per pair (same distances, same order).
        const refEval = w.kind === "triplet-ref";
        const torchRun = async (iters: number, warmup = 0) => {
          const r = await torch.call({
            cmd: "run",
            inputs: refEval ? [files[0], files[1], files[0], files[2]] : files,
            shape: [w.batch, 3, w.size, w.size],
            pairs: refEval ? [[0, 1], [2, 3]] : pairs,
            spatial: w.spatial,
            iters,
            warmup_s: warmup,
            out: torchOut,
          });
          return r.seconds as number;
        };
        const engines: [string, Runner][] = [["onnx", apiRunner(onnx)]];
        if (tfjs) engines.push(["tfjs-wasm", apiRunner(tfjs)]);
        // Calibrate: one pass each after ~1 s of warm-up passes, then iterations for ~roundSeconds.
        const tT = await torchRun(1, 1);
        const best = new Map<string, number>([["torch", tT]]);
        const iters = new Map<string, number>([[
          "torch",
          Math.max(1, Math.round(roundSeconds / tT)),
        ]]);
        const outs = new Map<string, Float32Array>();
        for (const [name, run] of engines) {
          const t0 = performance.now();
          do await run(xs, pairs, w.spatial); while (performance.now() - t0 < 1000);
          const r = await timeRunner(run, xs, pairs, w.spatial, 1);
          best.set(name, r.seconds);
          iters.set(name, Math.max(1, Math.round(roundSeconds / r.seconds)));
          outs.set(name, r.out);
        }
        for (let r = 0; r < rounds; r++) {
          best.set("torch", Math.min(best.get("torch")!, await torchRun(iters.get("torch")!)));
          for (const [name, run] of engines) {
            const t = await timeRunner(run, xs, pairs, w.spatial, iters.get(name)!);
            best.set(name, Math.min(best.get(name)!, t.seconds));
          }
        }
        const want = new Float32Array((await Deno.readFile(torchOut)).buffer);
        const pairsPerPass = w.batch * pairs.length;
        const rate = (name: string) => pairsPerPass / best.get(name)!;
        // Trunk GFLOP/s as a fraction of the SGEMM peak: images through the trunk per pair are 2
        // (a pair), 1.5 (a triplet, ref once) or, for the reference's eval procedure, 2 on torch.
        const imagesPerPair = (side: "ours" | "torch") =>
          w.kind === "pair" || (side === "torch" && refEval) ? 2 : 1.5;
        const peakShare = (side: "ours" | "torch", pairsPerSecond: number) =>
          `${
            (100 * pairsPerSecond * imagesPerPair(side) * 2 * trunkMacs(w.net, w.size) / 1e9 /
              peak).toFixed(0)
          }%`;
        for (const [name] of engines) {
          const diff = maxDiff(outs.get(name)!, want);
          worstDiff = Math.max(worstDiff, diff);
          rows.push([
            label(w),
            name,
            rate(name).toFixed(1),
            rate("torch").toFixed(1),
            (rate(name) / rate("torch")).toFixed(2),
            peakShare("ours", rate(name)),
            peakShare("torch", rate("torch")),
            diff.toExponential(1),
          ]);
          console.error(rows.at(-1)!.join("  "));
        }
      }
      onnx.dispose();
      tfjs?.dispose();
    }
  } finally {
    await torch.close();
  }
  const head = [
    "workload",
    "engine",
    "pairs/s",
    "torch pairs/s",
    "ratio",
    "% of SGEMM peak",
    "torch % of peak",
    "max |diff|",
  ];
  printTable(head, rows);
  console.log(`load average at end: ${load()}`);
  console.log(`largest difference from PyTorch: ${worstDiff.toExponential(2)} (limit 1e-5)`);

  if (!args["no-rss"]) {
    const rss: string[][] = [];
    const cases: Workload[] = [
      { net: "alex", size: 1024, batch: 1, kind: "pair", spatial: true },
      { net: "alex", size: 64, batch: 50, kind: "pair", spatial: false },
    ];
    for (const w of cases) {
      const files = await writeInputs(w, inputs(w).xs);
      const t = await torchRss(w, files);
      const child = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          // All access: reading and resetting the peak RSS in /proc/self needs it.
          "--allow-all",
          import.meta.url,
          "--threads",
          String(threads),
          "--rss-child",
          [w.net, w.size, w.batch, w.spatial ? 1 : 0].join(","),
        ],
        stderr: "inherit",
      }).output();
      const o = JSON.parse(new TextDecoder().decode(child.stdout).trim().split("\n").at(-1)!);
      rss.push([label(w), mb(o.loaded), mb(o.peak), mb(t.loaded), mb(t.peak)]);
    }
    printTable(
      ["workload (fresh process)", "onnx loaded", "onnx peak", "torch loaded", "torch peak"],
      rss,
    );
  }
  if (worstDiff > 1e-5) {
    console.error("the engines disagree with PyTorch by more than 1e-5");
    Deno.exitCode = 1;
  }
}

function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log(line(head));
  console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
  for (const r of rows) console.log(line(r));
}

try {
  if (args["rss-child"]) await rssChild(args["rss-child"]);
  else await main();
} finally {
  await Deno.remove(tmp, { recursive: true });
}
