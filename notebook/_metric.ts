/**
 * What the comparison and the ranking share about the metric they measure with: which one the
 * options name (LPIPS by default), the checks of the options, and the words their pictures say
 * about a score and a map (docs/notebooks.md).
 *
 * @module
 */
import type { ImageTensor } from "../bappsloader/image.ts";
import type { LPIPS } from "../lpips/lpips.ts";
import type { MetricInfo, MetricMap, MetricOptions } from "../metrics/contract.ts";
import { LPIPS_METRIC } from "../metrics/lpips.ts";
import { resolveMetric } from "../metrics/registry.ts";
import { formatScale } from "../lpips/figure.ts";
import { fmtDistance } from "./_model.ts";

/** The metric options of a comparison or a ranking (the model's, when no model is given). */
export interface MetricChoice extends MetricOptions {
  /**
   * The metric: a name or alias of the registry (`"gmsd"`, pyiqa's `"ms_ssim"`) or a
   * `MetricInfo` (`GMSD_METRIC`); default LPIPS. Its options are the other fields
   * (`colorspace`, `ppd`, `weightsDir`, `lpips: { net: "vgg" }`, ...).
   */
  metric?: string | MetricInfo;
}

const CHOICE_KEYS = [
  "metric",
  "colorspace",
  "ppd",
  "weightsDir",
  "trunkPath",
  "quiet",
  "lpips",
] as const satisfies readonly (keyof MetricChoice)[];

/** Whether `v` is an LPIPS model (the first argument of the model forms). */
export function isLpipsModel(v: unknown): v is LPIPS {
  const m = v as Partial<LPIPS> | null;
  return typeof m === "object" && m !== null && typeof m.distance === "function" &&
    typeof m.features === "function" && typeof m.compare === "function";
}

/**
 * The metric the options name (LPIPS when none), its errors prefixed with `fn`. With a `model`
 * given, metric options are an error: the model is the metric.
 */
export function chosenMetric(fn: string, options: MetricChoice, model: boolean): MetricInfo {
  if (model) {
    const given = CHOICE_KEYS.filter((k) => options[k] !== undefined);
    if (given.length > 0) {
      throw new TypeError(
        `${fn}: ${given.join(", ")} apply when no LPIPS model is given; pass the model or ` +
          "the metric options, not both",
      );
    }
    return LPIPS_METRIC;
  }
  if (options.metric === undefined) return LPIPS_METRIC;
  try {
    return resolveMetric(options.metric);
  } catch (e) {
    if (e instanceof RangeError) throw new RangeError(`${fn}: ${e.message}`);
    if (e instanceof TypeError) throw new TypeError(`${fn}: ${e.message}`);
    throw e;
  }
}

/** The metric options of `options`, without the display's. */
export function metricOptions(options: MetricChoice): MetricOptions {
  const { colorspace, ppd, weightsDir, trunkPath, quiet, lpips } = options;
  return { colorspace, ppd, weightsDir, trunkPath, quiet, lpips };
}

/** A one-line error unless `image` is as large as the metric needs (MS-SSIM: 176 px a side). */
export function checkMinSize(fn: string, info: MetricInfo, name: string, image: ImageTensor) {
  const [, , h, w] = image.shape;
  if (Math.min(w, h) < info.minSize) {
    throw new RangeError(
      `${fn}: ${info.title} needs images of at least ${info.minSize} px a side; ${name} is ${w}x${h}`,
    );
  }
}

/** A metric's line: its title and the options in use, `SSIM (Lab)`, `GMSD`. */
export function metricLabel(info: MetricInfo, setting: string): string {
  return `${info.title}${setting ? ` (${setting})` : ""}`;
}

/**
 * A score as the command line prints it (six decimals), but PSNR as papers print it, in dB to two
 * decimals (`18.00 dB`).
 */
export function fmtScore(info: MetricInfo, score: number): string {
  return info.name === "psnr" ? `${score.toFixed(2)} dB` : fmtDistance(score);
}

/** Which way the metric points: `lower GMSD = closer`; `Higher SSIM = closer` to start a line. */
export function direction(info: MetricInfo, start = false): string {
  const way = info.lowerIsBetter ? "lower" : "higher";
  return `${start ? way[0].toUpperCase() + way.slice(1) : way} ${info.title} = closer`;
}

/** A map's values, (1, 1, H, W) at the map's own size, and what they are. */
export interface ComparisonMap {
  /** The values in C order (row-major). */
  data: Float32Array;
  /** `[1, 1, H, W]` (GMSD's and FSIM's maps are smaller than the image). */
  shape: [number, number, number, number];
  /** `distance`: 0 where the images agree (LPIPS, FLIP); `similarity`: 1 where they agree. */
  kind: "distance" | "similarity";
  /** What the map shows: `LPIPS distance`, `gradient magnitude similarity (1/2 scale)`. */
  label: string;
}

/** A registry map as a {@link ComparisonMap}. */
export function comparisonMap(m: MetricMap): ComparisonMap {
  return { data: m.data, shape: [1, 1, m.height, m.width], kind: m.kind, label: m.label };
}

/**
 * The top colour's value of maps of one kind by default: the largest value of distance maps,
 * 1 (agreement) for similarity maps, whose colours then mean the same in every picture.
 */
export function defaultScale(kind: ComparisonMap["kind"], largest: number): number {
  return kind === "similarity" ? 1 : largest;
}

/** The colour bar's label: the map's own words, or `GMSD similarity` where they do not fit. */
export function barLabel(info: MetricInfo, map: Pick<ComparisonMap, "kind" | "label">): string[] {
  return [map.label, `${info.title} ${map.kind}`];
}

/** What a map's colours mean: `Map: LPIPS distance, dark = alike; colours 0 to 1.05`. */
export function mapMeaning(map: Pick<ComparisonMap, "kind" | "label">, scale: number): string {
  const alike = map.kind === "similarity" ? "bright (1) = alike" : "dark (0) = alike";
  return `Map: ${map.label}, ${alike}; colours 0 to ${formatScale(scale)}`;
}

/** The caption of a map's extreme: `max 1.05` for distances, `min 0.31` for similarities. */
export function mapExtreme(
  map: Pick<ComparisonMap, "kind">,
  min: number,
  max: number,
  scale: number,
): string {
  return map.kind === "similarity"
    ? `min ${formatScale(min)}`
    : `max ${formatScale(max)}${max > scale ? " (above scale)" : ""}`;
}

/** The words that say a metric has no map: `PSNR has no per-pixel map`. */
export function noMapLine(info: MetricInfo): string {
  return `${info.title} has no per-pixel map`;
}
