import assert from "node:assert/strict";
import { decode } from "fast-png";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { loadImage } from "../bappsloader/image.ts";
import { LPIPS } from "../lpips/lpips.ts";
import type { MetricOptions } from "../metrics/contract.ts";
import { GMSD_METRIC } from "../metrics/gmsd.ts";
import { findMetric, METRIC_NAMES } from "../metrics/registry.ts";
import { compareImages, comparisonSet } from "./comparison.ts";
import { rankImages } from "./ranking.ts";
import { JUPYTER_DISPLAY } from "./display.ts";
import { formatScale } from "../lpips/figure.ts";

const image = (name: string) => testData("images", name);
const OPTIONS: MetricOptions = {
  weightsDir: testData("weights"),
  // The random-weight VGG16 of the test data stands in for DISTS's ImageNet trunk.
  trunkPath: testData("weights", "vgg16-random-seed0.pth"),
  quiet: true,
};
/** The pairs each metric is tried on: MS-SSIM needs 176 px a side, the 64x64 patches suit the rest. */
const IMAGES = {
  small: { ref: "ex_ref.png", a: "ex_p0.png", b: "ex_p1.png" },
  large: { ref: "tid_I03_ref.png", a: "tid_I03_dist.png", b: "tid_I04_dist.png" },
};

/** The registry's own score and map of one pair: what the displays must show. */
async function registry(name: string, ref: string, other: string, options = OPTIONS) {
  const info = findMetric(name);
  const m = await info.create(options);
  try {
    const [x, y] = await Promise.all([loadImage(image(ref)), loadImage(image(other))]);
    return {
      score: (await m.scores(x, y))[0],
      map: info.hasMap ? await m.map!(x, y) : undefined,
    };
  } finally {
    m.dispose();
  }
}

/** Whether the SVG sets `words` as one line of text. */
const says = (svg: string, words: string) =>
  svg.includes(`aria-label="${words.replace(/&/g, "&amp;").replace(/</g, "&lt;")}"`);

for (const name of METRIC_NAMES) {
  Deno.test({
    ...needsTestData(`compareImages and rankImages by ${name}: the registry's scores, its map`),
    fn: async () => {
      const info = findMetric(name);
      const { ref, a, b } = name === "msssim" ? IMAGES.large : IMAGES.small;
      const fmt = (s: number) => name === "psnr" ? `${s.toFixed(2)} dB` : s.toFixed(6);

      const c = await compareImages(image(ref), image(a), { metric: name, ...OPTIONS });
      const want = await registry(name, ref, a);
      assert.equal(c.metric, info);
      assert.equal(c.score, want.score);
      assert.equal(c.distance, info.toDistance(want.score));
      assert.deepEqual(c.names, [ref, a]);
      assert.equal(c.layers.length, name === "lpips" ? 5 : 0);
      const svg = c.svg();
      assert.ok(says(svg, `${c.label} = ${fmt(c.score)}`), `title ${c.label}`);
      const png = decode(c.png());
      assert.ok(png.width > 0 && png.height > 0 && png.data.length > 0);
      const way = `${info.lowerIsBetter ? "Lower" : "Higher"} ${info.title} = closer`;
      if (info.hasMap) {
        assert.deepEqual(c.map!.data, want.map!.data);
        assert.deepEqual(c.map!.shape, [1, 1, want.map!.height, want.map!.width]);
        assert.equal(c.map!.kind, want.map!.kind);
        assert.equal(c.scale, c.map!.kind === "similarity" ? 1 : c.mapMax);
        const bright = c.map!.kind === "similarity" ? "bright (1) = alike" : "dark (0) = alike";
        assert.ok(
          says(
            svg,
            `${way}. Map: ${c.map!.label}, ${bright}; colours 0 to ${formatScale(c.scale)}`,
          ),
          `map line of ${name}`,
        );
        // The colour bar names the map: its own words, or the metric's and the kind.
        assert.ok(
          says(svg, c.map!.label) || says(svg, `${info.title} ${c.map!.kind}`),
          `bar label of ${name}`,
        );
        assert.equal(svg.match(/<image /g)?.length, 4); // two images, the map, the bar
      } else {
        assert.equal(c.map, undefined);
        assert.equal(c.scale, 0);
        assert.ok(
          says(svg, `${way}. ${info.title} has no per-pixel map: the images and the score`),
        );
        assert.equal(svg.match(/<image /g)?.length, 2); // the two images, no bar
      }
      const bundle = c[JUPYTER_DISPLAY]();
      assert.equal(bundle["text/plain"] as string, String(c));
      assert.equal(String(c).split("\n")[0], `${c.label} ${ref} vs ${a}: ${fmt(c.score)}`);

      const r = await rankImages(image(ref), [a, b, ref].map(image), { metric: name, ...OPTIONS });
      const scores = new Map<string, number>();
      for (const n of [a, b, ref]) scores.set(n, (await registry(name, ref, n)).score);
      assert.deepEqual(
        r.ranked.map((x) => [x.name, x.score]),
        [...scores].sort((p, q) => info.toDistance(p[1]) - info.toDistance(q[1])),
      );
      for (const x of r.ranked) assert.equal(x.distance, info.toDistance(x.score));
      assert.equal(r.ranked[0].name, ref, "the reference itself is closest");
      assert.equal(r.metric, info);
      const rsvg = r.svg();
      for (const x of r.ranked) {
        assert.ok(says(rsvg, `${info.title} = ${fmt(x.score)}`), `${name} caption of ${x.name}`);
      }
      assert.ok(says(rsvg, `${r.label}: 3 images against ${ref}, closest first`));
      assert.ok(decode(r.png()).width > 0);
      if (info.hasMap) {
        assert.equal(r.maps!.kind, want.map!.kind);
        const largest = Math.max(...r.ranked.map((x) => x.mapMax!));
        assert.equal(r.scale, r.maps!.kind === "similarity" ? 1 : largest);
        const bright = r.maps!.kind === "similarity" ? "bright (1) = alike" : "dark (0) = alike";
        assert.ok(
          says(rsvg, `Map: ${r.maps!.label}, ${bright}; colours 0 to ${formatScale(r.scale)}`),
        );
        for (const x of r.ranked) {
          assert.equal(x.mapThumbnail!.length, x.thumbnail.width * x.thumbnail.height);
        }
      } else {
        assert.equal(r.maps, undefined);
        assert.ok(
          says(rsvg, `${way}. ${info.title} has no per-pixel map: the images and their scores`),
        );
        assert.equal(rsvg.match(/<image /g)?.length, 4); // the reference, three thumbnails
      }
    },
  });
}

