/**
 * LPIPS on a GPU, side by side with PyTorch: the Deno half of `bench/gpu.sh` (run that script; it
 * sets up Deno, the npm packages, the Vulkan loader and the weights on a machine without network).
 *
 * 1. Prints the WebGPU adapter Deno sees; a fallback (software) adapter is an error unless
 *    `--allow-fallback` (Mesa's lavapipe, to check the script on a machine without a GPU).
 * 2. Runs the `lpips` conformance cases of `reference/cases.json` on the `webgpu` backend and
 *    checks them within 1e-4 (`--quick`: all but VGG on the large inputs).
 * 3. Times LPIPS v0.1 (calibrated) alex/squeeze/vgg on `webgpu` (TF.js), on the `onnx` engine
 *    with ONNX Runtime's WebGPU execution provider (Dawn over Vulkan: `onnx-webgpu`), on the
 *    `onnx` engine on the CPU (all cores, for reference) and through `bench/lpips_torch.py` on
 *    CUDA (on the CPU when torch sees no GPU: the table says so). Dawn refuses adapters without
 *    the Vulkan features it needs (lavapipe among them): its column then holds the error, which
 *    fails the run unless `--allow-fallback`. Workloads: 64x64 at batch 1, 50 and 500,
 *    256x256 and 1024x1024 at batch 1 (`--quick`: 64x64 at batch 1 and 4, 128x128 at batch 1).
 *    Each engine: one warm-up call (timed separately: it compiles the shaders), then passes for
 *    `--seconds` (default 2; the fastest pass counts, as in `bench:torch`). Every engine's
 *    distances are compared with PyTorch's. WebGPU's passes include uploading the inputs from
 *    CPU arrays; PyTorch's inputs are on the GPU before timing.
 * 4. Prints one table (pairs/s and ratios) and writes everything as JSON (`--out`, default
 *    `out/gpu_bench.json`).
 *
 * Needs `LPIPS_TEST_DATA` (reference/, images/, weights/) and `--allow-all`. Exits non-zero when a
 * conformance value is off by more than 1e-4 or an engine differs from PyTorch by more than 1e-4.
 * `--touch` runs a tiny slice of everything (squeeze, 4 cases, one workload):
 * `bench/gpu_prepare.sh` uses it to see which npm files the run reads.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ImageTensor } from "../bappsloader/image.ts";
import { LPIPS } from "../lpips/lpips.ts";
import type { NetName } from "../lpips/arch.ts";
import { linFileName } from "../lpips/weight_files.ts";
import { type LpipsCase, lpipsCases, runCases } from "../lpips/conformance.ts";
import { testData } from "../_internal/test_data.ts";
import { TorchWorker } from "./_torch_worker.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    "allow-fallback": { type: "boolean", default: false },
    touch: { type: "boolean", default: false },
    "no-torch": { type: "boolean", default: false },
    "no-conformance": { type: "boolean", default: false },
    nets: { type: "string", default: "alex,squeeze,vgg" },
    seconds: { type: "string" },
    out: { type: "string", default: "out/gpu_bench.json" },
    python: { type: "string" },
    /** Set by gpu.sh when the regenerated VGG stand-in does not match its pinned hashes. */
    "vgg-unpinned": { type: "boolean", default: false },
  },
}).values;

const CONFORMANCE_TOLERANCE = 1e-4;
const TORCH_TOLERANCE = 1e-4;
const seconds = Number(args.seconds ?? (args.quick ? 0.5 : 2));
const threads = navigator.hardwareConcurrency ?? 1;
const weightsDir = testData("weights");
const tmp = await Deno.makeTempDir({ prefix: "lpips-gpu-bench-" });

interface Workload {
  net: NetName;
  size: number;
  batch: number;
}

