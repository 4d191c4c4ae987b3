/**
 * LPIPS in the registry (`lpips/lpips.ts`): the model is built by `create` from
 * `options.lpips` (net, version, calibration, engine) and the shared weight options, and freed
 * by `dispose`; its map is the spatial distance map.
 *
 * @module
 */
import { LPIPS } from "../lpips/lpips.ts";
import type { Metric, MetricInfo, MetricOptions } from "./contract.ts";
import { firstPair } from "./_stateless.ts";

/** LPIPS (default alex, v0.1, calibrated). */
export const LPIPS_METRIC: MetricInfo = {
  name: "lpips",
  aliases: [],
  title: "LPIPS",
  lowerIsBetter: true,
  range: [0, Infinity],
  input: "RGB",
  citation: "Zhang, Isola, Efros, Shechtman, Wang, CVPR 2018",
  hasMap: true,
  minSize: 1,
  distanceRule: "score",
  toDistance: (s) => s,
  async create(options = {}): Promise<Metric> {
    const m = await lpipsModel(options);
    return {
      info: LPIPS_METRIC,
      setting: `${m.net}, v${m.version}${m.lpips ? "" : ", uncalibrated"}`,
      scores: async (a, b) => Float64Array.from(await m.distance(a, b)),
      async map(a, b) {
        const [x, y] = firstPair(a, b);
        const r = await m.distance(x, y, { spatial: true });
        const [, , height, width] = r.map!.shape;
        return { data: r.map!.data, width, height, kind: "distance", label: "LPIPS distance" };
      },
      dispose: () => m.dispose(),
    };
  },
};

/**
 * The LPIPS model the registry's `lpips` builds from metric options: `options.lpips` (net,
 * version, calibration, engine) over the shared weight options. The caller disposes it.
 */
export function lpipsModel(options: MetricOptions = {}): Promise<LPIPS> {
  const { weightsDir, quiet, threads } = options;
  // The shared VGG16 file (DISTS's trunk) is LPIPS's trunk only when LPIPS runs on vgg.
  const vgg = options.lpips?.net === "vgg" || options.lpips?.net === "vgg16";
  const trunkPath = vgg ? options.trunkPath : undefined;
  return LPIPS.create({ weightsDir, trunkPath, quiet, threads, ...options.lpips });
}
