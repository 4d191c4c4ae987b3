/**
 * The two jobs of the paper as users run them, side by side with the reference implementation's
 * own scripts: whole processes, each side's defaults, alternating rounds.
 *
 *   deno task bench:eval  [options]   # `lpips eval` vs `test_dataset_model.py`
 *   deno task bench:train [options]   # `lpips train --mode lin` vs `train.py` (`--mode tune`:
 *                                     # vs `train.py --train_trunk`)
 *
 * - eval: `cli.ts eval --root D --datasets val/traditional val/cnn -q` (LPIPS alex v0.1, the
 *   default engine, decode workers and bootstrap) against `test_dataset_model.py --datasets
 *   val/traditional val/cnn --model lpips --net alex`, on bapps-mini's two 2AFC val subsets
 *   repeated `--times` times (default 15: 3,600 triplets). The scores both print must agree.
 * - train: `cli.ts train --datasets train/traditional --epochs 1 --epochs-decay 0` (lin mode)
 *   against `train.py --datasets train/traditional --nepoch 1 --nepoch_decay 0`, on
 *   train/traditional repeated `--times` times (default 10: 3,000 triplets). `--mode tune`
 *   trains the trunk too (the reference's `--train_trunk`), `--mode scratch` a random trunk
 *   (`--train_trunk --from_scratch`).
 *
 * The bigger sets are made with the test data's `reference-code/replicate_bapps.py` (hard links)
 * in `--data DIR` (kept and reused) or a temporary folder. The reference runs through
 * `reference-code/setup.sh` (its scripts unmodified, PyTorch at 2 threads, 4 loader workers;
 * Debian's python3-torch and friends, see that folder's README). Each process is timed by the
 * wall clock here, and its peak RSS and CPU time (user + system: a steadier measure on a busy
 * machine) read by GNU time (`/usr/bin/time`, when installed).
 *
 * Options: `--rounds R` (3), `--times N`, `--data DIR`, `--mode lin|tune|scratch` (train),
 * `--no-reference` (ours only),
 * `--our-args "..."` (extra arguments for our side, e.g. `--workers 0`).
 * Weights: `LPIPS_WEIGHTS_DIR`, else the test data's `weights/` (`LPIPS_TEST_DATA`, `../shared`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

type Job = "eval" | "train";

const JOBS: Record<Job, { subsets: string[]; times: number }> = {
  eval: { subsets: ["2afc/val/traditional", "2afc/val/cnn"], times: 15 },
  train: { subsets: ["2afc/train/traditional"], times: 10 },
};

const { values: args, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    rounds: { type: "string", default: "3" },
    times: { type: "string" },
    data: { type: "string" },
    "no-reference": { type: "boolean", default: false },
    mode: { type: "string", default: "lin" },
    "our-args": { type: "string", default: "" },
  },
});
const job = positionals[0] as Job;
if (!(job in JOBS)) throw new Error("usage: jobs_bench.ts eval|train [options]");
const TRUNK_ARGS: Record<string, string[]> = {
  lin: [],
  tune: ["--train_trunk"],
  scratch: ["--train_trunk", "--from_scratch"],
};
if (!(args.mode in TRUNK_ARGS)) throw new Error(`--mode: lin, tune or scratch, not ${args.mode}`);
const testData = resolve(Deno.env.get("LPIPS_TEST_DATA") ?? "../shared");
const weightsDir = resolve(Deno.env.get("LPIPS_WEIGHTS_DIR") ?? join(testData, "weights"));
const refCode = join(testData, "reference-code");
const rounds = Number(args.rounds);
const times = Number(args.times ?? JOBS[job].times);
const repo = new URL("..", import.meta.url).pathname;
const gnuTime = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

/** One finished process: wall seconds, peak RSS in MiB and CPU seconds (if known), its output. */
interface Run {
  seconds: number;
  rssMiB?: number;
  cpuSeconds?: number;
  out: string;
}

async function run(cmd: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const rssFile = await Deno.makeTempFile();
  const argv = gnuTime ? [gnuTime, "-f", "%M %U %S", "-o", rssFile, ...cmd] : cmd;
  const t0 = performance.now();
  const r = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = (performance.now() - t0) / 1000;
  const out = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  const [rss, user, sys] = gnuTime
    ? (await Deno.readTextFile(rssFile)).trim().split("\n").pop()!.split(" ").map(Number)
    : [NaN, NaN, NaN];
  await Deno.remove(rssFile);
  if (!r.success) throw new Error(`${cmd.join(" ")} failed (exit ${r.code}):\n${out.slice(-2000)}`);
  return {
    seconds,
    rssMiB: Number.isFinite(rss) ? rss / 1024 : undefined,
    cpuSeconds: Number.isFinite(user + sys) ? user + sys : undefined,
    out,
  };
}

