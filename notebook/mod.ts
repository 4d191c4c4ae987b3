/**
 * A notebook toolkit for the Deno Jupyter kernel: results of LPIPS or any metric of the registry
 * that display themselves (the two images, the metric's map over them, LPIPS's per-layer terms
 * and the score; a ranking against one reference, closest first in the metric's direction;
 * several metrics side by side; a 2AFC/JND table), plotly figures, tables and pictures. Pictures go out as
 * `image/png` and render without JavaScript (JupyterLab, VS Code, GitHub); plotly figures as
 * plotly's JSON bundle with an HTML fallback. Outside a kernel, {@link show} prints text.
 *
 * @example
 * ```ts
 * import { LPIPS } from "@perceptual/lpips";
 * import { compareImages, rankImages, show } from "@perceptual/lpips/notebook";
 * const m = await LPIPS.create();
 * await show(
 *   await compareImages(m, "ex_ref.png", "ex_p0.png"),
 *   await rankImages(m, "ex_ref.png", ["ex_p0.png", "ex_p1.png"]),
 *   await rankImages("ex_ref.png", ["ex_p0.png", "ex_p1.png"], { metric: "ssim" }),
 * );
 * m.dispose();
 * ```
 *
 * @module
 */
export { display, type Displayable, JUPYTER_DISPLAY, type MimeBundle, show } from "./display.ts";
export {
  type Figure,
  imageTrace,
  logAxis,
  plot,
  PLOTLY_MIME,
  PLOTLY_VERSION,
  type PlotlyJson,
} from "./plot.ts";
export { formatNumber, table, type TableCell, type TableOptions } from "./table.ts";
export { picture, type PictureOptions } from "./picture.ts";
export {
  compareImages,
  type CompareImagesOptions,
  Comparison,
  type ComparisonData,
  type ComparisonDisplayOptions,
  type ComparisonMap,
  ComparisonSet,
  comparisonSet,
  type LayerTerm,
  type MetricChoice,
} from "./comparison.ts";
export {
  type MetricCandidate,
  MetricTable,
  metricTable,
  type MetricTableRow,
} from "./metric_table.ts";
export {
  type RankCandidate,
  type RankedImage,
  rankImages,
  type RankImagesOptions,
  Ranking,
  type RankingMaps,
  type SkippedImage,
} from "./ranking.ts";
export { evaluationTable } from "./evaluation_table.ts";
