/**
 * `compare IMG0 IMG1`: LPIPS or any registered metric (or several) between two images (the
 * reference's `lpips_2imgs.py`).
 *
 * @module
 */
import { basename, extname } from "node:path";
import { checkOutputFiles } from "../_internal/output_path.ts";
import { LPIPS } from "../lpips/lpips.ts";
import {
  type Command,
  METRIC_HELP,
  metricList,
  metricOptions,
  MODEL_HELP,
  modelOptions,
  parse,
  positionals,
  UsageError,
} from "./args.ts";
import { im2tensor, readImage, type RGBImage } from "../bappsloader/image.ts";
import { resizeBicubic } from "../bappsloader/resize.ts";
import type { DistanceMask } from "../lpips/mask.ts";
import { InputError } from "../lpips/validate.ts";
import { saveNpy } from "../bappsloader/npy.ts";
import type { ImageTensor } from "../bappsloader/image.ts";
import type { Metric, MetricInfo, MetricOptions } from "../metrics/contract.ts";

import { fmt, READING, writeOutput } from "./_images.ts";
import { helpText } from "./help.ts";

/** `compare IMG0 IMG1`: LPIPS (or L2 / DSSIM) between two images. */
export const compare: Command = {
  synopsis: "compare IMG0 IMG1",
  summary: "distance between two images of the same size",
  usage: helpText({
    usage: "compare IMG0 IMG1 [options]",
    options: [
      [
        "--spatial OUT.png|OUT.npy",
        "also write the metric's map (lpips, flip: distance maps; gmsd, fsim, fsimc: " +
        "similarity maps, .npy only) (.png: viridis, 0 to the map's maximum, with a " +
        "title and a numbered colour bar; .npy: float32 1x1xHxW, raw); prints the map's mean " +
        "and maximum",
      ],
      [
        "--map-max V",
        "top of the .png's colour scale (default: the map's maximum); the same V for several " +
        "maps makes their colours comparable",
      ],
      [
        "--mask MASK.png",
        "lpips: weigh the distance map by the mask's grey levels / 255 (colour masks as " +
        'Pillow\'s convert("L")); the distance is the mask-weighted mean of the map; the mask ' +
        "has IMG0's size",
      ],
      [
        "--resize-to-reference",
        "resize IMG1 to IMG0's size (Pillow's bicubic on the 8-bit image) when they differ; " +
        "without it, different sizes are an error",
      ],
      [
        "--json",
        "print one JSON object: metric, net, version, lpips, distance (what eval ranks by: " +
        "DSSIM for ssim, `lpips metrics` lists each), score (as the metric's authors print " +
        "it: SSIM, PSNR in dB, ...), lower_is_better, layers (per-layer contributions, lpips " +
        "only), colorspace (l2, ssim); with --spatial also map_mean, map_max, spatial (and " +
        "map_scale: the .png's top colour); with --mask also mask, with a resize also " +
        "resized: {from, to} ([h, w]); with several metrics {metrics: [one object each], " +
        "resized}",
      ],
    ],
    sections: [METRIC_HELP, MODEL_HELP],
    notes: [
      "Text output: one line per metric; ssim prints DSSIM = (1 - SSIM) / 2 as the " +
      "reference's evaluation does (--json has both).",
      READING,
    ],
  }),
  async run(args) {
    const { values, positionals: p } = parse(args, {
      spatial: { type: "string" },
      "map-max": { type: "string" },
      metric: { type: "string" },
      colorspace: { type: "string" },
      ppd: { type: "string" },
      "trunk-path": { type: "string" },
      mask: { type: "string" },
      "resize-to-reference": { type: "boolean" },
    });
    if (values.help) return console.log(this.usage);
    const [f0, f1] = positionals(p, 2, "two image files: compare IMG0 IMG1");
    const metrics = metricList(values);
    const options = metricOptions(values);
    const metric = metrics.length === 1 ? metrics[0].name : "several";
    const spatialOut = values.spatial as string | undefined;
    if (spatialOut) checkSpatial(metrics, spatialOut);
    if (spatialOut && ![".png", ".npy"].includes(extname(spatialOut).toLowerCase())) {
      throw new UsageError(`--spatial needs a .png or .npy file name (got ${spatialOut})`);
    }
    const mapScale = mapMaxOption(values["map-max"] as string | undefined, spatialOut);
    if (spatialOut) await checkOutputFiles([spatialOut]);
    const maskPath = values.mask as string | undefined;
    if (maskPath !== undefined && metric !== "lpips") {
      throw new UsageError("--mask needs --metric lpips");
    }
    const [img0, img1, maskImg] = await Promise.all([
      readImage(f0),
      readImage(f1),
      maskPath === undefined ? undefined : readImage(maskPath),
    ]);
    const size = (i: RGBImage) => `${i.width}x${i.height}`;
    let resized: { from: [number, number]; to: [number, number] } | undefined;
    let second = img1;
    if (size(img0) !== size(img1)) {
      if (!values["resize-to-reference"]) {
        throw new UsageError(
          `${f0} (${size(img0)}) and ${f1} (${size(img1)}) differ in shape; compare needs one ` +
            `size: pass --resize-to-reference to resize ${f1} to ${size(img0)}`,
        );
      }
      second = resizeBicubic(img1, img0.width, img0.height);
      resized = { from: [img1.height, img1.width], to: [img0.height, img0.width] };
    }
    const a = im2tensor(img0), b = im2tensor(second);
    const resizedNote = resized
      ? `(${f1} resized from ${resized.from[1]}x${resized.from[0]} to ${size(img0)}, bicubic)`
      : undefined;
    const mask = maskImg && maskPath !== undefined
      ? maskOf(maskImg, maskPath, size(img0))
      : undefined;
    if (metric !== "lpips") {
      const io = { f0, f1, json: !!values.json, resized, resizedNote, spatialOut, mapScale };
      return await compareMetrics(metrics, options, a, b, io);
    }
    const m = await LPIPS.create(modelOptions(values));
    try {
      if (a.shape[2] < m.minSize || a.shape[3] < m.minSize) {
        throw new UsageError(
          `${f0} and ${f1} are ${size(img0)}; --net ${m.net} needs at least ${m.minSize} px a side`,
        );
      }
      const scalar = await m.distance(a, b, { perLayer: true, mask }).catch((e) => {
        // The mask's own faults (all zero) name the file they came from.
        if (e instanceof InputError && mask && e.message.startsWith("mask")) {
          throw new UsageError(`--mask ${maskPath}: ${e.message}`);
        }
        throw e;
      });
      const result: Record<string, unknown> = {
        metric,
        net: m.net,
        version: m.version,
        lpips: m.lpips,
        distance: scalar.distance[0],
        score: scalar.distance[0],
        lower_is_better: true,
        layers: scalar.layers!.map((l) => l[0]),
        ...(maskPath !== undefined ? { mask: maskPath } : {}),
        ...(resized ? { resized } : {}),
      };
      if (spatialOut) {
        const s = await m.distance(a, b, { spatial: true });
        const [, , h, w] = s.map!.shape;
        const mapMax = s.map!.data.reduce((x, v) => Math.max(x, v), 0);
        result.map_mean = s.distance[0];
        result.map_max = mapMax;
        if (spatialOut.toLowerCase().endsWith(".npy")) {
          await saveNpy(spatialOut, s.map!.data, s.map!.shape);
        } else {
          result.map_scale = mapScale ?? mapMax;
          const { mapFigurePng } = await import("../lpips/figure.ts");
          const label = `LPIPS (${m.net}, v${m.version}${m.lpips ? "" : ", uncalibrated"})`;
          await writeOutput(
            spatialOut,
            mapFigurePng(s.map!.data, w, h, result.map_scale as number, {
              title: `${label} = ${fmt(scalar.distance[0])}`,
              subtitle: [`${basename(f0)} vs ${basename(f1)}, ${w}x${h} px`],
              caption: [
                `distance map, mean ${fmt(s.distance[0])}`,
                `max ${fmt(mapMax)}` +
                (mapScale === undefined ? "" : `, colours 0 to ${fmt(mapScale)}`),
              ],
            }),
          );
        }
        result.spatial = spatialOut;
      }
      if (values.json) console.log(JSON.stringify(result));
      else {
        console.log(
          `Distance: ${fmt(scalar.distance[0])}${maskPath ? ` (weighted by ${maskPath})` : ""}`,
        );
        if (resizedNote) console.log(resizedNote);
        if (spatialOut) {
          const colours = result.map_scale === undefined
            ? ""
            : `, colours 0 to ${fmt(result.map_scale as number)}`;
          console.log(
            `Map mean: ${fmt(result.map_mean as number)}, max: ${fmt(result.map_max as number)} ` +
              `(map: ${spatialOut}${colours})`,
          );
        }
      }
    } finally {
      m.dispose();
    }
  },
};

