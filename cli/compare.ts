/**
 * `compare IMG0 IMG1`: LPIPS, L2 or DSSIM between two images (the reference's
 * `lpips_2imgs.py`).
 *
 * @module
 */
import { basename, extname } from "node:path";
import { LPIPS } from "../lpips/lpips.ts";
import {
  type Command,
  MODEL_USAGE,
  modelOptions,
  oneOf,
  parse,
  positionals,
  UsageError,
} from "./args.ts";
import { type ImageTensor, loadImage } from "../bappsloader/image.ts";
import { saveNpy } from "../bappsloader/npy.ts";
import { dssim } from "../baselines/ssim.ts";
import { type Colorspace, COLORSPACES, l2 } from "../baselines/l2.ts";

import { fmt, READING, writeOutput } from "./_images.ts";

/** `compare IMG0 IMG1`: LPIPS (or L2 / DSSIM) between two images. */
export const compare: Command = {
  summary: "compare IMG0 IMG1   distance between two images of the same size",
  usage: `Usage: deno task lpips compare IMG0 IMG1 [options]

  --metric lpips|l2|ssim     lpips (default); l2 and ssim are the paper's baselines, computed
                             as the reference does; ssim prints DSSIM = (1 - SSIM) / 2, as the
                             reference's evaluation does
  --colorspace Lab|RGB       colour space of l2 and ssim (default Lab, the reference's default)
  --spatial OUT.png|OUT.npy  lpips: also write the distance map (.png: viridis, 0 to the map's
                             maximum, with a title and a numbered colour bar; .npy: float32
                             1x1xHxW, raw); prints the map's mean and maximum
  --map-max V                top of the .png's colour scale (default: the map's maximum); the
                             same V for several maps makes their colours comparable
  --json                     print one JSON object: metric, net, version, lpips, distance,
                             layers (per-layer contributions, lpips only), colorspace; with
                             --spatial also map_mean, map_max, spatial (and map_scale: the
                             .png's top colour)

${MODEL_USAGE}

${READING}`,
  async run(args) {
    const { values, positionals: p } = parse(args, {
      spatial: { type: "string" },
      "map-max": { type: "string" },
      metric: { type: "string" },
      colorspace: { type: "string" },
    });
    if (values.help) return console.log(this.usage);
    const [f0, f1] = positionals(p, 2, "two image files: compare IMG0 IMG1");
    const metric = oneOf("metric", values.metric, ["lpips", "l2", "ssim"], "lpips");
    const colorspace = oneOf<Colorspace>("colorspace", values.colorspace, COLORSPACES, "Lab");
    const spatialOut = values.spatial as string | undefined;
    if (spatialOut && metric !== "lpips") throw new UsageError("--spatial needs --metric lpips");
    if (spatialOut && ![".png", ".npy"].includes(extname(spatialOut).toLowerCase())) {
      throw new UsageError(`--spatial needs a .png or .npy file name (got ${spatialOut})`);
    }
    const mapScale = mapMaxOption(values["map-max"] as string | undefined, spatialOut);
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
        console.log(`Distance: ${fmt(scalar.distance[0])}`);
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
