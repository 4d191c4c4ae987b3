import { buildSource, GOLDEN_CASES } from "./cases.ts";
import { featureSimilarity } from "../../baselines/fsim.ts";
const g = JSON.parse(Deno.readTextFileSync("_testing/metric_goldens/goldens.json")).cases;
for (const [i, c] of GOLDEN_CASES.entries()) {
  const a = await buildSource(c.ref), b = await buildSource(c.dist);
  const t = performance.now();
  const r = featureSimilarity(a, b);
  const dt = performance.now() - t;
  const e = g[i];
  const rel = (x: number, y: number | string) =>
    typeof y === "string" ? `${x} vs ${y}` : (Math.abs(x - y) / Math.abs(y)).toExponential(2);
  console.log(
    c.name.padEnd(22),
    r.fsim.toFixed(6),
    rel(r.fsim, e.fsim),
    rel(r.fsimc, e.fsimc),
    dt.toFixed(0),
    "ms",
  );
}