interface EngineTiming {
  /** Seconds of the first call (shader compilation, uploads). */
  firstCallSeconds: number | null;
  /** Seconds of the fastest steady-state pass. */
  seconds: number | null;
  pairsPerSecond: number | null;
  passes: number;
  /** Largest |distance - PyTorch's distance| (null without PyTorch). */
  maxDiffFromTorch: number | null;
  /** Why the engine failed on this workload (the other fields are then null): one failure does
   * not end the run, so a single session on a GPU machine still yields the rest of the table. */
  error?: string;
}

interface Row {
  workload: string;
  net: NetName;
  size: number;
  batch: number;
  webgpu: EngineTiming;
  onnxWebgpu: EngineTiming;
  onnxCpu: EngineTiming;
  torch: { device: string; pairsPerSecond: number; seconds: number } | { error: string } | null;
}

/** Deterministic [-1, 1] images from integer pixel values (as bench/lpips_bench.ts). */
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

function trunkPath(net: NetName): string {
  const files = {
    alex: "alexnet-owt-7be5be79.pth",
    squeeze: "squeezenet1_1-b8a52dc0.pth",
    vgg: "vgg16-random-seed0.pth",
  };
  return join(weightsDir, files[net]);
}

function workloads(nets: NetName[]): Workload[] {
  const shapes: [number, number][] = args.touch
    ? [[64, 1]]
    : args.quick
    ? [[64, 1], [64, 4], [128, 1]]
    : [[64, 1], [64, 50], [64, 500], [256, 1], [1024, 1]];
  return nets.flatMap((net) => shapes.map(([size, batch]) => ({ net, size, batch })));
}

interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

/** The adapter TF.js's webgpu backend will get (it asks for high performance too). */
async function adapterReport(): Promise<AdapterReport> {
  const adapter = await navigator.gpu?.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) {
    throw new Error(
      "webgpu: Deno sees no GPU adapter (is a Vulkan loader, libvulkan1, and the GPU's Vulkan " +
        "driver installed? VK_DRIVER_FILES can name the driver's ICD json)",
    );
  }
  const info = adapter.info;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: info.isFallbackAdapter ?? false,
  };
}

/** VGG on the 256x256 and 512x384 inputs (minutes on software WebGPU). */
function isLargeVgg(c: LpipsCase): boolean {
  return c.config.net === "vgg" && /^(tid_|rand_1x3x256x256$)/.test(c.id.split(".")[1]);
}

async function conformance(): Promise<Record<string, unknown>> {
  let cases = await lpipsCases();
  const skipped: string[] = [];
  if (args["vgg-unpinned"]) {
    cases = cases.filter((c) => c.config.net !== "vgg");
    skipped.push("vgg (the regenerated random VGG weights differ from the reference's file)");
  }
  if (args.quick) {
    cases = cases.filter((c) => !isLargeVgg(c));
    skipped.push("vgg on the 256x256 and 512x384 inputs (--quick)");
  }
  if (args.touch) cases = cases.filter((c) => c.config.net === "squeeze").slice(0, 4);
  // gpu_prepare.sh leaves the per-layer maps out (size): their means and samples still count.
  let notCarried = 0;
  for (const c of cases) {
    for (const k of ["map_npy", "per_layer_maps_npy"] as const) {
      const file = c.expected[k];
      if (file && !existsSync(testData(file))) {
        delete c.expected[k];
        notCarried++;
      }
    }
  }
  if (notCarried > 0) {
    skipped.push(
      `${notCarried} full-map .npy comparisons (files not carried; cases.json's ` +
        "map means, minima, maxima and samples are still compared)",
    );
  }
  const t0 = performance.now();
  const dev = await runCases(cases, "webgpu");
  const secs = (performance.now() - t0) / 1000;
  const pass = dev.max <= CONFORMANCE_TOLERANCE && dev.compared >= cases.length * 6;
  console.log(
    `conformance on webgpu: ${cases.length} cases, ${dev.compared} values, max |deviation| ` +
      `${dev.max.toExponential(2)} (limit ${CONFORMANCE_TOLERANCE}) ${pass ? "PASS" : "FAIL"} ` +
      `in ${secs.toFixed(0)} s${dev.max > 0 ? ` [worst: ${dev.where}]` : ""}`,
  );
  for (const s of skipped) console.log(`  not run: ${s}`);
  return {
    cases: cases.length,
    values: dev.compared,
    maxDeviation: dev.max,
    worst: dev.where,
    tolerance: CONFORMANCE_TOLERANCE,
    pass,
    seconds: secs,
    skipped,
  };
}

