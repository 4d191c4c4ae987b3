import assert from "node:assert/strict";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { measure } from "../metrics/measure.ts";
import { JUPYTER_DISPLAY } from "./display.ts";
import { metricTable } from "./metric_table.ts";

const img = (name: string) => testData("images", name);

Deno.test({
  ...needsTestData("metricTable: each metric's scores and ranks side by side; others skipped"),
  fn: async () => {
    const names = ["psnr", "ms_ssim", "gmsd", "flip"];
    const ref = img("tid_I03_ref.png");
    const t = await metricTable(names, ref, [
      img("tid_I03_dist.png"),
      { name: "itself", image: ref },
      img("ex_p0.png"),
      img("README.md"),
    ]);
    assert.deepEqual(t.metrics.map((m) => m.name), ["psnr", "msssim", "gmsd", "flip"]);
    // The reference against itself is closest under every metric.
    assert.deepEqual(t.rows.map((r) => [r.name, r.ranks]), [
      ["itself", [1, 1, 1, 1]],
      ["tid_I03_dist.png", [2, 2, 2, 2]],
    ]);
    const want = await measure(names, ref, img("tid_I03_dist.png"));
    assert.deepEqual(t.rows[1].scores, want.map((w) => w.scores[0]));
    assert.deepEqual(t.skipped.map((s) => s.name), ["ex_p0.png", "README.md"]);
    assert.equal(t.skipped[0].reason, "64x64, the reference is 512x384");
    const text = t.toString().split("\n");
    assert.match(text[1], /^image +PSNR ↑ +MS-SSIM ↑ +GMSD ↓ +FLIP ↓$/);
    assert.match(
      text[3],
      /^tid_I03_dist\.png +21\.0389 \(2\) +0\.6700 \(2\) +0\.2203 \(2\) +0\.3320 \(2\)$/,
    );
    assert.match(text[4], /^skipped ex_p0\.png: 64x64, the reference is 512x384$/);
    assert.match(t[JUPYTER_DISPLAY]()["text/html"] as string, /<th>MS-SSIM ↑<\/th>/);
  },
});

Deno.test({
  ...needsTestData("metricTable: one pair, no ranks; bad arguments are one-line errors"),
  fn: async () => {
    const t = await metricTable(["fsimc"], img("tid_I03_ref.png"), [img("tid_I03_dist.png")]);
    assert.equal(t.rows[0].scores[0].toFixed(4), "0.6890");
    assert.match(
      t.toString(),
      /^↓ lower is better, ↑ higher\nimage +FSIMc ↑\ntid_I03_dist\.png +0\.6890$/,
    );
    await assert.rejects(() => metricTable([], "a.png", ["b.png"]), /metricTable: no metrics/);
    await assert.rejects(() => metricTable(["l2"], "a.png", []), /metricTable: no candidates/);
    await assert.rejects(() => metricTable(["vif"], "a.png", ["b.png"]), /unknown metric "vif"/);
  },
});
