/**
 * Command line: `deno task lpips <command>` (DESIGN.md's contract). Results go to stdout, progress
 * and errors to stderr; a user mistake is one line on stderr and exit status 1.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { extname, join } from "node:path";
import { type EngineName, LPIPS, type LPIPSOptions, type Version } from "./lpips/lpips.ts";
import type { NetName } from "./lpips/arch.ts";
import type { BackendName } from "./lpips/backend.ts";
import { heatmapPng } from "./lpips/heatmap.ts";
import { resolveFile } from "./lpips/weights.ts";
import { type ImageTensor, loadImage } from "./bappsloader/image.ts";
import { saveNpy } from "./bappsloader/npy.ts";

const USAGE = `LPIPS perceptual similarity (Zhang et al., CVPR 2018)

Usage: deno task lpips <command> [options]

Commands:
  compare IMG0 IMG1   distance between two images (PNG or JPEG, same size)
  dirs DIR0 DIR1      distance for every file name present in both folders
  allpairs DIR        distances of consecutive files (or all pairs) in a folder, with the mean
  demo                the README's example: which patch is closer to the reference?

Model options (all commands):
  --net alex|squeeze|vgg   trunk (default alex)
  --version 0.1|0.0        LPIPS version (default 0.1)
  --uncalibrated           the uncalibrated baseline (sum over channels; reference lpips=False)
  --engine auto|tfjs       engine (default auto)
  --backend wasm|cpu|webgpu|tensorflow   TF.js backend (default wasm)
  --weights-dir DIR        folder with the weight files under their official names
                           (default $LPIPS_WEIGHTS_DIR, then ~/.cache/lpips, then download)
compare options:
  --spatial OUT.png|OUT.npy  also write the distance map (PNG: viridis heatmap; .npy: float32
                             1x1xHxW)
  --json                     print one JSON object: metric, net, version, lpips, distance, layers
dirs options:
  --out FILE       also write the "name: distance" lines to FILE
  --json           print a JSON array of {file, distance}
allpairs options:
  --all-pairs      every pair i<j instead of consecutive pairs
  --json           print {pairs: [...], mean, stderr}

Images are read as the reference's scripts do: decoded to RGB8, then u/127.5 - 1.`;

/** A mistake on the command line or in its inputs: reported as one line, exit status 1. */
class UsageError extends Error {}

