import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { decode } from "fast-png";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { loadImage, stack } from "../bappsloader/image.ts";
import { LPIPS } from "../lpips/lpips.ts";
import { JUPYTER_DISPLAY } from "./display.ts";
import { rankImages } from "./ranking.ts";

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
      assert.equal(r.ranked[1].mapThumbnail.length, 128 * 128);
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
        /^LPIPS \(alex, v0\.1\) against ex_ref\.png, closest first:\n {2}1\. ex_p1\.png {2}0\.\d{6}\n/,
      );
      assert.match(text, /not ranked: tid_I03_ref\.png: 512x384, the reference is 64x64$/);
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  ...needsTestData("Ranking display: the reference, then each image and its map; HTML table"),
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
      const b = r[JUPYTER_DISPLAY]();
      const png = decode(Uint8Array.fromBase64(b["image/png"] as string));
      // Two columns of 32 px, three rows (reference, w, b), 6 px gaps.
      assert.deepEqual([png.width, png.height], [32 + 6 + 32, 3 * 32 + 2 * 6]);
      assert.deepEqual(r.ranked.map((x) => x.name), ["w", "b"]);
      const html = b["text/html"] as string;
      assert.equal(html.match(/<tr><td>/g)?.length, 2);
      assert.equal(html.match(/<img /g)?.length, 1 + 2 * 2);
      assert.match(html, /<b>LPIPS \(alex, v0\.1\)<\/b> against <code>R<\/code>/);
      assert.ok(r.mapMax > 0);
      assert.equal(r.mapMax, Math.max(...r.ranked.map((x) => Math.max(...x.mapThumbnail))));
    } finally {
      m.dispose();
    }
  },
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
