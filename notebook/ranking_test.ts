import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { decode } from "fast-png";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { loadImage, stack } from "../bappsloader/image.ts";
import { LPIPS } from "../lpips/lpips.ts";
import { JUPYTER_DISPLAY } from "./display.ts";
import { type RankedImage, rankImages, Ranking } from "./ranking.ts";
import { formatScale } from "../lpips/figure.ts";
import { viridis } from "../lpips/heatmap.ts";

const image = (name: string) => testData("images", name);
const model = (opts: Parameters<typeof LPIPS.create>[0] = {}) =>
  LPIPS.create({ weightsDir: testData("weights"), quiet: true, ...opts });

Deno.test({
  ...needsTestData("rankImages: closest first, by the distances LPIPS.distance gives"),
  fn: async () => {
    const m = await model();
    try {
      const names = ["ex_p0.png", "ex_p1.png", "ex_ref.png"];
      const r = await rankImages(m, image("ex_ref.png"), names.map(image));
      const ref = await loadImage(image("ex_ref.png"));
      const want = await Promise.all(
        names.map(async (n) => ({ n, d: (await m.distance(ref, await loadImage(image(n))))[0] })),
      );
      want.sort((a, b) => a.d - b.d);
      assert.deepEqual(r.ranked.map((x) => x.name), want.map((w) => w.n));
      assert.deepEqual(r.ranked.map((x) => x.rank), [1, 2, 3]);
      r.ranked.forEach((x, i) => {
        assert.ok(
          Math.abs(x.distance - want[i].d) <= 1e-6,
          `${x.name}: ${x.distance} vs ${want[i].d}`,
        );
      });
      assert.equal(r.ranked[0].distance, 0); // the reference itself
      assert.deepEqual(r.skipped, []);
      assert.equal(r.referenceName, "ex_ref.png");
      // Thumbnails at 128 px (64x64 grown by 2), maps at the same size.
      assert.deepEqual([r.reference.width, r.ranked[1].thumbnail.width], [128, 128]);
      assert.equal(r.ranked[1].mapThumbnail!.length, 128 * 128);
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  ...needsTestData("rankImages: unreadable, non-image and other-size files are listed, not ranked"),
  fn: async () => {
    const m = await model();
    try {
      const r = await rankImages(m, image("ex_ref.png"), [
        image("ex_p1.png"),
        image("missing.png"),
        image("README.md"),
        image("tid_I03_ref.png"),
      ]);
      assert.deepEqual(r.ranked.map((x) => x.name), ["ex_p1.png"]);
      assert.deepEqual(r.skipped.map((s) => s.name), [
        "missing.png",
        "README.md",
        "tid_I03_ref.png",
      ]);
      assert.match(r.skipped[0].reason, /^cannot read/);
      assert.match(r.skipped[1].reason, /not a PNG, JPEG, BMP, TIFF, WebP or GIF file/);
      assert.equal(r.skipped[2].reason, "512x384, the reference is 64x64");
      const text = String(r);
      assert.match(
        text,
        /^LPIPS \(alex, v0\.1\) against ex_ref\.png, closest first \(lower LPIPS = closer\):\n {2}1\. ex_p1\.png {2}0\.\d{6}\n/,
      );
      assert.match(text, /not ranked: tid_I03_ref\.png: 512x384, the reference is 64x64$/);
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  ...needsTestData("Ranking display: one labelled picture, one colour scale; HTML table; text"),
  fn: async () => {
    const m = await model({ engine: "tfjs", backend: "cpu" });
    try {
      const ref = await loadImage(image("ex_ref.png"));
      const p0 = await loadImage(image("ex_p0.png"));
      const before = tf.memory().numTensors;
      const r = await rankImages(m, ref, [{ name: "blurred", image: p0 }, image("ex_p1.png")], {
        names: ["b", "w"],
        referenceName: "R",
        size: 32,
      });
      assert.equal(tf.memory().numTensors, before, "features are freed");
      assert.deepEqual(r.ranked.map((x) => x.name), ["w", "b"]);
      // The scale is the largest value of the full-size maps.
      const maps = await Promise.all(
        [p0, await loadImage(image("ex_p1.png"))].map(async (x) =>
          Math.max(...(await m.distance(ref, x, { spatial: true })).map!.data)
        ),
      );
      assert.deepEqual(r.ranked.map((x) => x.mapMax), [maps[1], maps[0]]);
      assert.equal(r.scale, Math.max(...maps));
      const b = r[JUPYTER_DISPLAY]();
      const png = decode(Uint8Array.fromBase64(b["image/png"] as string));
      const svg = r.svg();
      const [w, h] = [...svg.matchAll(/^<svg [^>]*width="(\d+)" height="(\d+)"/g)][0].slice(1);
      assert.deepEqual([png.width, png.height], [Number(w), Number(h)]);
      for (
        const words of [
          "LPIPS (alex, v0.1): 2 images against R, closest first",
          "reference",
          "R",
          "1. w",
          "2. b",
          `LPIPS = ${r.ranked[0].distance.toFixed(6)}`,
          `LPIPS = ${r.ranked[1].distance.toFixed(6)}`,
          "0",
          formatScale(r.scale),
        ]
      ) {
        assert.ok(svg.includes(`aria-label="${words}"`), words);
      }
      // Reference, two thumbnails, two maps and the colour bar.
      assert.equal(svg.match(/<image /g)?.length, 6);
      // The title line carries ink.
      let ink = 0;
      for (let i = 14 * png.width; i < 30 * png.width; i++) {
        if (png.data[i * png.channels] < 128) ink++;
      }
      assert.ok(ink > 100, `${ink} dark pixels in the title line`);
      const html = b["text/html"] as string;
      assert.equal(html.match(/<tr><td>/g)?.length, 2);
      assert.equal(html.match(/<img /g)?.length, 1);
      assert.ok(html.includes(`data:image/png;base64,${b["image/png"]}`));
      assert.equal(b["text/plain"], String(r));
    } finally {
      m.dispose();
    }
  },
});

/** A ranked 4x4 grey image whose map holds `map`. */
function ranked(rank: number, name: string, map: number[]): RankedImage {
  const distance = map.reduce((s, v) => s + v) / 16;
  return {
    rank,
    name,
    score: distance,
    distance,
    thumbnail: { width: 4, height: 4, data: new Uint8Array(48).fill(128) },
    mapThumbnail: Float32Array.from(map),
    mapMax: Math.max(...map),
  };
}

/** The RGB at map pixel (0, 0) of each map picture of a ranking's figure (row 2 of each block). */
function mapPixels(r: Ranking) {
  const svg = r.svg(), png = decode(r.png());
  const images = [...svg.matchAll(/<image x="(\d+)" y="(\d+)" width="(\d+)"/g)]
    .map((m) => m.slice(1).map(Number));
  // The reference, the thumbnails, the maps, the bar.
  return images.slice(1 + r.ranked.length, 1 + 2 * r.ranked.length).map(([x, y]) => {
    const at = (y * png.width + x) * png.channels;
    return [...png.data.subarray(at, at + 3)];
  });
}

Deno.test("Ranking: one colour scale, so a value has one colour in every map; scale fixes it", () => {
  const data = {
    label: "LPIPS (alex, v0.1)",
    referenceName: "ref",
    reference: { width: 4, height: 4, data: new Uint8Array(48).fill(128) },
    skipped: [{ name: "big.png", reason: "512x384, the reference is 4x4" }],
    alpha: 1,
  };
  const v = 0.25;
  const near = ranked(1, "near", [v, ...new Array(15).fill(0)]);
  const far = ranked(2, "far", [v, 2, ...new Array(14).fill(0.5)]);
  const r = new Ranking({ ...data, ranked: [near, far] });
  assert.equal(r.scale, 2);
  const [a, b] = mapPixels(r);
  assert.deepEqual(a, b);
  assert.deepEqual(a, viridis(v / 2));
  assert.ok(r.svg().includes('aria-label="not ranked: big.png: 512x384, the reference is 4x4"'));
  const fixed = new Ranking({ ...data, ranked: [near, far], scale: 0.5 });
  assert.equal(fixed.scale, 0.5);
  assert.deepEqual(mapPixels(fixed), [viridis(0.5), viridis(0.5)]);
  assert.ok(fixed.svg().includes('aria-label="0.5"'));
  assert.equal(
    Deno.inspect(r),
    "Ranking { LPIPS (alex, v0.1) against ref: near 0.015625, far 0.578125; 1 not ranked; " +
      "scale 0 to 2 }",
  );
  assert.ok(!Deno.inspect({ r }).includes("Uint8Array"));
  assert.throws(
    () => new Ranking({ ...data, ranked: [near], scale: 0 }),
    /Ranking: scale must be a positive number, got 0/,
  );
});

Deno.test("Ranking: more than five images wrap onto further rows of the picture", () => {
  const many = Array.from(
    { length: 7 },
    (_, i) => ranked(i + 1, `img${i + 1}`, new Array(16).fill(i / 10)),
  );
  const r = new Ranking({
    label: "LPIPS (alex, v0.1)",
    referenceName: "ref",
    reference: { width: 4, height: 4, data: new Uint8Array(48).fill(128) },
    ranked: many,
    skipped: [],
  });
  const svg = r.svg();
  const ys = [...svg.matchAll(/<image x="\d+" y="(\d+)"/g)].map((m) => Number(m[1]));
  // Rows: reference + 5 thumbnails, 5 maps, 2 thumbnails, 2 maps; then the bar.
  assert.equal(new Set(ys.slice(0, -1)).size, 4);
  assert.ok(svg.includes('aria-label="7. img7"'));
  assert.ok(Deno.inspect(r).includes("... (7 ranked)"));
});

Deno.test({
  ...needsTestData("rankImages: a bad reference, no candidates or wrong names are errors"),
  fn: async () => {
    const m = await model();
    try {
      const ref = await loadImage(image("ex_ref.png"));
      await assert.rejects(
        () => rankImages(m, image("missing.png"), [ref as never]),
        /missing\.png: cannot read/,
      );
      await assert.rejects(() => rankImages(m, ref, []), /rankImages: no candidates to rank/);
      await assert.rejects(
        () => rankImages(m, ref, [image("ex_p0.png")], { names: ["a", "b"] }),
        /rankImages: names must hold one string per candidate \(1\)/,
      );
      await assert.rejects(
        () => rankImages(m, stack([ref, ref]), [image("ex_p0.png")]),
        /rankImages: reference is a batch of 2/,
      );
      await assert.rejects(
        () => rankImages(m, ref, [{ name: "x", image: stack([ref, ref]) }]),
        /rankImages: x is a batch of 2/,
      );
    } finally {
      m.dispose();
    }
  },
});
