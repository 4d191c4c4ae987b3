/**
 * BAPPS 2AFC evaluation throughput side by side with the reference pipeline in PyTorch:
 * `deno run -A bench/eval_bench.ts [--triplets N] [--dir D] [--keep]`.
 *
 * 1. Generates a BAPPS-format 2AFC set `<dir>/2afc/val/bench/{ref,p0,p1,judge}/NNNNNN.{png,npy}`
 *    (default 2,000 triplets): 256x256 RGB PNGs that are 64x64 patches enlarged 4x with nearest
 *    neighbour, as in the real set (synthetic content from a seeded PRNG: gradients, a
 *    sinusoid and noise; p0/p1 distorted by noise, blur, brightness, contrast or posterisation)
 *    and float64 `(1,)` judgements `k/5`. Generated in parallel Web Workers; an existing set in
 *    `--dir` made with the same `--triplets` and `--seed` is reused. Without `--dir` it goes to
 *    a temporary folder, removed at the end unless `--keep`.
 * 2. Times, in alternating rounds (ours, torch, ours, torch, ...; the fastest pass of each counts):
 *    - ours: `evaluate({ mode: "2afc", model: "lpips", net: "alex" })` end to end on that set
 *      (listing, decode, `Resize(64)`, normalise, LPIPS, 2AFC score) with the default engine
 *      (`auto`: ONNX Runtime under `-A`) and with TF.js wasm; and the loader alone
 *      (`twoAFCBatches` without a model: decode + resize + normalise).
 *    - torch: bench/eval_torch.py, the reference's loader (PIL -> `Resize(64)` -> `ToTensor` ->
 *      `Normalize`, a `DataLoader` of batch 50) feeding LPIPS alex of bench/lpips_torch.py as the
 *      reference computes it (`d0 = LPIPS(ref, p0)`, `d1 = LPIPS(ref, p1)`, the ref trunk run
 *      twice), and the same loader alone.
 *    Each for every count in `--workers` (default `0,2`; TF.js for the first only): our
 *    `evaluate({ workers })` decode workers and the `DataLoader`'s `num_workers`; the ratio pairs
 *    equal counts.
 *    Both sides load their model once, outside the timed passes (load times are printed), and
 *    neither bootstraps (the reference has no intervals; `evaluate({ bootstrap: 0 })`).
 * 3. Checks that the 2AFC scores agree within 1e-4 and every distance within 1e-5 (exit code 1
 *    otherwise), and prints one table of triplets/s with the ratio ours/torch, the cores and the
 *    load average at start and end.
 *
 * Options: `--triplets N` (2000), `--dir D`, `--keep`, `--seed S` (0), `--rounds R` (2),
 * `--workers 0,2`, `--threads N` (ONNX intra-op threads; default all cores), `--torch-threads N`
 * (default 2; PyTorch's OpenMP threads stall while other processes hold the cores, where 1 can be
 * several times faster), `--no-tfjs`, `--no-torch`, `--python PATH` (/usr/bin/python3). Without
 * a Python that imports torch and torchvision, only our side is timed (ratio column `-`).
 * Weights: `LPIPS_WEIGHTS_DIR`, else the test data's `weights/` (`LPIPS_TEST_DATA`, `../shared`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { encode } from "fast-png";
import { writeNpy } from "../bappsloader/npy.ts";
import type { TwoAFCItems } from "../eval/runner.ts";
import type { LPIPS } from "../lpips/lpips.ts";
import { TorchWorker } from "./_torch_worker.ts";

const SUBSET = "val/bench";
const PATCH = 64;
const SCALE = 4;
/** Bumped when the generated content changes, so an old set in `--dir` is not reused. */
const GENERATOR = 1;

// ---------------------------------------------------------------------------------------------
// Generation (runs in Web Workers: this module is its own worker script)

/** A job for a generator worker: triplets [start, end) of the set in `dir`. */
interface GenJob {
  dir: string;
  seed: number;
  start: number;
  end: number;
}