/**
 * A mask image as distance weights: Pillow's `convert("L")` grey level
 * (`(19595 R + 38470 G + 7471 B + 2^15) >> 16`, the level itself for grey images) / 255.
 */
function maskOf(img: RGBImage, path: string, want: string): DistanceMask {
  if (`${img.width}x${img.height}` !== want) {
    throw new UsageError(`--mask ${path} is ${img.width}x${img.height}; the images are ${want}`);
  }
  const n = img.width * img.height;
  const data = new Float32Array(n);
  const d = img.data;
  for (let i = 0; i < n; i++) {
    data[i] = ((d[3 * i] * 19595 + d[3 * i + 1] * 38470 + d[3 * i + 2] * 7471 + 0x8000) >> 16) /
      255;
  }
  return { data, shape: [1, 1, img.height, img.width] };
}

/** `--map-max V`: a positive number, for a `--spatial` PNG only. */
function mapMaxOption(v: string | undefined, spatialOut: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!spatialOut || !spatialOut.toLowerCase().endsWith(".png")) {
    throw new UsageError("--map-max sets the colour scale of a --spatial .png map");
  }
  const n = Number(v);
  if (v.trim() === "" || !(n > 0) || !Number.isFinite(n)) {
    throw new UsageError(`--map-max needs a positive number (got ${v})`);
  }
  return n;
}

