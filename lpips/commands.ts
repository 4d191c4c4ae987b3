/**
 * The metric's commands: `compare`, `dirs`, `allpairs` and `demo` (DESIGN.md's contract; the
 * reference's `lpips_2imgs.py`, `lpips_2dirs.py`, `lpips_1dir_allpairs.py`, `test_network.py`).
 *
 * @module
 */
import { dirname, extname, join } from "node:path";
import { LPIPS } from "./lpips.ts";
import { heatmapPng } from "./heatmap.ts";
import { resolveFile } from "./weights.ts";
import {
  type Command,
  MODEL_USAGE,
  modelOptions,
  oneOf,
  parse,
  positionals,
  UsageError,
} from "./_cli.ts";
import { type ImageTensor, loadImage } from "../bappsloader/image.ts";
import { saveNpy } from "../bappsloader/npy.ts";
import { l2 } from "../baselines/l2.ts";
import { dssim } from "../baselines/ssim.ts";
import type { Colorspace } from "../baselines/l2.ts";
import { fileListHash, parseShard, shardRange, type ShardSpec } from "../eval/shard.ts";
import { type ShardHeader, type ShardRow, writeShardFile } from "../eval/shard_file.ts";

const fmt = (d: number) => d.toFixed(6);

const READING = "Images are read as the reference's scripts do: decoded to RGB8, then u/127.5 - 1.";

/** The \`--shard\` help of \`dirs\` and \`allpairs\`. */
function shardUsage(items: string): string {
  return `  --shard K/N  compute only shard K of N (K from 0, e.g. $SLURM_ARRAY_TASK_ID/4): ${items},
               cut into N contiguous blocks; writes the shard's mergeable JSON Lines file to
               --out FILE (needed) and prints nothing; \`lpips merge\` of all N files prints
               what one run prints`;
}

