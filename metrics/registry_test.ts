import assert from "node:assert/strict";
import { findMetric, findMetrics, METRIC_NAMES, METRICS, resolveMetric } from "./registry.ts";
import { FLIP_METRIC } from "./flip.ts";

Deno.test("the registry holds the ten metrics, each name and alias once, in lower case", () => {
  assert.deepEqual(METRIC_NAMES, [
    "lpips",
    "l2",
    "ssim",
    "psnr",
    "msssim",
    "fsim",
    "fsimc",
    "gmsd",
    "flip",
    "dists",
  ]);
  const all = METRICS.flatMap((m) => [m.name, ...m.aliases]);
  assert.equal(new Set(all).size, all.length);
  for (const n of all) assert.equal(n, n.toLowerCase());
  for (const m of METRICS) {
    assert.ok(m.range[0] < m.range[1], m.name);
    assert.ok(m.citation.length > 0 && m.title.length > 0 && m.distanceRule.length > 0, m.name);
    assert.ok(["RGB", "luma", "Lab|RGB"].includes(m.input), m.name);
  }
});

Deno.test("findMetric: names and pyiqa's spellings, in any case; others name the valid ones", () => {
  assert.equal(findMetric("ms_ssim").name, "msssim");
  assert.equal(findMetric("MS-SSIM").name, "msssim");
  assert.equal(findMetric(" FSIMc ").name, "fsimc");
  assert.equal(findMetric("dssim").name, "ssim");
  assert.equal(findMetric("ldr-flip").name, "flip");
  assert.throws(
    () => findMetric("vif"),
    (e: Error) =>
      e instanceof RangeError && !e.message.includes("\n") &&
      e.message.startsWith('unknown metric "vif" (known: lpips, l2, ssim, psnr, msssim,'),
  );
});

Deno.test("findMetrics: a comma list, each metric once in the order given; no empty names", () => {
  assert.deepEqual(findMetrics("psnr, ms-ssim,msssim,lpips").map((m) => m.name), [
    "psnr",
    "msssim",
    "lpips",
  ]);
  assert.throws(() => findMetrics("psnr,,ssim"), /empty metric name in "psnr,,ssim"/);
  assert.throws(() => findMetrics("psnr,nope"), /unknown metric "nope"/);
});

Deno.test("toDistance: >= 0, 0 at the best score, and ordered as the metric's direction", () => {
  const best = (m: typeof METRICS[number]) =>
    m.lowerIsBetter ? m.range[0] : m.name === "psnr" ? Infinity : m.range[1];
  for (const m of METRICS) {
    assert.equal(m.toDistance(best(m)), 0, m.name);
    const [lo, hi] = [m.range[0], Math.min(m.range[1], 60)];
    const a = lo + 0.25 * (hi - lo), b = lo + 0.75 * (hi - lo);
    const da = m.toDistance(a), db = m.toDistance(b);
    assert.ok(da >= 0 && db >= 0, m.name);
    assert.ok(m.lowerIsBetter ? da < db : da > db, `${m.name}: ${da} vs ${db}`);
  }
  assert.equal(findMetric("psnr").toDistance(20), 0.01); // MSE / 255^2
  assert.equal(findMetric("ssim").toDistance(0.5), 0.25); // DSSIM
});

Deno.test("resolveMetric: a name or alias is looked up, a MetricInfo kept; anything else named", () => {
  assert.equal(resolveMetric("MS_SSIM"), findMetric("msssim"));
  assert.equal(resolveMetric(FLIP_METRIC), FLIP_METRIC);
  assert.throws(() => resolveMetric("vif"), /^RangeError: unknown metric "vif" \(known: lpips,/);
  for (const [bad, got] of [[42, "42"], [null, "null"], [{ name: "x" }, "an object"]] as const) {
    assert.throws(
      () => resolveMetric(bad as never),
      (e: Error) =>
        e instanceof TypeError && !e.message.includes("\n") &&
        e.message === `a metric is a name (${METRIC_NAMES.join(", ")}) or a MetricInfo of the ` +
            `registry, got ${got}`,
    );
  }
  assert.throws(() => resolveMetric(new Date() as never), /got a Date$/);
});