Deno.test({
  ...needsTestData("rankImages: each metric's direction decides the order, not the raw value"),
  fn: async () => {
    const names = ["ex_p1.png", "ex_p0.png", "ex_ref.png"];
    const rank = async (metric: string) =>
      (await rankImages(image("ex_ref.png"), names.map(image), { metric, ...OPTIONS })).ranked;
    // SSIM is a similarity: the highest first, the reverse of its values in ascending order.
    const ssim = await rank("ssim");
    assert.deepEqual(ssim.map((x) => x.name), ["ex_ref.png", "ex_p0.png", "ex_p1.png"]);
    assert.ok(ssim[0].score > ssim[1].score && ssim[1].score > ssim[2].score);
    assert.equal(ssim[0].score, 1);
    // GMSD is a distance: the lowest first, its values in ascending order.
    const gmsd = await rank("gmsd");
    assert.deepEqual(gmsd.map((x) => x.name), ["ex_ref.png", "ex_p0.png", "ex_p1.png"]);
    assert.ok(gmsd[0].score < gmsd[1].score && gmsd[1].score < gmsd[2].score);
    assert.equal(gmsd[0].score, 0);
    // The metrics disagree on the patches: FSIM (a similarity) and LPIPS side with ex_p1.
    const fsim = await rank("fsim");
    assert.deepEqual(fsim.map((x) => x.name), ["ex_ref.png", "ex_p1.png", "ex_p0.png"]);
    assert.ok(fsim[1].score > fsim[2].score);
    assert.deepEqual((await rank("lpips")).map((x) => x.name), fsim.map((x) => x.name));
    // pyiqa's spellings and MetricInfos name the same metrics.
    assert.deepEqual(await rank("LDR-FLIP"), await rank("flip"));
    const byInfo = await rankImages(image("ex_ref.png"), names.map(image), { metric: GMSD_METRIC });
    assert.deepEqual(byInfo.ranked, gmsd);
    const tid = [image("tid_I04_dist.png"), image("tid_I03_dist.png")];
    const ms = await rankImages(image("tid_I03_ref.png"), tid, { metric: "ms_ssim" });
    assert.equal(ms.metric.name, "msssim");
    assert.deepEqual(ms.ranked.map((x) => x.name), ["tid_I03_dist.png", "tid_I04_dist.png"]);
    assert.ok(ms.ranked[0].score > ms.ranked[1].score);
  },
});