const MODEL_OPTIONS = {
  net: { type: "string" },
  version: { type: "string" },
  uncalibrated: { type: "boolean" },
  engine: { type: "string" },
  backend: { type: "string" },
  "weights-dir": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = Record<string, string | boolean | undefined>;

function parse(
  args: string[],
  extra: Record<string, { type: "string" | "boolean" }> = {},
): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args, options: { ...MODEL_OPTIONS, ...extra }, allowPositionals: true });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], def: T): T {
  if (value === undefined) return def;
  if (!allowed.includes(value as T)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(", ")} (got "${value}")`);
  }
  return value as T;
}

function modelOptions(v: Values): LPIPSOptions {
  return {
    net: oneOf<NetName | "vgg16">("net", v.net, ["alex", "squeeze", "vgg", "vgg16"], "alex"),
    version: oneOf<Version>("version", v.version, ["0.1", "0.0"], "0.1"),
    lpips: !v.uncalibrated,
    engine: oneOf<EngineName>("engine", v.engine, ["auto", "tfjs"], "auto"),
    backend: oneOf<BackendName>(
      "backend",
      v.backend,
      ["wasm", "cpu", "webgpu", "tensorflow"],
      "wasm",
    ),
    weightsDir: v["weights-dir"] as string | undefined,
  };
}

function positionals(p: string[], n: number, what: string): string[] {
  if (p.length !== n) throw new UsageError(`expected ${what} (got ${p.length} arguments)`);
  return p;
}

const fmt = (d: number) => d.toFixed(6);

async function compare(args: string[]): Promise<void> {
  const { values, positionals: p } = parse(args, { spatial: { type: "string" } });
  if (values.help) return console.log(USAGE);
  const [f0, f1] = positionals(p, 2, "two image files: compare IMG0 IMG1");
  const spatialOut = values.spatial as string | undefined;
  if (spatialOut && ![".png", ".npy"].includes(extname(spatialOut).toLowerCase())) {
    throw new UsageError(`--spatial needs a .png or .npy file name (got ${spatialOut})`);
  }
  const [a, b] = await Promise.all([loadImage(f0), loadImage(f1)]);
  const opts = modelOptions(values);
  const m = await LPIPS.create(opts);
  try {
    const scalar = await m.distance(a, b, { perLayer: true });
    const result: Record<string, unknown> = {
      metric: "lpips",
      net: m.net,
      version: m.version,
      lpips: m.lpips,
      distance: scalar.distance[0],
      layers: scalar.layers!.map((l) => l[0]),
    };
    if (spatialOut) {
      const s = await m.distance(a, b, { spatial: true });
      const [, , h, w] = s.map!.shape;
      if (spatialOut.toLowerCase().endsWith(".npy")) {
        await saveNpy(spatialOut, s.map!.data, s.map!.shape);
      } else {
        await Deno.writeFile(spatialOut, heatmapPng(s.map!.data, w, h));
      }
      result.map_mean = s.distance[0];
      result.spatial = spatialOut;
    }
    if (values.json) console.log(JSON.stringify(result));
    else {
      console.log(`Distance: ${fmt(scalar.distance[0])}`);
      if (spatialOut) {
        console.log(`Map mean: ${fmt(result.map_mean as number)} (map: ${spatialOut})`);
      }
    }
  } finally {
    m.dispose();
  }
}

async function listImages(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && /\.(png|jpe?g)$/i.test(e.name)) names.push(e.name);
    }
  } catch (e) {
    throw new UsageError(`cannot read folder ${dir} (${e instanceof Error ? e.message : e})`);
  }
  return names.sort();
}

async function dirs(args: string[]): Promise<void> {
  const { values, positionals: p } = parse(args, { out: { type: "string" } });
  if (values.help) return console.log(USAGE);
  const [d0, d1] = positionals(p, 2, "two folders: dirs DIR0 DIR1");
  const in1 = new Set(await listImages(d1));
  const names = (await listImages(d0)).filter((n) => in1.has(n));
  if (names.length === 0) {
    throw new UsageError(`no image file name is present in both ${d0} and ${d1}`);
  }
  const m = await LPIPS.create(modelOptions(values));
  const rows: { file: string; distance: number }[] = [];
  try {
    for (const name of names) {
      const [a, b] = await Promise.all([loadImage(join(d0, name)), loadImage(join(d1, name))]);
      rows.push({ file: name, distance: (await m.distance(a, b))[0] });
      if (!values.json) console.log(`${name}: ${fmt(rows.at(-1)!.distance)}`);
    }
  } finally {
    m.dispose();
  }
  if (values.json) console.log(JSON.stringify(rows));
  if (values.out) {
    await Deno.writeTextFile(
      values.out as string,
      rows.map((r) => `${r.file}: ${fmt(r.distance)}\n`).join(""),
    );
  }
}

async function allpairs(args: string[]): Promise<void> {
  const { values, positionals: p } = parse(args, { "all-pairs": { type: "boolean" } });
  if (values.help) return console.log(USAGE);
  const [dir] = positionals(p, 1, "one folder: allpairs DIR");
  const names = await listImages(dir);
  if (names.length < 2) throw new UsageError(`${dir} holds fewer than two images`);
  const pairs: [string, string][] = [];
  for (let i = 0; i < names.length - 1; i++) {
    if (values["all-pairs"]) {
      for (let j = i + 1; j < names.length; j++) pairs.push([names[i], names[j]]);
    } else pairs.push([names[i], names[i + 1]]);
  }
  const m = await LPIPS.create(modelOptions(values));
  const cache = new Map<string, ImageTensor>();
  const load = async (n: string) => {
    if (!cache.has(n)) cache.set(n, await loadImage(join(dir, n)));
    return cache.get(n)!;
  };
  const rows: { a: string; b: string; distance: number }[] = [];
  try {
    for (const [a, b] of pairs) {
      rows.push({ a, b, distance: (await m.distance(await load(a), await load(b)))[0] });
      if (!values.json) console.log(`${a}, ${b}: ${fmt(rows.at(-1)!.distance)}`);
    }
  } finally {
    m.dispose();
  }
  const ds = rows.map((r) => r.distance);
  const mean = ds.reduce((s, d) => s + d, 0) / ds.length;
  const std = Math.sqrt(ds.reduce((s, d) => s + (d - mean) ** 2, 0) / ds.length);
  const stderr = std / Math.sqrt(ds.length);
  if (values.json) console.log(JSON.stringify({ pairs: rows, mean, stderr }));
  else console.log(`Avg: ${mean.toFixed(5)} +/- ${stderr.toFixed(5)}`);
}

async function demo(args: string[]): Promise<void> {
  const { values } = parse(args);
  if (values.help) return console.log(USAGE);
  const testData = Deno.env.get("LPIPS_TEST_DATA");
  const imagesDir = Deno.env.get("LPIPS_IMAGES_DIR") ??
    (testData ? join(testData, "images") : undefined);
  const [ref, p0, p1] = await Promise.all(
    ["ex_ref.png", "ex_p0.png", "ex_p1.png"].map(async (n) =>
      await loadImage(await resolveFile(n, { imagesDir }))
    ),
  );
  const m = await LPIPS.create(modelOptions(values));
  try {
    const [d0] = await m.distance(ref, p0);
    const [d1] = await m.distance(ref, p1);
    console.log(`LPIPS (${m.net}, v${m.version}${m.lpips ? "" : ", uncalibrated"}):`);
    console.log(`  d(ex_ref, ex_p0) = ${fmt(d0)}`);
    console.log(`  d(ex_ref, ex_p1) = ${fmt(d1)}`);
    console.log(`ex_${d0 < d1 ? "p0" : "p1"} is closer to the reference.`);
  } finally {
    m.dispose();
  }
}

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  compare,
  dirs,
  allpairs,
  demo,
};

/** Runs one command line; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  const run = COMMANDS[command];
  if (!run) {
    console.error(`lpips: unknown command "${command}" (try --help)`);
    return 1;
  }
  try {
    await run(rest);
    return 0;
  } catch (e) {
    if (Deno.env.get("LPIPS_DEBUG")) console.error(e);
    const msg = e instanceof Error ? e.message : String(e);
    console.error(`lpips ${command}: ${msg.split("\n")[0]}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