/** `compare IMG0 IMG1`: LPIPS (or L2 / DSSIM) between two images. */
export const compare: Command = {
  summary: "compare IMG0 IMG1   distance between two images (PNG or JPEG, same size)",
  usage: `Usage: deno task lpips compare IMG0 IMG1 [options]

  --metric lpips|l2|ssim     lpips (default); l2 and ssim are the paper's baselines, computed
                             as the reference does; ssim prints DSSIM = (1 - SSIM) / 2, as the
                             reference's evaluation does
  --colorspace Lab|RGB       colour space of l2 and ssim (default Lab, the reference's default)
  --spatial OUT.png|OUT.npy  lpips: also write the distance map (PNG: viridis heatmap, 0 to the
                             map's maximum; .npy: float32 1x1xHxW)
  --json                     print one JSON object: metric, net, version, lpips, distance,
                             layers (per-layer contributions, lpips only), colorspace

${MODEL_USAGE}

${READING}`,
  async run(args) {
    const { values, positionals: p } = parse(args, {
      spatial: { type: "string" },
      metric: { type: "string" },
      colorspace: { type: "string" },
    });
    if (values.help) return console.log(this.usage);
    const [f0, f1] = positionals(p, 2, "two image files: compare IMG0 IMG1");
    const metric = oneOf("metric", values.metric, ["lpips", "l2", "ssim"], "lpips");
    const colorspace = oneOf<Colorspace>("colorspace", values.colorspace, ["Lab", "RGB"], "Lab");
    const spatialOut = values.spatial as string | undefined;
    if (spatialOut && metric !== "lpips") throw new UsageError("--spatial needs --metric lpips");
    if (spatialOut && ![".png", ".npy"].includes(extname(spatialOut).toLowerCase())) {
      throw new UsageError(`--spatial needs a .png or .npy file name (got ${spatialOut})`);
    }
    const [a, b] = await Promise.all([loadImage(f0), loadImage(f1)]);
    const size = (t: ImageTensor) => `${t.shape[3]}x${t.shape[2]}`;
    if (size(a) !== size(b)) {
      throw new UsageError(
        `${f0} (${size(a)}) and ${f1} (${size(b)}) differ in shape; compare needs one size`,
      );
    }
    if (metric !== "lpips") {
      const d = metric === "l2" ? l2(a, b, { colorspace }) : dssim(a, b, { colorspace });
      const result = {
        metric,
        net: null,
        version: null,
        lpips: null,
        distance: d[0],
        layers: null,
        colorspace,
      };
      if (values.json) console.log(JSON.stringify(result));
      else console.log(`${metric === "l2" ? "L2" : "DSSIM"} (${colorspace}): ${fmt(d[0])}`);
      return;
    }
    const m = await LPIPS.create(modelOptions(values));
    try {
      if (a.shape[2] < m.minSize || a.shape[3] < m.minSize) {
        throw new UsageError(
          `${f0} and ${f1} are ${size(a)}; --net ${m.net} needs at least ${m.minSize} px a side`,
        );
      }
      const scalar = await m.distance(a, b, { perLayer: true });
      const result: Record<string, unknown> = {
        metric,
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
          await writeOutput(spatialOut, heatmapPng(s.map!.data, w, h));
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
  },
};

/** Writes `bytes` to a temporary file renamed to `path` when complete; one-line errors. */
async function writeOutput(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    const why = e instanceof Deno.errors.NotFound
      ? `no such folder ${dirname(path)}`
      : (e as { code?: string }).code === "ENOSPC"
      ? "no space left on device"
      : e instanceof Error
      ? e.message
      : String(e);
    throw new UsageError(`${path}: cannot write (${why})`);
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

/** `dirs DIR0 DIR1`: the distance for every image file name present in both folders. */
export const dirs: Command = {
  summary: "dirs DIR0 DIR1      distance for every file name present in both folders",
  usage: `Usage: deno task lpips dirs DIR0 DIR1 [options]

  --out FILE   also write the "name: distance" lines to FILE
  --json       print a JSON array of {file, distance}
${shardUsage("the file names in both folders, sorted")}

${MODEL_USAGE}

${READING}`,
  async run(args) {
    const { values, positionals: p } = parse(args, {
      out: { type: "string" },
      shard: { type: "string" },
    });
    if (values.help) return console.log(this.usage);
    const [d0, d1] = positionals(p, 2, "two folders: dirs DIR0 DIR1");
    const shard = shardOption(values);
    const in1 = new Set(await listImages(d1));
    const names = (await listImages(d0)).filter((n) => in1.has(n));
    if (names.length === 0) {
      throw new UsageError(`no image file name is present in both ${d0} and ${d1}`);
    }
    const range = shardRange(names.length, 1, shard ?? { index: 0, count: 1 });
    const m = await LPIPS.create(modelOptions(values));
    const rows: DirsRow[] = [];
    try {
      for (const name of names.slice(range.start, range.end)) {
        const [a, b] = await Promise.all([loadImage(join(d0, name)), loadImage(join(d1, name))]);
        rows.push({ file: name, distance: (await m.distance(a, b))[0] });
        if (!values.json && !shard) console.log(dirsLine(rows.at(-1)!));
      }
    } finally {
      m.dispose();
    }
    if (shard) {
      const header = pairsShardHeader("dirs", m, shard, {
        name: "files",
        total: names.length,
        ...range,
        files: fileListHash(d0, names.map((n) => [join(d0, n)])),
      }, { dir0: d0, dir1: d1 });
      return await writeShard(values.out as string, header, rows, range.start, "dirs");
    }
    await finishDirs(rows, { json: !!values.json, out: values.out as string | undefined });
  },
};

/** `allpairs DIR`: distances of consecutive (or all) pairs of a folder's images, and their mean. */
export const allpairs: Command = {
  summary: "allpairs DIR        distances of consecutive files (or all pairs), with the mean",
  usage: `Usage: deno task lpips allpairs DIR [options]

  --all-pairs   every pair i<j instead of consecutive pairs (files in name order)
  --json        print {pairs: [...], mean, stderr}; otherwise one line per pair and
                "Avg: mean +/- std/sqrt(n)" as the reference prints
${shardUsage("the pairs in order")}

${MODEL_USAGE}

${READING}`,
  async run(args) {
    const { values, positionals: p } = parse(args, {
      "all-pairs": { type: "boolean" },
      shard: { type: "string" },
      out: { type: "string" },
    });
    if (values.help) return console.log(this.usage);
    const [dir] = positionals(p, 1, "one folder: allpairs DIR");
    const shard = shardOption(values);
    if (!shard && values.out !== undefined) throw new UsageError("--out needs --shard K/N");
    const names = await listImages(dir);
    if (names.length < 2) throw new UsageError(`${dir} holds fewer than two images`);
    const pairs: [string, string][] = [];
    for (let i = 0; i < names.length - 1; i++) {
      const last = values["all-pairs"] ? names.length - 1 : i + 1;
      for (let j = i + 1; j <= last; j++) pairs.push([names[i], names[j]]);
    }
    const range = shardRange(pairs.length, 1, shard ?? { index: 0, count: 1 });
    const m = await LPIPS.create(modelOptions(values));
    const cache = new Map<string, ImageTensor>();
    const load = async (n: string) => {
      if (!cache.has(n)) cache.set(n, await loadImage(join(dir, n)));
      return cache.get(n)!;
    };
    const rows: AllpairsRow[] = [];
    try {
      for (const [a, b] of pairs.slice(range.start, range.end)) {
        rows.push({ a, b, distance: (await m.distance(await load(a), await load(b)))[0] });
        if (!values.json && !shard) console.log(allpairsLine(rows.at(-1)!));
      }
    } finally {
      m.dispose();
    }
    if (shard) {
      const header = pairsShardHeader("allpairs", m, shard, {
        name: "pairs",
        total: pairs.length,
        ...range,
        files: fileListHash(dir, pairs.map(([a, b]) => [join(dir, a), join(dir, b)])),
      }, { dir });
      header.config.all_pairs = !!values["all-pairs"];
      return await writeShard(values.out as string, header, rows, range.start, "allpairs");
    }
    finishAllpairs(rows, !!values.json);
  },
};

/** One result of `dirs`. */
export interface DirsRow {
  file: string;
  distance: number;
}

/** One result of `allpairs`. */
export interface AllpairsRow {
  a: string;
  b: string;
  distance: number;
}

/**
 * The line `dirs` prints for one file.
 *
 * @example
 * ```ts
 * import { dirsLine } from "./commands.ts";
 * console.log(dirsLine({ file: "a.png", distance: 0.25 })); // a.png: 0.250000
 * ```
 */
export function dirsLine(r: DirsRow): string {
  return `${r.file}: ${fmt(r.distance)}`;
}

/**
 * What `dirs` prints after its rows (the JSON array with `json`) and its `--out` text file.
 * Shared with `merge`.
 *
 * @example
 * ```ts
 * import { finishDirs } from "./commands.ts";
 * await finishDirs([{ file: "a.png", distance: 0.25 }], { json: true });
 * ```
 */
export async function finishDirs(
  rows: readonly DirsRow[],
  options: { json: boolean; out?: string },
): Promise<void> {
  if (options.json) console.log(JSON.stringify(rows));
  if (options.out) {
    await writeOutput(
      options.out,
      new TextEncoder().encode(rows.map((r) => `${dirsLine(r)}\n`).join("")),
    );
  }
}

/**
 * The line `allpairs` prints for one pair.
 *
 * @example
 * ```ts
 * import { allpairsLine } from "./commands.ts";
 * console.log(allpairsLine({ a: "a.png", b: "b.png", distance: 0.5 })); // a.png, b.png: 0.500000
 * ```
 */
export function allpairsLine(r: AllpairsRow): string {
  return `${r.a}, ${r.b}: ${fmt(r.distance)}`;
}

/**
 * What `allpairs` prints after its rows: the mean and its standard error (the reference's
 * `Avg:` line), or the whole JSON object with `json`. Shared with `merge`.
 *
 * @example
 * ```ts
 * import { finishAllpairs } from "./commands.ts";
 * finishAllpairs([{ a: "a.png", b: "b.png", distance: 0.5 }], false); // Avg: 0.50000 +/- 0.00000
 * ```
 */
export function finishAllpairs(rows: readonly AllpairsRow[], json: boolean): void {
  const ds = rows.map((r) => r.distance);
  const mean = ds.reduce((s, d) => s + d, 0) / ds.length;
  const std = Math.sqrt(ds.reduce((s, d) => s + (d - mean) ** 2, 0) / ds.length);
  const stderr = std / Math.sqrt(ds.length);
  if (json) console.log(JSON.stringify({ pairs: rows, mean, stderr }));
  else console.log(`Avg: ${mean.toFixed(5)} +/- ${stderr.toFixed(5)}`);
}

/** \`--shard K/N\` (then \`--out\` is needed and \`--json\` does not apply). */
function shardOption(values: Record<string, unknown>): ShardSpec | undefined {
  if (values.shard === undefined) return undefined;
  let shard: ShardSpec;
  try {
    shard = parseShard(values.shard as string);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.out === undefined) {
    throw new UsageError("--shard K/N needs --out FILE (the shard's mergeable results)");
  }
  if (values.json) throw new UsageError("--json belongs to `lpips merge` of all shards");
  return shard;
}

function pairsShardHeader(
  command: "dirs" | "allpairs",
  m: LPIPS,
  shard: ShardSpec,
  list: ShardHeader["lists"][number],
  inputs: ShardHeader["inputs"],
): ShardHeader {
  return {
    format: "lpips-shard",
    version: 1,
    command,
    config: {
      net: m.net,
      version: m.version,
      lpips: m.lpips,
      engine: m.engine,
      backend: m.engine === "tfjs" ? m.backend : null,
    },
    shard,
    lists: [list],
    inputs,
  };
}

async function writeShard(
  out: string,
  header: ShardHeader,
  rows: readonly (DirsRow | AllpairsRow)[],
  start: number,
  command: string,
): Promise<void> {
  const list = header.lists[0].name;
  const lines: ShardRow[] = rows.map((r, i) => ({ list, index: start + i, ...r }));
  try {
    await writeShardFile(out, header, lines);
  } catch (e) {
    throw new UsageError(`cannot write ${out} (${e instanceof Error ? e.message : e})`);
  }
  const { index, count } = header.shard;
  console.error(`lpips ${command}: wrote ${out} (shard ${index}/${count}, ${rows.length} items)`);
}

/** `demo`: the README's example, which of ex_p0 and ex_p1 is closer to ex_ref. */
export const demo: Command = {
  summary: "demo                the README's example: which patch is closer to the reference?",
  usage: `Usage: deno task demo [options]

Downloads the example images on first use (offline: $LPIPS_IMAGES_DIR, or
$LPIPS_TEST_DATA/images).

${MODEL_USAGE}`,
  async run(args) {
    const { values } = parse(args);
    if (values.help) return console.log(this.usage);
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
  },
};