/** Times `run` (one pass = one `distance()` call): the first call, then passes for `seconds`. */
async function timeEngine(run: () => Promise<Float32Array>): Promise<
  { first: number; best: number; passes: number; out: Float32Array }
> {
  let t0 = performance.now();
  let out = await run();
  const first = (performance.now() - t0) / 1000;
  let best = Infinity;
  let passes = 0;
  const start = performance.now();
  do {
    t0 = performance.now();
    out = await run();
    best = Math.min(best, (performance.now() - t0) / 1000);
    passes++;
  } while (performance.now() - start < seconds * 1000 || passes < 2);
  return { first, best, passes, out };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return Number.isNaN(d) ? Infinity : d;
}

/** The first Python on the list that imports torch and torchvision. */
async function findPython(): Promise<string | undefined> {
  const candidates = args.python ? [args.python] : ["python3", "/usr/bin/python3"];
  for (const py of candidates) {
    try {
      const r = await new Deno.Command(py, {
        args: ["-c", "import torch, torchvision"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (r.success) return py;
    } catch {
      // not there: try the next
    }
  }
  return undefined;
}

async function bench(nets: NetName[]): Promise<{ rows: Row[]; torchInfo: string | null }> {
  const python = args["no-torch"] ? undefined : await findPython();
  if (!args["no-torch"] && !python) {
    console.log("PyTorch: no python3 with torch and torchvision found; torch columns left empty");
  }
  const torch = python ? new TorchWorker(python, "lpips_torch.py") : undefined;
  const rows: Row[] = [];
  let torchInfo: string | null = null;
  try {
    for (const net of nets) {
      const common = { net, weightsDir, trunkPath: trunkPath(net), quiet: true } as const;
      const gpu = await LPIPS.create({ ...common, engine: "tfjs", backend: "webgpu" });
      // The TF.js backend is process-wide: the onnx model's (unused) TF.js twin stays on webgpu
      // too, else creating it would move the webgpu model's weights to another backend.
      const onnx = await LPIPS.create({ ...common, engine: "onnx", backend: "webgpu", threads });
      const onnxGpu = await LPIPS.create({
        ...common,
        engine: "onnx",
        backend: "webgpu",
        onnxDevice: "webgpu",
      });
      let device = "";
      if (torch) {
        const info = await torch.call({
          cmd: "load",
          net,
          version: "0.1",
          lpips: true,
          trunk: trunkPath(net),
          lin: join(weightsDir, linFileName(net, "0.1")),
          threads,
          device: "auto",
        });
        device = info.device === "cuda"
          ? `cuda (${info.gpu})`
          : "cpu (CUDA absent: PyTorch on the CPU stands in)";
        torchInfo = `torch ${info.torch}, torchvision ${info.torchvision}, ${device}`;
      }
      for (const w of workloads([net])) {
        const label = `${w.net} ${w.size}x${w.size} b${w.batch}`;
        const a = images(w.batch, w.size, 1), b = images(w.batch, w.size, 2);
        let want: Float32Array | undefined;
        let torchRow: Row["torch"] = null;
        const torchTiming = async (): Promise<Row["torch"]> => {
          if (!torch) return null;
          const files = [a, b].map((x, i) => {
            const p = join(tmp, `in${i}.bin`);
            Deno.writeFileSync(p, new Uint8Array(x.data.buffer));
            return p;
          });
          const outFile = join(tmp, "torch_out.bin");
          const r = await torch.call({
            cmd: "run",
            inputs: files,
            shape: [w.batch, 3, w.size, w.size],
            pairs: [[0, 1]],
            spatial: false,
            iters: 1,
            warmup_s: seconds,
            out: outFile,
          });
          // Calibrated: as many passes as fill `seconds`; the fastest counts.
          const iters = Math.max(2, Math.round(seconds / (r.seconds as number)));
          const r2 = await torch.call({
            cmd: "run",
            inputs: files,
            shape: [w.batch, 3, w.size, w.size],
            pairs: [[0, 1]],
            spatial: false,
            iters,
            out: outFile,
          });
          const secs = Math.min(r.seconds as number, r2.seconds as number);
          want = new Float32Array((await Deno.readFile(outFile)).buffer);
          return { device, seconds: secs, pairsPerSecond: w.batch / secs };
        };
        if (torch) torchRow = await torchTiming().catch((e) => ({ error: message(e) }));
        const timing = async (m: LPIPS): Promise<EngineTiming> => {
          try {
            const t = await timeEngine(() => m.distance(a, b));
            return {
              firstCallSeconds: t.first,
              seconds: t.best,
              pairsPerSecond: w.batch / t.best,
              passes: t.passes,
              maxDiffFromTorch: want ? maxDiff(t.out, want) : null,
            };
          } catch (e) {
            return {
              firstCallSeconds: null,
              seconds: null,
              pairsPerSecond: null,
              passes: 0,
              maxDiffFromTorch: null,
              error: message(e),
            };
          }
        };
        const row: Row = {
          workload: label,
          ...w,
          webgpu: await timing(gpu),
          onnxWebgpu: await timing(onnxGpu),
          onnxCpu: await timing(onnx),
          torch: torchRow,
        };
        rows.push(row);
        const rate = (t: { pairsPerSecond?: number | null; error?: string } | null) =>
          t?.error ? `error (${t.error})` : t?.pairsPerSecond?.toFixed(1) ?? "-";
        console.error(
          `${label}: webgpu ${rate(row.webgpu)} pairs/s (first call ${
            row.webgpu.firstCallSeconds?.toFixed(2) ?? "-"
          } s), onnx-webgpu ${rate(row.onnxWebgpu)}, onnx-cpu ${rate(row.onnxCpu)}, ` +
            `torch ${rate(torchRow)}`,
        );
      }
      gpu.dispose();
      onnxGpu.dispose();
      onnx.dispose();
    }
  } finally {
    await torch?.close();
  }
  return { rows, torchInfo };
}

function printTable(rows: Row[]): void {
  const f = (x: number | null | undefined, d = 1) => x == null ? "-" : x.toFixed(d);
  const e = (x: number | null) => x == null ? "-" : x.toExponential(1);
  const head = [
    "workload",
    "webgpu pairs/s",
    "onnx-webgpu pairs/s",
    "onnx-cpu pairs/s",
    "torch pairs/s",
    "webgpu/torch",
    "onnx-webgpu/torch",
    "onnx-cpu/torch",
    "webgpu first call s",
    "max |diff| webgpu",
    "max |diff| onnx-webgpu",
    "max |diff| onnx",
  ];
  const rate = (x: { pairsPerSecond?: number | null; error?: string } | null) =>
    x?.error ? "error" : f(x?.pairsPerSecond);
  const ratio = (x: number | null, t: number | undefined) => x != null && t ? f(x / t, 2) : "-";
  const body = rows.map((r) => {
    const t = r.torch && "pairsPerSecond" in r.torch ? r.torch.pairsPerSecond : undefined;
    return [
      r.workload,
      rate(r.webgpu),
      rate(r.onnxWebgpu),
      rate(r.onnxCpu),
      rate(r.torch),
      ratio(r.webgpu.pairsPerSecond, t),
      ratio(r.onnxWebgpu.pairsPerSecond, t),
      ratio(r.onnxCpu.pairsPerSecond, t),
      f(r.webgpu.firstCallSeconds, 2),
      e(r.webgpu.maxDiffFromTorch),
      e(r.onnxWebgpu.maxDiffFromTorch),
      e(r.onnxCpu.maxDiffFromTorch),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log(line(head));
  console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
  for (const r of body) console.log(line(r));
}

async function main(): Promise<number> {
  const adapter = await adapterReport();
  console.log(
    `WebGPU adapter: ${adapter.description || "(no description)"}; vendor ${
      adapter.vendor || "?"
    }, architecture ${adapter.architecture || "?"}, device ${adapter.device || "?"}, ` +
      `fallback ${adapter.isFallbackAdapter}`,
  );
  if (adapter.isFallbackAdapter && !args["allow-fallback"]) {
    console.error(
      "error: Deno's WebGPU adapter is a fallback (software) adapter, not a GPU: check the GPU's " +
        "Vulkan driver (VK_DRIVER_FILES), or pass --allow-fallback to run on it anyway",
    );
    return 2;
  }
  const nets = args.touch ? ["squeeze" as NetName] : args.nets!.split(",") as NetName[];
  const conf = args["no-conformance"] ? null : await conformance();
  const { rows, torchInfo } = await bench(nets);
  console.log(
    `\nLPIPS v0.1 (calibrated) on ${
      adapter.isFallbackAdapter ? "a FALLBACK adapter (software; not a GPU speed)" : "the GPU"
    }: ${adapter.description || adapter.vendor}; onnx-cpu: ONNX Runtime, ${threads} threads; ` +
      `PyTorch: ${torchInfo ?? "not run"}. Fastest pass after ~${seconds} s of passes.`,
  );
  printTable(rows);
  const worstTorch = Math.max(
    0,
    ...rows.flatMap((r) => [r.webgpu, r.onnxWebgpu, r.onnxCpu].map((t) => t.maxDiffFromTorch ?? 0)),
  );
  const report = {
    date: new Date().toISOString(),
    quick: args.quick,
    deno: Deno.version.deno,
    adapter,
    cpuThreads: threads,
    torch: torchInfo,
    seconds,
    conformance: conf,
    maxDiffFromTorch: worstTorch,
    torchTolerance: TORCH_TOLERANCE,
    rows,
  };
  await Deno.mkdir(dirname(args.out!), { recursive: true });
  await Deno.writeTextFile(args.out!, JSON.stringify(report, null, 2) + "\n");
  console.log(`written: ${args.out}`);
  let failed = false;
  if (conf && !conf.pass) {
    console.error(`error: conformance on webgpu failed (limit ${CONFORMANCE_TOLERANCE})`);
    failed = true;
  }
  if (worstTorch > TORCH_TOLERANCE) {
    console.error(`error: an engine differs from PyTorch by ${worstTorch} (> ${TORCH_TOLERANCE})`);
    failed = true;
  }
  for (const r of rows) {
    const engines = [
      ["webgpu", r.webgpu],
      ["onnx-webgpu", r.onnxWebgpu],
      ["onnx-cpu", r.onnxCpu],
      ["torch", r.torch],
    ] as const;
    for (const [engine, t] of engines) {
      const error = t && typeof t === "object" && "error" in t ? t.error : undefined;
      if (!error) continue;
      // On a software adapter (a check of the script, not a GPU run) Dawn's refusal is expected.
      const expected = engine === "onnx-webgpu" && args["allow-fallback"];
      console.error(`${expected ? "note" : "error"}: ${r.workload} on ${engine}: ${error}`);
      if (!expected) failed = true;
    }
  }
  return failed ? 1 : 0;
}

/** The first line of an error's message. */
function message(e: unknown): string {
  return e instanceof Error ? e.message.split("\n")[0] : String(e);
}

try {
  Deno.exitCode = await main();
} catch (e) {
  console.error(`error: ${e instanceof Error ? e.message : e}`);
  Deno.exitCode = 1;
} finally {
  await Deno.remove(tmp, { recursive: true });
}