/** xorshift32 on a seed mixed from (seed, item, stream): uniform numbers in [0, 1). */
function prng(seed: number, item: number, stream: number): () => number {
  let s = Math.imul(seed + 0x3c6ef372, 0x9e3779b1) ^ Math.imul(item + 1, 0x85ebca6b) ^
    Math.imul(stream + 7, 0xc2b2ae35);
  s = (s ^ (s >>> 16)) >>> 0 || 0x1234567;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** A smooth 64x64 RGB patch (HWC, float 0..255 before rounding): gradients, a wave, noise. */
function refPatch(u: () => number): Float32Array {
  const out = new Float32Array(PATCH * PATCH * 3);
  for (let c = 0; c < 3; c++) {
    const base = 40 + 170 * u(), gx = 3 * (u() - 0.5), gy = 3 * (u() - 0.5);
    const amp = 35 * u(), fx = 0.05 + 0.35 * u(), fy = 0.05 + 0.35 * u(), ph = 6.3 * u();
    const noise = 2 + 14 * u();
    for (let y = 0; y < PATCH; y++) {
      for (let x = 0; x < PATCH; x++) {
        out[(y * PATCH + x) * 3 + c] = base + gx * (x - 32) + gy * (y - 32) +
          amp * Math.sin(fx * x + fy * y + ph) + noise * (u() + u() - 1);
      }
    }
  }
  return out;
}

const DISTORTIONS = ["noise", "blur", "brightness", "contrast", "posterize"] as const;
/** How much a unit of severity of each distortion "costs" the simulated observers. */
const COST = [1.0, 1.2, 0.6, 0.8, 1.1];

/** A distorted copy of `ref` and its perceptual cost. */
function distort(ref: Float32Array, u: () => number): { img: Float32Array; cost: number } {
  const k = Math.floor(u() * DISTORTIONS.length);
  const sev = 0.1 + 0.9 * u();
  const img = new Float32Array(ref.length);
  const kind = DISTORTIONS[k];
  if (kind === "noise") {
    const sigma = 3 + 30 * sev;
    for (let i = 0; i < img.length; i++) img[i] = ref[i] + sigma * (u() + u() + u() - 1.5);
  } else if (kind === "blur") {
    for (let y = 0; y < PATCH; y++) {
      for (let x = 0; x < PATCH; x++) {
        for (let c = 0; c < 3; c++) {
          let s = 0, n = 0;
          for (let dy = -1; dy <= 1; dy++) {
            for (let dx = -1; dx <= 1; dx++) {
              const yy = y + dy, xx = x + dx;
              if (yy < 0 || yy >= PATCH || xx < 0 || xx >= PATCH) continue;
              s += ref[(yy * PATCH + xx) * 3 + c];
              n++;
            }
          }
          const i = (y * PATCH + x) * 3 + c;
          img[i] = ref[i] + sev * (s / n - ref[i]);
        }
      }
    }
  } else if (kind === "brightness") {
    const d = (u() < 0.5 ? -1 : 1) * 40 * sev;
    for (let i = 0; i < img.length; i++) img[i] = ref[i] + d;
  } else if (kind === "contrast") {
    let mean = 0;
    for (let i = 0; i < ref.length; i++) mean += ref[i];
    mean /= ref.length;
    const f = 1 + (u() < 0.5 ? -0.6 : 0.6) * sev;
    for (let i = 0; i < img.length; i++) img[i] = mean + f * (ref[i] - mean);
  } else {
    const step = 256 / 2 ** Math.round(6 - 4 * sev);
    for (let i = 0; i < img.length; i++) img[i] = (Math.floor(ref[i] / step) + 0.5) * step;
  }
  return { img, cost: COST[k] * sev };
}

/** A 64x64 float patch as a 256x256 RGB PNG: rounded, clipped, enlarged 4x (nearest). */
function patchPng(p: Float32Array, rgb: Uint8Array): Uint8Array {
  const size = PATCH * SCALE;
  for (let y = 0; y < PATCH; y++) {
    const row = new Uint8Array(size * 3);
    for (let x = 0; x < PATCH; x++) {
      for (let c = 0; c < 3; c++) {
        const v = Math.min(255, Math.max(0, Math.round(p[(y * PATCH + x) * 3 + c])));
        for (let r = 0; r < SCALE; r++) row[(x * SCALE + r) * 3 + c] = v;
      }
    }
    for (let r = 0; r < SCALE; r++) rgb.set(row, (y * SCALE + r) * size * 3);
  }
  return encode({ width: size, height: size, data: rgb, channels: 3, depth: 8 });
}

function subsetDir(dir: string): string {
  return join(dir, "2afc", SUBSET);
}

function generate(job: GenJob): void {
  const root = subsetDir(job.dir);
  const rgb = new Uint8Array(PATCH * SCALE * PATCH * SCALE * 3);
  for (let i = job.start; i < job.end; i++) {
    const u = prng(job.seed, i, 0);
    const ref = refPatch(u);
    const a = distort(ref, u), b = distort(ref, u);
    // 5 simulated observers; each picks p1 with a probability that grows with cost(p0) - cost(p1).
    const p1 = 0.025 + 0.95 / (1 + Math.exp(-(a.cost - b.cost) / 0.15));
    let votes = 0;
    for (let v = 0; v < 5; v++) votes += u() < p1 ? 1 : 0;
    const name = String(i).padStart(6, "0");
    Deno.writeFileSync(join(root, "ref", `${name}.png`), patchPng(ref, rgb));
    Deno.writeFileSync(join(root, "p0", `${name}.png`), patchPng(a.img, rgb));
    Deno.writeFileSync(join(root, "p1", `${name}.png`), patchPng(b.img, rgb));
    Deno.writeFileSync(
      join(root, "judge", `${name}.npy`),
      writeNpy(new Float64Array([votes / 5]), [1]),
    );
  }
}

interface WorkerScope {
  postMessage(message: unknown): void;
  onmessage: ((e: MessageEvent<GenJob>) => void) | null;
}

const workerScope = (globalThis as { WorkerGlobalScope?: { new (): unknown } }).WorkerGlobalScope;
const IN_WORKER = workerScope !== undefined && globalThis instanceof workerScope;

if (IN_WORKER) {
  const scope = globalThis as unknown as WorkerScope;
  scope.onmessage = (e) => {
    try {
      generate(e.data);
      scope.postMessage({ ok: true });
    } catch (err) {
      scope.postMessage({ ok: false, error: String(err) });
    }
  };
}

/** Generates `n` triplets into `dir` with one worker per core; returns seconds taken. */
async function generateSet(dir: string, n: number, seed: number): Promise<number> {
  const t0 = performance.now();
  const root = subsetDir(dir);
  for (const role of ["ref", "p0", "p1", "judge"]) {
    await Deno.mkdir(join(root, role), { recursive: true });
  }
  const chunk = 50;
  const jobs: GenJob[] = [];
  for (let s = 0; s < n; s += chunk) {
    jobs.push({ dir, seed, start: s, end: Math.min(n, s + chunk) });
  }
  const count = Math.max(1, Math.min(navigator.hardwareConcurrency ?? 1, 8, jobs.length));
  const workers = Array.from(
    { length: count },
    () => new Worker(import.meta.url, { type: "module" }),
  );
  try {
    await Promise.all(workers.map(async (w) => {
      for (let job = jobs.shift(); job; job = jobs.shift()) {
        const reply = await new Promise<{ ok: boolean; error?: string }>((resolve, reject) => {
          w.onmessage = (e) => resolve(e.data);
          w.onerror = (e) => {
            e.preventDefault();
            reject(new Error(`generator worker failed: ${e.message}`));
          };
          w.postMessage(job);
        });
        if (!reply.ok) throw new Error(`generator worker: ${reply.error}`);
      }
    }));
  } finally {
    for (const w of workers) w.terminate();
  }
  return (performance.now() - t0) / 1000;
}

/** Uses the set in `dir` if it was made with these settings, else (re)generates it. */
async function prepareSet(dir: string, n: number, seed: number): Promise<string> {
  const marker = join(dir, "eval_bench.json");
  const want = JSON.stringify({ generator: GENERATOR, triplets: n, seed });
  if (existsSync(marker)) {
    if ((await Deno.readTextFile(marker)).trim() === want) {
      return `reusing ${n} triplets in ${subsetDir(dir)}`;
    }
    // Our own earlier set with other settings: replace it.
    await Deno.remove(marker);
    await Deno.remove(subsetDir(dir), { recursive: true }).catch(() => {});
  } else if (existsSync(subsetDir(dir))) {
    throw new Error(
      `${subsetDir(dir)} exists but was not made by this benchmark; pick another --dir`,
    );
  }
  const secs = await generateSet(dir, n, seed);
  await Deno.writeTextFile(marker, want + "\n");
  let bytes = 0;
  for (const role of ["ref", "p0", "p1"]) {
    for await (const e of Deno.readDir(join(subsetDir(dir), role))) {
      bytes += (await Deno.stat(join(subsetDir(dir), role, e.name))).size;
    }
  }
  return `generated ${n} triplets (${3 * n} PNGs, ${(bytes / 2 ** 20).toFixed(0)} MB) in ` +
    `${secs.toFixed(1)} s into ${subsetDir(dir)}`;
}

// ---------------------------------------------------------------------------------------------
// The PyTorch worker

// ---------------------------------------------------------------------------------------------
// The benchmark

function findWeightsDir(): string {
  const env = Deno.env.get("LPIPS_WEIGHTS_DIR");
  if (env) return env;
  const dir = join(Deno.env.get("LPIPS_TEST_DATA") ?? "../shared", "weights");
  if (!existsSync(dir)) throw new Error("no weights: set LPIPS_WEIGHTS_DIR (or LPIPS_TEST_DATA)");
  return dir;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log(line(head));
  console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
  for (const r of rows) console.log(line(r));
}

/** One timed configuration: a side, a workload and a worker count. */
interface Case {
  side: "ours" | "torch";
  /** Row label. */
  what: string;
  workers: number;
  /** Runs one pass; returns its seconds (and the per-item distances, for eval passes). */
  pass: () => Promise<{ seconds: number; d?: Float32Array; score?: number }>;
  best: number;
  d?: Float32Array;
  score?: number;
}

async function main(): Promise<void> {
  // Imported here, not at the top: the generator workers load this module and need none of it.
  const { listTwoAFC } = await import("../bappsloader/layout.ts");
  const { twoAFCBatches } = await import("../bappsloader/dataset.ts");
  const { evaluate } = await import("../eval/runner.ts");
  const { LPIPS } = await import("../lpips/lpips.ts");
  const { arch } = await import("../lpips/arch.ts");
  const { linFileName } = await import("../lpips/weight_files.ts");
  const args = parseArgs({
    args: Deno.args,
    options: {
      triplets: { type: "string", default: "2000" },
      dir: { type: "string" },
      keep: { type: "boolean", default: false },
      seed: { type: "string", default: "0" },
      rounds: { type: "string", default: "2" },
      workers: { type: "string", default: "0,2" },
      threads: { type: "string" },
      "torch-threads": { type: "string", default: "2" },
      "no-tfjs": { type: "boolean", default: false },
      "no-torch": { type: "boolean", default: false },
      python: { type: "string", default: "/usr/bin/python3" },
    },
  }).values;
  const n = Number(args.triplets), seed = Number(args.seed), rounds = Number(args.rounds);
  const cores = navigator.hardwareConcurrency ?? 1;
  const threads = Number(args.threads ?? cores);
  const torchThreads = Number(args["torch-threads"]);
  const workerCounts = args.workers!.split(",").map(Number);
  for (
    const [name, v, min] of [
      ["--triplets", n, 1],
      ["--rounds", rounds, 1],
      ["--threads", threads, 1],
      ["--torch-threads", torchThreads, 1],
      ["--seed", seed, 0],
      ...workerCounts.map((w) => ["--workers", w, 0] as const),
    ] as const
  ) {
    if (!Number.isInteger(v) || v < min) {
      throw new RangeError(`${name} must be an integer >= ${min}`);
    }
  }
  const load = () => Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
  const loadStart = load();
  const weightsDir = findWeightsDir();
  const trunkPath = join(weightsDir, arch("alex").trunkFile);
  const linPath = join(weightsDir, linFileName("alex", "0.1"));

  const tmp = args.dir === undefined;
  const dir = args.dir ?? await Deno.makeTempDir({ prefix: "lpips-eval-bench-" });
  const scratch = await Deno.makeTempDir({ prefix: "lpips-eval-bench-out-" });
  let torch: TorchWorker | undefined;
  const models: LPIPS[] = [];
  let failed = false;
  try {
    console.error(await prepareSet(dir, n, seed));

    // Models, loaded once outside the timed passes.
    let t0 = performance.now();
    let info: Record<string, unknown> = {};
    const loadTimes: string[] = [];
    if (!args["no-torch"]) {
      try {
        torch = new TorchWorker(args.python!, "eval_torch.py");
        info = await torch.call({
          cmd: "load",
          trunk: trunkPath,
          lin: linPath,
          threads: torchThreads,
        });
        loadTimes.push(`torch ${(info.seconds as number).toFixed(2)} s`);
      } catch (e) {
        console.error(`no PyTorch side (${(e as Error).message}): timing ours only`);
        await torch?.close().catch(() => {});
        torch = undefined;
      }
    }
    const create = async (engine: "auto" | "tfjs") => {
      t0 = performance.now();
      const m = await LPIPS.create({
        net: "alex",
        engine,
        threads,
        weightsDir,
        trunkPath,
        linPath,
        quiet: true,
      });
      models.push(m);
      loadTimes.push(`${label(m)} ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      return m;
    };
    const label = (m: LPIPS) => m.engine === "onnx" ? "onnx" : `tfjs-${m.backend}`;
    const engines = [await create("auto")];
    if (!args["no-tfjs"]) engines.push(await create("tfjs"));
    console.error(`models loaded: ${loadTimes.join(", ")}`);

    const cases: Case[] = [];
    const torchOut = join(scratch, "torch_d.bin");
    for (const [k, workers] of workerCounts.entries()) {
      // TF.js at the first worker count only: the decode workers change the loader, not the engine.
      for (const m of k === 0 ? engines : engines.slice(0, 1)) {
        cases.push({
          side: "ours",
          what: `eval lpips alex (${label(m)})`,
          workers,
          best: Infinity,
          pass: async () => {
            const t = performance.now();
            const r = await evaluate({
              root: dir,
              mode: "2afc",
              datasets: [SUBSET],
              model: "lpips",
              metric: m,
              batchSize: 50,
              bootstrap: 0,
              workers,
            });
            const seconds = (performance.now() - t) / 1000;
            const items = r.results[0].items as TwoAFCItems;
            const d = new Float32Array(2 * n);
            d.set(items.d0);
            d.set(items.d1, n);
            return { seconds, d, score: r.results[0].score };
          },
        });
      }
      cases.push({
        side: "ours",
        what: "decode+resize+normalise",
        workers,
        best: Infinity,
        pass: async () => {
          const t = performance.now();
          let count = 0;
          const list = await listTwoAFC(dir, SUBSET);
          for await (const b of twoAFCBatches(list, { batchSize: 50, workers })) {
            count += b.items.length;
          }
          if (count !== n) throw new Error(`the loader gave ${count} of ${n} triplets`);
          return { seconds: (performance.now() - t) / 1000 };
        },
      });
      for (const decodeOnly of torch ? [false, true] : []) {
        cases.push({
          side: "torch",
          what: decodeOnly ? "decode+resize+normalise" : "eval lpips alex",
          workers,
          best: Infinity,
          pass: async () => {
            const r = await torch!.call({
              cmd: "run",
              root: dir,
              dataset: SUBSET,
              workers,
              batch_size: 50,
              decode_only: decodeOnly,
              out: torchOut,
            });
            if (r.n !== n) throw new Error(`PyTorch's loader gave ${r.n} of ${n} triplets`);
            if (decodeOnly) return { seconds: r.seconds as number };
            const d = new Float32Array((await Deno.readFile(torchOut)).slice().buffer);
            return { seconds: r.seconds as number, d, score: r.score as number };
          },
        });
      }
    }

    for (let r = 0; r < rounds; r++) {
      for (const side of ["ours", "torch"] as const) {
        for (const c of cases.filter((c) => c.side === side)) {
          const p = await c.pass();
          c.best = Math.min(c.best, p.seconds);
          if (p.d) [c.d, c.score] = [p.d, p.score];
          console.error(
            `round ${r + 1}/${rounds}: ${side} ${c.what}, workers ${c.workers}: ` +
              `${p.seconds.toFixed(2)} s (${(n / p.seconds).toFixed(1)} triplets/s)`,
          );
        }
      }
    }

    const rows: string[][] = [];
    let worstD = 0, worstScore = 0;
    for (const c of cases.filter((c) => c.side === "ours")) {
      const kind = c.what.startsWith("eval") ? "eval" : "decode";
      const t = cases.find((x) =>
        x.side === "torch" && x.workers === c.workers && x.what.startsWith(kind)
      );
      let check = "";
      if (c.d && t?.d) {
        const dd = maxDiff(c.d, t.d), ds = Math.abs(c.score! - t.score!);
        worstD = Math.max(worstD, dd);
        worstScore = Math.max(worstScore, ds);
        check = `${c.score!.toFixed(6)} / ${t.score!.toFixed(6)}, max |d diff| ${
          dd.toExponential(1)
        }`;
      }
      rows.push([
        c.what,
        String(c.workers),
        (n / c.best).toFixed(1),
        t ? (n / t.best).toFixed(1) : "-",
        t ? (t.best / c.best).toFixed(2) : "-",
        check,
      ]);
    }
    console.log(
      `BAPPS 2AFC eval, ${n} triplets of 256x256 PNGs (${SUBSET}), batch 50; ${cores} logical ` +
        `cores; ONNX threads ${threads}, ` +
        (torch
          ? `torch threads ${torchThreads} (torch ${info.torch}, torchvision ${info.torchvision})`
          : "no PyTorch side") +
        `; fastest pass of ${rounds} alternating rounds`,
    );
    console.log(`load average at start: ${loadStart}`);
    printTable(
      [
        "workload",
        "decode workers",
        "ours triplets/s",
        "torch triplets/s",
        "ours/torch",
        "2AFC score ours / torch, distances",
      ],
      rows,
    );
    console.log(`load average at end: ${load()}`);
    console.log(`model load (not timed above): ${loadTimes.join(", ")}`);
    if (torch) {
      console.log(
        `largest differences from PyTorch: score ${worstScore.toExponential(2)} (limit 1e-4), ` +
          `distance ${worstD.toExponential(2)} (limit 1e-5)`,
      );
    }
    failed = worstScore > 1e-4 || worstD > 1e-5;
    if (failed) console.error("our evaluation disagrees with the PyTorch pipeline");
  } finally {
    for (const m of models) m.dispose();
    await torch?.close().catch(() => {});
    await Deno.remove(scratch, { recursive: true });
    if (tmp && !args.keep) await Deno.remove(dir, { recursive: true });
    else console.error(`the set stays in ${dir} (reuse it with --dir ${dir})`);
  }
  if (failed) Deno.exitCode = 1;
}

if (!IN_WORKER) await main();
