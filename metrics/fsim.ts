/**
 * FSIM and FSIMc in the registry (`baselines/fsim.ts`, the authors' `FeatureSIM.m`); their maps
 * are the local similarities of the subsampled image.
 *
 * @module
 */
import { featureSimilarity, fsimBatch, fsimcBatch } from "../baselines/fsim.ts";
import type { MetricInfo, MetricMap } from "./contract.ts";
import { tensorRgbImage } from "./images.ts";
import { statelessMetric } from "./_stateless.ts";
import type { ImageTensor } from "../bappsloader/image.ts";

const CITATION = "Zhang, Zhang, Mou, Zhang, IEEE TIP 2011";

function similarityMap(a: ImageTensor, b: ImageTensor, colour: boolean): MetricMap {
  const r = featureSimilarity(tensorRgbImage(a, 0), tensorRgbImage(b, 0));
  return {
    data: Float32Array.from(colour ? r.similarityC : r.similarity),
    width: r.width,
    height: r.height,
    kind: "similarity",
    label: `${colour ? "FSIMc" : "FSIM"} local similarity (1/${r.factor} scale)`,
  };
}

/** FSIM: phase congruency and gradient similarity of the luma. */
export const FSIM_METRIC: MetricInfo = {
  name: "fsim",
  aliases: [],
  title: "FSIM",
  lowerIsBetter: false,
  range: [0, 1],
  input: "luma",
  citation: CITATION,
  hasMap: true,
  minSize: 1,
  distanceRule: "1 - score",
  toDistance: (s) => 1 - s,
  create() {
    return statelessMetric(FSIM_METRIC, "", fsimBatch, (a, b) => similarityMap(a, b, false));
  },
};

/** FSIMc: FSIM with the YIQ chroma, the variant in the LPIPS paper's Fig. 4. */
export const FSIMC_METRIC: MetricInfo = {
  name: "fsimc",
  aliases: ["fsim_c", "fsim-c"],
  title: "FSIMc",
  lowerIsBetter: false,
  range: [0, 1],
  input: "RGB",
  citation: CITATION,
  hasMap: true,
  minSize: 1,
  distanceRule: "1 - score",
  toDistance: (s) => 1 - s,
  create() {
    return statelessMetric(FSIMC_METRIC, "", fsimcBatch, (a, b) => similarityMap(a, b, true));
  },
};
