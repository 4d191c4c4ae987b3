/**
 * DISTS in the registry (`lpips/dists.ts`, the official DISTS on ONNX Runtime). The registry hands
 * metrics NCHW batches in [-1, 1] decoded from 8-bit files; they are turned back into the 8-bit
 * images they stand for, so that DISTS prepares them as the official script prepares its files
 * (shorter side shrunk to 256 px when larger).
 *
 * @module
 */
import type { ImageTensor, RGBImage } from "../bappsloader/image.ts";
import { DISTS } from "../lpips/dists.ts";
import type { Metric, MetricInfo } from "./contract.ts";

/** DISTS (VGG16, the published alpha/beta): 0 for identical images. */
export const DISTS_METRIC: MetricInfo = {
  name: "dists",
  aliases: [],
  title: "DISTS",
  lowerIsBetter: true,
  range: [0, 1],
  input: "RGB",
  citation: "Ding, Ma, Wang, Simoncelli, TPAMI 2020",
  hasMap: false,
  minSize: 1,
  distanceRule: "score",
  toDistance: (s) => s,
  async create(options = {}): Promise<Metric> {
    const { weightsDir, trunkPath, quiet, threads } = options;
    const d = await DISTS.create({ weightsDir, trunkPath, quiet, threads });
    return {
      info: DISTS_METRIC,
      setting: "",
      async scores(a, b) {
        const n = a.shape[0], out = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          [out[i]] = await d.score(eightBit(a, i), eightBit(b, i));
        }
        return out;
      },
      dispose: () => d.dispose(),
    };
  },
};

/** Image `i` of a [-1, 1] batch as the 8-bit RGB image it was decoded from (v / 127.5 - 1). */
function eightBit(t: ImageTensor, i: number): RGBImage {
  const [, , height, width] = t.shape, plane = width * height;
  const data = new Uint8Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const src = (i * 3 + c) * plane;
    for (let p = 0; p < plane; p++) {
      data[3 * p + c] = Math.min(255, Math.max(0, Math.round((t.data[src + p] + 1) * 127.5)));
    }
  }
  return { width, height, data };
}
