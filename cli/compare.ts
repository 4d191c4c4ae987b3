/**
 * `compare IMG0 IMG1`: LPIPS, L2 or DSSIM between two images (the reference's
 * `lpips_2imgs.py`).
 *
 * @module
 */
import { extname } from "node:path";
import { checkOutputFiles } from "../_internal/output_path.ts";
import { LPIPS } from "../lpips/lpips.ts";
import { heatmapPng } from "../lpips/heatmap.ts";
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
    const colorspace = oneOf<Colorspace>("colorspace", values.colorspace, COLORSPACES, "Lab");
    const spatialOut = values.spatial as string | undefined;
    if (spatialOut && metric !== "lpips") throw new UsageError("--spatial needs --metric lpips");
    if (spatialOut && ![".png", ".npy"].includes(extname(spatialOut).toLowerCase())) {
      throw new UsageError(`--spatial needs a .png or .npy file name (got ${spatialOut})`);
    }
    if (spatialOut) await checkOutputFiles([spatialOut]);
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
