/**
 * Prints each classical metric's largest deviation from the authors' code over the golden cases
 * (the numbers quoted in docs/algorithm.md §12.5):
 * `deno run --allow-all _testing/metric_goldens/deviations.ts`.
 *
 * @module
 */
import type { RGBImage } from "../../bappsloader/image.ts";
import { featureSimilarity } from "../../baselines/fsim.ts";
import { gmsd } from "../../baselines/gmsd.ts";
import { msssimScales } from "../../baselines/msssim.ts";
import { buildSource, GOLDEN_CASES } from "./cases.ts";

type Value = number | "NaN" | null | { re: number; im: number };
const goldens: Record<string, Value>[] = JSON.parse(
  await Deno.readTextFile(new URL("./goldens.json", import.meta.url)),
).cases;

const worst: Record<string, { rel: number; abs: number; at: string }> = {};
const cache = new Map<string, Promise<RGBImage>>();
for (const [i, c] of GOLDEN_CASES.entries()) {
  const a = await buildSource(c.ref, cache), b = await buildSource(c.dist, cache), g = goldens[i];
  const f = featureSimilarity(a, b);
  const ours: Record<string, number> = { gmsd: gmsd(a, b), fsim: f.fsim, fsimc: f.fsimc };
  if (g.msssim !== null) ours.msssim = msssimScales(a, b).score;
  for (const [name, got] of Object.entries(ours)) {
    const v = g[name];
    const want = typeof v === "object" && v !== null ? v.re : v === "NaN" ? NaN : v as number;
    if (Number.isNaN(want) && Number.isNaN(got)) continue;
    const abs = Math.abs(got - want), rel = want === 0 ? abs : abs / Math.abs(want);
    if (!(rel <= (worst[name]?.rel ?? -1))) worst[name] = { rel, abs, at: c.name };
  }
}
for (const [name, w] of Object.entries(worst)) {
  console.log(`${name}: largest relative deviation ${w.rel.toExponential(1)} (${w.at})`);
}