Deno.test({
  ...needsTestData("compareImages and rankImages without a model: LPIPS by default, as with one"),
  fn: async () => {
    const m = await LPIPS.create({ weightsDir: testData("weights"), quiet: true, net: "squeeze" });
    try {
      const opts = { weightsDir: testData("weights"), quiet: true };
      const byModel = await compareImages(m, image("ex_ref.png"), image("ex_p1.png"));
      const byName = await compareImages(image("ex_ref.png"), image("ex_p1.png"), {
        ...opts,
        lpips: { net: "squeeze" },
      });
      assert.equal(byName.label, "LPIPS (squeeze, v0.1)");
      assert.equal(byName.score, byModel.score);
      assert.deepEqual(byName.layers, byModel.layers);
      assert.deepEqual(byName.map, byModel.map);
      assert.equal(byName.svg(), byModel.svg());
      const plain = await compareImages(image("ex_ref.png"), image("ex_p1.png"), opts);
      assert.equal(plain.label, "LPIPS (alex, v0.1)");
      assert.equal(plain.net, "alex");
      const files = [image("ex_p0.png"), image("ex_p1.png")];
      const ranked = await rankImages(m, image("ex_ref.png"), files);
      const named = await rankImages(image("ex_ref.png"), files, {
        metric: "lpips",
        ...opts,
        lpips: { net: "squeeze" },
      });
      assert.deepEqual(named.ranked, ranked.ranked);
      assert.equal(named.svg(), ranked.svg());
      // Other metrics' options reach them: SSIM in RGB.
      const rgb = await compareImages(image("ex_ref.png"), image("ex_p1.png"), {
        metric: "ssim",
        colorspace: "RGB",
      });
      assert.equal(rgb.label, "SSIM (RGB)");
      assert.equal(
        rgb.score,
        (await registry("ssim", "ex_ref.png", "ex_p1.png", { colorspace: "RGB" })).score,
      );
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  ...needsTestData(
    "compareImages, rankImages: a bad metric is a one-line error naming the valid ones",
  ),
  fn: async () => {
    const [ref, p0] = [image("ex_ref.png"), image("ex_p0.png")];
    const oneLine = (fn: string, what: RegExp) => (e: Error) => {
      assert.ok(!e.message.includes("\n"), e.message);
      assert.match(e.message, new RegExp(`^${fn}: ${what.source}`));
      return true;
    };
    const unknown =
      /unknown metric "vif" \(known: lpips, l2, ssim, psnr, msssim, fsim, fsimc, gmsd, flip, dists;/;
    await assert.rejects(() => compareImages(ref, p0, { metric: "vif" }), RangeError);
    await assert.rejects(
      () => compareImages(ref, p0, { metric: "vif" }),
      oneLine("compareImages", unknown),
    );
    await assert.rejects(
      () => rankImages(ref, [p0], { metric: "vif" }),
      oneLine("rankImages", unknown),
    );
    await assert.rejects(
      () => compareImages(ref, p0, { metric: 42 as never }),
      oneLine(
        "compareImages",
        /a metric is a name \(lpips, l2, .*\) or a MetricInfo of the registry, got 42/,
      ),
    );
    await assert.rejects(
      () => rankImages(ref, [p0], { metric: { name: "x" } as never }),
      oneLine("rankImages", /a metric is a name .* got an object/),
    );
    // MS-SSIM's smallest image, and the size check, say which metric.
    await assert.rejects(
      () => compareImages(ref, p0, { metric: "msssim" }),
      oneLine(
        "compareImages",
        /MS-SSIM needs images of at least 176 px a side; ex_ref\.png is 64x64/,
      ),
    );
    await assert.rejects(
      () => rankImages(ref, [p0], { metric: "ms_ssim", referenceName: "R" }),
      oneLine("rankImages", /MS-SSIM needs images of at least 176 px a side; R is 64x64/),
    );
    await assert.rejects(
      () => compareImages(ref, image("tid_I03_ref.png"), { metric: "gmsd" }),
      oneLine(
        "compareImages",
        /ex_ref\.png is 64x64 and tid_I03_ref\.png is 512x384; GMSD compares images of one size/,
      ),
    );
    // With a model, the model is the metric.
    const m = await LPIPS.create({ weightsDir: testData("weights"), quiet: true });
    try {
      await assert.rejects(
        () => compareImages(m, ref, p0, { metric: "gmsd" }),
        oneLine(
          "compareImages",
          /metric apply when no LPIPS model is given; pass the model or the metric options, not both/,
        ),
      );
      await assert.rejects(
        () => rankImages(m, ref, [p0], { weightsDir: "w", lpips: {} }),
        oneLine("rankImages", /weightsDir, lpips apply when no LPIPS model is given/),
      );
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  ...needsTestData("comparisonSet: a similarity metric's maps on 0 to 1; one metric per set"),
  fn: async () => {
    const [ref, p0, p1] = ["ex_ref.png", "ex_p0.png", "ex_p1.png"].map(image);
    const g0 = await compareImages(ref, p0, { metric: "gmsd" });
    const g1 = await compareImages(ref, p1, { metric: "gmsd" });
    const set = comparisonSet([g0, g1]);
    assert.equal(set.scale, 1);
    const svg = set.svg();
    assert.ok(says(svg, "GMSD: 2 comparisons on one colour scale"));
    assert.ok(says(svg, `ex_ref.png vs ex_p1.png: ${g1.score.toFixed(6)}`));
    assert.ok(says(svg, `min ${formatScale(g1.mapMin)}`));
    const s0 = await compareImages(ref, p0, { metric: "psnr" });
    const s1 = await compareImages(ref, p1, { metric: "psnr" });
    const noMaps = comparisonSet([s0, s1]);
    assert.equal(noMaps.scale, 0);
    assert.ok(says(noMaps.svg(), "PSNR: 2 comparisons"));
    assert.equal(
      Deno.inspect(noMaps),
      `ComparisonSet { ex_ref.png vs ex_p0.png: ${s0.score.toFixed(2)} dB; ` +
        `ex_ref.png vs ex_p1.png: ${s1.score.toFixed(2)} dB }`,
    );
    assert.throws(
      () => comparisonSet([g0, s1]),
      /^RangeError: comparisonSet: the comparisons are by gmsd, psnr; one picture shares one colour scale, so pass comparisons of one metric$/,
    );
  },
});
