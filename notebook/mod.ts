/**
 * A notebook toolkit for the Deno Jupyter kernel: LPIPS results that display themselves (the two
 * images, the distance map over them, per-layer terms and the number; a ranking against one
 * reference; a 2AFC/JND table), plotly figures, tables and pictures. Pictures go out as
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
  ComparisonSet,
  comparisonSet,
  type LayerTerm,
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
  type SkippedImage,
} from "./ranking.ts";
export { evaluationTable } from "./evaluation_table.ts";
