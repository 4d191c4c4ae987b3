/**
 * The metric's commands: `compare`, `dirs`, `allpairs` and `demo` (DESIGN.md's contract; the
 * reference's `lpips_2imgs.py`, `lpips_2dirs.py`, `lpips_1dir_allpairs.py`, `test_network.py`).
 *
 * @module
 */
import { extname, join } from "node:path";
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

const fmt = (d: number) => d.toFixed(6);

const READING = "Images are read as the reference's scripts do: decoded to RGB8, then u/127.5 - 1.";

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
  },
};

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

${MODEL_USAGE}

${READING}`,
  async run(args) {
    const { values, positionals: p } = parse(args, { out: { type: "string" } });
    if (values.help) return console.log(this.usage);
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
  },
};

/** `allpairs DIR`: distances of consecutive (or all) pairs of a folder's images, and their mean. */
export const allpairs: Command = {
  summary: "allpairs DIR        distances of consecutive files (or all pairs), with the mean",
  usage: `Usage: deno task lpips allpairs DIR [options]

  --all-pairs   every pair i<j instead of consecutive pairs (files in name order)
  --json        print {pairs: [...], mean, stderr}; otherwise one line per pair and
                "Avg: mean +/- std/sqrt(n)" as the reference prints

${MODEL_USAGE}

${READING}`,
  async run(args) {
    const { values, positionals: p } = parse(args, { "all-pairs": { type: "boolean" } });
    if (values.help) return console.log(this.usage);
    const [dir] = positionals(p, 1, "one folder: allpairs DIR");
    const names = await listImages(dir);
    if (names.length < 2) throw new UsageError(`${dir} holds fewer than two images`);
    const pairs: [string, string][] = [];
    for (let i = 0; i < names.length - 1; i++) {
      const last = values["all-pairs"] ? names.length - 1 : i + 1;
      for (let j = i + 1; j <= last; j++) pairs.push([names[i], names[j]]);
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
  },
};

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