/** What {@link compareMetrics} needs to know of the command line. */
interface CompareIO {
  f0: string;
  f1: string;
  json: boolean;
  resized?: { from: [number, number]; to: [number, number] };
  resizedNote?: string;
  spatialOut?: string;
  mapScale?: number;
}

/** `--spatial` with `metrics`: one metric with a map; a PNG draws distance maps only. */
function checkSpatial(metrics: MetricInfo[], out: string): void {
  if (metrics.length > 1) {
    throw new UsageError(`--spatial writes one map: give one --metric (got ${metrics.length})`);
  }
  const [m] = metrics;
  if (!m.hasMap) {
    throw new UsageError(
      `--spatial: ${m.name} has no map (metrics with maps: lpips, fsim, fsimc, gmsd, flip)`,
    );
  }
  if (["gmsd", "fsim", "fsimc"].includes(m.name) && out.toLowerCase().endsWith(".png")) {
    throw new UsageError(
      `--spatial: the ${m.name} map is a similarity map (1 where the images agree), not a ` +
        `distance map: write it as .npy (got ${out})`,
    );
  }
}

/** Any registered metric(s) other than LPIPS alone: the score of each, the map of one. */
async function compareMetrics(
  metrics: MetricInfo[],
  options: MetricOptions,
  a: ImageTensor,
  b: ImageTensor,
  io: CompareIO,
): Promise<void> {
  const results: Record<string, unknown>[] = [];
  const lines: string[] = [];
  for (const info of metrics) {
    const m = await info.create(options);
    try {
      const score = (await m.scores(a, b))[0];
      const colorspace = info.name === "l2" || info.name === "ssim" ? options.colorspace! : null;
      const distance = info.toDistance(score);
      const lpips = info.name === "lpips" ? options.lpips! : undefined;
      const result: Record<string, unknown> = {
        metric: info.name,
        net: lpips ? (lpips.net === "vgg16" ? "vgg" : lpips.net) : null,
        version: lpips ? lpips.version : null,
        lpips: lpips ? lpips.lpips : null,
        distance: colorspace || lpips ? Math.fround(distance) : distance,
        score,
        lower_is_better: info.lowerIsBetter,
        layers: null,
        colorspace,
      };
      lines.push(textLine(info, m.setting, score, distance));
      if (io.spatialOut) Object.assign(result, await writeMap(m, a, b, score, io));
      results.push(result);
    } finally {
      m.dispose();
    }
  }
  const resized = io.resized ? { resized: io.resized } : {};
  if (io.json) {
    console.log(
      JSON.stringify(
        results.length === 1 ? { ...results[0], ...resized } : { metrics: results, ...resized },
      ),
    );
    return;
  }
  for (const line of lines) console.log(line);
  if (io.resizedNote) console.log(io.resizedNote);
  if (io.spatialOut) {
    const r = results[0];
    const colours = r.map_scale === undefined ? "" : `, colours 0 to ${fmt(r.map_scale as number)}`;
    console.log(
      `Map mean: ${fmt(r.map_mean as number)}, max: ${fmt(r.map_max as number)} ` +
        `(map: ${io.spatialOut}${colours})`,
    );
  }
}

