/**
 * Several metrics side by side in one call: one image pair, or a reference against a folder's
 * images, each image read once and each metric built once (docs/metrics.md).
 *
 * @module
 */
import { basename } from "node:path";
import { ImageDecodeError, type ImageTensor, isImageFile } from "../bappsloader/image.ts";
import type { MetricImage, MetricInfo, MetricOptions } from "../metrics/contract.ts";
import { metricTensor } from "../metrics/images.ts";
import { resolveMetric } from "../metrics/registry.ts";
import { JUPYTER_DISPLAY, type MimeBundle } from "./display.ts";
import { fileLabel, sizeOf } from "./_model.ts";
import { formatNumber, table } from "./table.ts";
import type { SkippedImage } from "./ranking.ts";

/** A candidate of {@link metricTable}: an image file, or a named decoded image or tensor. */
export type MetricCandidate = MetricImage | { name: string; image: MetricImage };

/** One compared image of a {@link MetricTable}. */
export interface MetricTableRow {
  /** Its label. */
  name: string;
  /** One score per metric, in the table's metric order, as the metric's authors print it. */
  scores: number[];
  /** Its rank under each metric (1 = closest to the reference, in the metric's direction). */
  ranks: number[];
}

/** The result of {@link metricTable}; a notebook cell ending in it shows the table. */
export class MetricTable {
  /** The metrics, in column order. */
  readonly metrics: readonly MetricInfo[];
  /** The compared images, ordered by the first metric (closest first). */
  readonly rows: readonly MetricTableRow[];
  /** The images that were not compared (unreadable, another size), and why. */
  readonly skipped: readonly SkippedImage[];

  /** Wraps computed results; {@link metricTable} computes them. */
  constructor(metrics: MetricInfo[], rows: MetricTableRow[], skipped: SkippedImage[]) {
    this.metrics = metrics;
    this.rows = rows;
    this.skipped = skipped;
  }

  /** The table as text (aligned columns), then the skipped images. */
  toString(): string {
    return this.#bundle()["text/plain"] as string;
  }

  /** The MIME bundle (HTML table, text fallback). */
  [JUPYTER_DISPLAY](): MimeBundle {
    return this.#bundle();
  }

  #bundle(): MimeBundle {
    const arrows = this.metrics.map((m) => `${m.title} ${m.lowerIsBetter ? "↓" : "↑"}`);
    const ranked = this.rows.length > 1;
    const rows = this.rows.map((r) => [
      r.name,
      ...r.scores.map((s, k) => formatNumber(s) + (ranked ? ` (${r.ranks[k]})` : "")),
    ]);
    const caption = ranked
      ? "score (rank, 1 = closest to the reference); ↓ lower is better, ↑ higher"
      : "↓ lower is better, ↑ higher";
    const bundle = table(["image", ...arrows], rows, { caption })[JUPYTER_DISPLAY]();
    if (this.skipped.length === 0) return bundle;
    const note = this.skipped.map((s) => `skipped ${s.name}: ${s.reason}`).join("\n");
    return {
      "text/html": `${bundle["text/html"]}<pre>${
        note.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)
      }</pre>`,
      "text/plain": `${bundle["text/plain"]}\n${note}`,
    };
  }
}

/**
 * Scores each candidate against the reference with every metric named (names, aliases or
 * `MetricInfo`s), as a {@link MetricTable}: per image and metric the score and its rank. Each
 * image is read once, each metric built once (LPIPS loads its weights once). Candidates that
 * cannot be decoded or differ in size from the reference are listed in `skipped`.
 *
 * @example The paper's example patches under four metrics
 * ```ts
 * import { metricTable } from "@perceptual/lpips/notebook";
 * const t = await metricTable(["lpips", "ssim", "gmsd", "flip"], "ex_ref.png", ["ex_p0.png", "ex_p1.png"]);
 * console.log(t.rows.map((r) => `${r.name}: ${r.ranks.join(" ")}`)); // ["ex_p1.png: 1 2 2 2", "ex_p0.png: 2 1 1 1"]: LPIPS agrees with the humans
 * t; // in a notebook cell: the table
 * ```
 */
export async function metricTable(
  metrics: readonly (string | MetricInfo)[],
  reference: MetricImage,
  candidates: readonly MetricCandidate[],
  options: MetricOptions = {},
): Promise<MetricTable> {
  const fn = "metricTable";
  if (!Array.isArray(metrics) || metrics.length === 0) {
    throw new RangeError(`${fn}: no metrics (pass names such as "lpips", "ssim")`);
  }
  if (!Array.isArray(candidates) || candidates.length === 0) {
    throw new RangeError(`${fn}: no candidates (pass image paths or { name, image })`);
  }
  const infos = metrics.map(resolveMetric);
  const ref = await metricTensor(reference);
  const images: { name: string; image: ImageTensor }[] = [];
  const skipped: SkippedImage[] = [];
  for (const [i, c] of candidates.entries()) {
    const named = typeof c === "object" && c !== null && "name" in c && "image" in c;
    const source = named ? c.image : c as MetricImage;
    const name = named
      ? c.name
      : isImageFile(source)
      ? basename(fileLabel(source))
      : `candidate ${i + 1}`;
    try {
      const image = await metricTensor(source);
      if (sizeOf(image) !== sizeOf(ref)) {
        skipped.push({ name, reason: `${sizeOf(image)}, the reference is ${sizeOf(ref)}` });
      } else images.push({ name, image });
    } catch (e) {
      if (!(e instanceof ImageDecodeError)) throw e;
      skipped.push({ name, reason: e.message });
    }
  }
  const scores = images.map(() => [] as number[]);
  const distances = images.map(() => [] as number[]);
  for (const info of infos) {
    const m = await info.create(options);
    try {
      for (const [i, { image }] of images.entries()) {
        const s = (await m.scores(ref, image))[0];
        scores[i].push(s);
        distances[i].push(info.toDistance(s));
      }
    } finally {
      m.dispose();
    }
  }
  const ranks = images.map(() => [] as number[]);
  infos.forEach((_, k) => {
    const order = images.map((_, i) => i).sort((x, y) =>
      distances[x][k] - distances[y][k] || x - y
    );
    order.forEach((i, r) => ranks[i][k] = r + 1);
  });
  const rows = images.map((im, i) => ({ name: im.name, scores: scores[i], ranks: ranks[i] }))
    .sort((a, b) => a.ranks[0] - b.ranks[0]);
  return new MetricTable(infos, rows, skipped);
}