/** The BAPPS-format set of this job, made once. */
async function dataset(): Promise<{ root: string; temp: boolean }> {
  const root = resolve(args.data ?? await Deno.makeTempDir({ prefix: `lpips-${job}-bench-` }));
  const marker = join(root, `.replicated-${job}-${times}`);
  if (!existsSync(marker)) {
    await run([
      "/usr/bin/python3",
      join(refCode, "replicate_bapps.py"),
      join(testData, "bapps-mini"),
      root,
      String(times),
      ...JOBS[job].subsets,
    ], repo);
    await Deno.writeTextFile(marker, "");
  }
  return { root, temp: args.data === undefined };
}

/** Both sides' command lines, run from `cwd` (which holds the reference's `./dataset`). */
function commands(root: string, cwd: string): { ours: string[]; reference: string[] } {
  const deno = [
    Deno.execPath(),
    "run",
    "--allow-ffi",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-net",
    "--allow-sys",
    join(repo, "cli.ts"),
  ];
  const extra = args["our-args"].split(/\s+/).filter(Boolean);
  const subsets = JOBS[job].subsets.map((s) => s.replace(/^2afc\//, ""));
  const setup = ["bash", join(refCode, "setup.sh")];
  if (job === "eval") {
    return {
      ours: [...deno, "eval", "--root", root, "--datasets", ...subsets, "-q", ...extra],
      reference: [
        ...setup,
        "test_dataset_model.py",
        "--dataset_mode",
        "2afc",
        "--datasets",
        ...subsets,
        "--model",
        "lpips",
        "--net",
        "alex",
      ],
    };
  }
  const ckpt = join(cwd, "checkpoints");
  return {
    ours: [
      ...deno,
      "train",
      "--root",
      root,
      "--datasets",
      ...subsets,
      "--epochs",
      "1",
      "--epochs-decay",
      "0",
      "--checkpoints-dir",
      ckpt,
      "--name",
      "ours",
      "--mode",
      args.mode,
      ...extra,
    ],
    reference: [
      ...setup,
      "train.py",
      "--datasets",
      ...subsets,
      "--nepoch",
      "1",
      "--nepoch_decay",
      "0",
      "--checkpoints_dir",
      ckpt,
      "--name",
      "reference",
      ...TRUNK_ARGS[args.mode],
    ],
  };
}

/** "Dataset [val/cnn]: 65.17" lines, as both eval scripts print them. */
function scores(out: string): string {
  return [...out.matchAll(/Dataset \[([^\]]+)\]: ([\d.]+)/g)].map((m) => `${m[1]} ${m[2]}`)
    .join(", ");
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const { root, temp } = await dataset();
const cwd = await Deno.makeTempDir({ prefix: "lpips-jobs-" });
await Deno.symlink(root, join(cwd, "dataset"));
const cmd = commands(root, cwd);
const env = { LPIPS_WEIGHTS_DIR: weightsDir };
const sides = args["no-reference"] ? ["ours"] as const : ["ours", "reference"] as const;
const results: Record<string, Run[]> = { ours: [], reference: [] };
const load = () => Deno.loadavg().map((x) => x.toFixed(2)).join(" ");
const items = JOBS[job].subsets.length * (job === "eval" ? 120 : 300) * times;
console.log(`${job}: ${items} triplets, ${rounds} rounds, ${navigator.hardwareConcurrency} cores`);
console.log(`  ours:      ${cmd.ours.slice(cmd.ours.indexOf(join(repo, "cli.ts"))).join(" ")}`);
if (!args["no-reference"]) console.log(`  reference: ${cmd.reference.slice(1).join(" ")}`);
console.log(`  load average at start: ${load()}`);
try {
  for (let r = 0; r < rounds; r++) {
    for (const side of sides) {
      const x = await run(cmd[side], cwd, env);
      results[side].push(x);
      const rss = (x.rssMiB ? `, peak RSS ${x.rssMiB.toFixed(0)} MiB` : "") +
        (x.cpuSeconds !== undefined ? `, CPU ${x.cpuSeconds.toFixed(1)} s` : "");
      const extra = job === "eval" ? `  (${scores(x.out)})` : "";
      console.log(`  round ${r + 1} ${side.padEnd(9)} ${x.seconds.toFixed(2)} s${rss}${extra}`);
    }
    if (job === "eval" && results.reference.length > 0) {
      const a = scores(results.ours.at(-1)!.out), b = scores(results.reference.at(-1)!.out);
      if (a !== b) throw new Error(`scores differ: ours ${a}, reference ${b}`);
    }
  }
} finally {
  await Deno.remove(cwd, { recursive: true });
  if (temp) await Deno.remove(root, { recursive: true });
}
console.log(`  load average at end: ${load()}`);
const row = (side: string) => {
  const s = results[side].map((x) => x.seconds);
  return { best: Math.min(...s), median: median(s) };
};
const ours = row("ours");
console.log(`ours:      best ${ours.best.toFixed(2)} s, median ${ours.median.toFixed(2)} s`);
if (results.reference.length > 0) {
  const ref = row("reference");
  console.log(`reference: best ${ref.best.toFixed(2)} s, median ${ref.median.toFixed(2)} s`);
  console.log(
    `ratio (reference time / ours, > 1: ours faster): best ${
      (ref.best / ours.best).toFixed(2)
    }x, ` +
      `median ${(ref.median / ours.median).toFixed(2)}x`,
  );
}