/** One metric's line of text: `MS-SSIM: 0.669979`; l2 and ssim as before (`DSSIM (Lab): ...`). */
function textLine(info: MetricInfo, setting: string, score: number, distance: number): string {
  const label = info.name === "ssim" ? "DSSIM" : info.title;
  const value = info.name === "ssim" ? Math.fround(distance) : score;
  const unit = info.name === "psnr" ? " dB" : "";
  return `${label}${setting ? ` (${setting})` : ""}: ${fmt(value)}${unit}`;
}

/** Writes the map of the first pair (`.npy` raw, `.png` drawn); its JSON fields. */
async function writeMap(
  m: Metric,
  a: ImageTensor,
  b: ImageTensor,
  score: number,
  io: CompareIO,
): Promise<Record<string, unknown>> {
  const out = io.spatialOut!;
  const map = await m.map!(a, b);
  const { data, width: w, height: h } = map;
  let sum = 0, max = 0;
  for (const v of data) {
    sum += v;
    if (v > max) max = v;
  }
  const fields: Record<string, unknown> = { map_mean: sum / data.length, map_max: max };
  if (out.toLowerCase().endsWith(".npy")) {
    await saveNpy(out, data, [1, 1, h, w]);
  } else {
    fields.map_scale = io.mapScale ?? max;
    const { mapFigurePng } = await import("../lpips/figure.ts");
    const label = `${m.info.title}${m.setting ? ` (${m.setting})` : ""}`;
    await writeOutput(
      out,
      mapFigurePng(data, w, h, fields.map_scale as number, {
        title: `${label} = ${fmt(score)}`,
        subtitle: [`${basename(io.f0)} vs ${basename(io.f1)}, ${w}x${h} px`],
        caption: [
          `${map.label}, mean ${fmt(sum / data.length)}`,
          `max ${fmt(max)}` +
          (io.mapScale === undefined ? "" : `, colours 0 to ${fmt(io.mapScale)}`),
        ],
      }),
    );
  }
  fields.spatial = out;
  return fields;
}
