import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { decode } from "fast-png";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { loadImage, stack } from "../bappsloader/image.ts";
import { LPIPS } from "../lpips/lpips.ts";
import { compareImages, Comparison, comparisonSet } from "./comparison.ts";
import { formatScale } from "../lpips/figure.ts";
import { viridis } from "../lpips/heatmap.ts";
import { JUPYTER_DISPLAY } from "./display.ts";

const image = (name: string) => testData("images", `${name}.png`);
const model = (opts: Parameters<typeof LPIPS.create>[0] = {}) =>
  LPIPS.create({ weightsDir: testData("weights"), quiet: true, ...opts });

Deno.test({
  ...needsTestData("compareImages: the distance, layers and map of LPIPS.distance, named by file"),
  fn: async () => {
    const m = await model();
    try {
      const c = await compareImages(m, image("ex_ref"), image("ex_p0"));
      const [ref, p0] = await Promise.all([loadImage(image("ex_ref")), loadImage(image("ex_p0"))]);
      const scalar = await m.distance(ref, p0, { perLayer: true });
      const spatial = await m.distance(ref, p0, { spatial: true });
      assert.deepEqual(c.names, ["ex_ref.png", "ex_p0.png"]);
      assert.equal(c.label, "LPIPS (alex, v0.1)");
      assert.equal(c.distance, (await m.distance(ref, p0))[0]);
      assert.equal(c.distance, scalar.distance[0]);
      assert.deepEqual(c.layers.map((l) => l.value), scalar.layers!.map((l) => l[0]));
      assert.deepEqual(c.layers.map((l) => l.layer), [1, 2, 3, 4, 5]);
      assert.deepEqual(c.layers.map((l) => l.channels), m.arch.channels);
      assert.equal(c.layers[1].module, "features.4 (ReLU)");
      assert.deepEqual(c.map, { ...spatial.map, kind: "distance", label: "LPIPS distance" });
      assert.deepEqual(c.images, [ref, p0]);
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  ...needsTestData("Comparison display: a labelled image/png, HTML with it and the layers, text"),
  fn: async () => {
    const m = await model({ net: "squeeze" });
    try {
      const c = await compareImages(m, image("ex_ref"), image("ex_p1"), {
        names: ["ref", "p1 <warped>"],
        size: 128,
      });
      const b = c[JUPYTER_DISPLAY]();
      const png = decode(Uint8Array.fromBase64(b["image/png"] as string));
      // The PNG is the SVG drawn: its size, then its words (the text is outlines, labelled).
      const svg = c.svg();
      const [w, h] = [...svg.matchAll(/^<svg [^>]*width="(\d+)" height="(\d+)"/g)][0].slice(1);
      assert.deepEqual([png.width, png.height], [Number(w), Number(h)]);
      const d = c.distance.toFixed(6);
      for (
        const words of [
          `LPIPS (squeeze, v0.1) = ${d}`,
          "ref vs p1 &lt;warped&gt;, 64x64 px",
          "ref",
          "p1 &lt;warped&gt;",
          `max ${formatScale(c.mapMax)}`,
          "0",
          formatScale(c.scale),
        ]
      ) {
        assert.ok(svg.includes(`aria-label="${words}"`), words);
      }
      assert.equal(c.scale, c.mapMax);
      assert.equal(c.mapMax, Math.max(...c.map!.data));
      // The first picture is the reference, grown by 2, its pixel (0, 0) at the image's place.
      const [x, y] = [...svg.matchAll(/<image x="(\d+)" y="(\d+)" width="128"/g)][0].slice(1)
        .map(Number);
      const ref = await loadImage(image("ex_ref"));
      const px = [0, 1, 2].map((k) => Math.round((ref.data[k * 64 * 64] + 1) * 127.5));
      const at = (y * png.width + x) * png.channels;
      assert.deepEqual([...png.data.subarray(at, at + 3)], px);
      // The title line carries ink.
      let ink = 0;
      for (let i = 14 * png.width; i < 30 * png.width; i++) {
        if (png.data[i * png.channels] < 128) ink++;
      }
      assert.ok(ink > 100, `${ink} dark pixels in the title line`);
      const text = b["text/plain"] as string;
      assert.equal(text.split("\n")[0], `LPIPS (squeeze, v0.1) ref vs p1 <warped>: ${d}`);
      assert.equal(text.split("\n").length, 1 + 7); // seven SqueezeNet layers
      const html = b["text/html"] as string;
      assert.ok(html.includes(`data:image/png;base64,${b["image/png"]}`));
      assert.ok(html.includes("p1 &lt;warped&gt;") && !html.includes("<warped>"));
      assert.equal(html.match(/<tr><td>/g)?.length, 7);
      assert.equal(String(c), text);
      assert.deepEqual(c.png(), Uint8Array.fromBase64(b["image/png"] as string));
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  ...needsTestData("compareImages: scale fixes the colour bar; console.log prints one line"),
  fn: async () => {
    const m = await model();
    try {
      const c = await compareImages(m, image("ex_ref"), image("ex_p0"), { scale: 0.5 });
      assert.equal(c.scale, 0.5);
      assert.ok(c.mapMax > 1);
      const svg = c.svg();
      for (const words of ["0", "0.2", "0.5", `max ${formatScale(c.mapMax)} (above scale)`]) {
        assert.ok(svg.includes(`aria-label="${words}"`), words);
      }
      const shown = Deno.inspect(c);
      assert.equal(
        shown,
        `Comparison { LPIPS (alex, v0.1) ex_ref.png vs ex_p0.png: ${c.distance.toFixed(6)}, ` +
          `5 layers, map 64x64 (max ${formatScale(c.mapMax)}), scale 0 to 0.5 }`,
      );
      assert.ok(!Deno.inspect({ c }).includes("Float32Array"));
    } finally {
      m.dispose();
    }
  },
});

/** A comparison of two flat grey 4x4 images whose map holds `map` (16 values). */
function synthetic(name: string, map: number[]): Comparison {
  const img = { data: new Float32Array(3 * 16), shape: [1, 3, 4, 4] as [1, 3, 4, 4] };
  return new Comparison({
    names: ["ref", name],
    label: "LPIPS (alex, v0.1)",
    net: "alex",
    version: "0.1",
    lpips: true,
    distance: map.reduce((s, v) => s + v) / 16,
    layers: [{ layer: 1, module: "features.1 (ReLU)", channels: 64, value: 0 }],
    map: { data: Float32Array.from(map), shape: [1, 1, 4, 4] },
    images: [img, img],
  });
}

/** The RGB at (x, y) of each heat map (the third picture of each row) of a figure. */
function heatPixels(svg: string, png: ReturnType<typeof decode>, x: number, y: number) {
  const images = [...svg.matchAll(/<image x="(\d+)" y="(\d+)" width="(\d+)"/g)]
    .map((m) => m.slice(1).map(Number));
  return images.filter((_, i) => i % 3 === 2 && i < images.length - 1).map(([x0, y0, w]) => {
    const k = w / 4; // the 4x4 map grows by a whole factor
    const at = ((y0 + y * k) * png.width + x0 + x * k) * png.channels;
    return [...png.data.subarray(at, at + 3)];
  });
}

Deno.test("comparisonSet: one colour scale for all maps, a value has one colour in every row", () => {
  // Values a float32 holds exactly, so that the colours can be named.
  const v = 0.375;
  const low = synthetic("low", [v, ...new Array(15).fill(0.125)]);
  const high = synthetic("high", [v, 1.5, 0.125, ...new Array(13).fill(0)]);
  const set = comparisonSet([low, high], { alpha: 1, size: 64 });
  assert.equal(set.scale, 1.5);
  const svg = set.svg();
  const png = decode(set.png());
  const [a, b] = heatPixels(svg, png, 0, 0);
  assert.deepEqual(a, b);
  let ink = 0; // dark pixels in the title line
  for (let i = 14 * png.width; i < 30 * png.width; i++) if (png.data[i * png.channels] < 128) ink++;
  assert.ok(ink > 100, `${ink}`);
  assert.deepEqual(a, viridis(v / 1.5));
  // Each row says its distance; the set prints as one line.
  for (const words of ["ref vs low: 0.140625", "ref vs high: 0.125000", "1.5"]) {
    assert.ok(svg.includes(`aria-label="${words}"`), words);
  }
  assert.equal(
    Deno.inspect(set),
    "ComparisonSet { ref vs low: 0.140625; ref vs high: 0.125000; scale 0 to 1.5 }",
  );
  // Alone, each comparison would use its own maximum; a fixed scale overrides both.
  assert.deepEqual([low.scale, high.scale], [0.375, 1.5]);
  const fixed = comparisonSet([low, high], { alpha: 1, size: 64, scale: 0.75 });
  const [c, d] = heatPixels(fixed.svg(), decode(fixed.png()), 0, 0);
  assert.deepEqual(c, viridis(0.5));
  assert.deepEqual(d, viridis(0.5));
  const bundle = set[JUPYTER_DISPLAY]();
  assert.equal((bundle["text/html"] as string).match(/<table>/g)?.length, 2);
  assert.equal(bundle["text/plain"], `${low}\n${high}`);
});

Deno.test("comparisonSet: anything but compareImages results, or a bad scale, is an error", () => {
  assert.throws(() => comparisonSet([]), /comparisonSet: pass an array of one or more/);
  assert.throws(() => comparisonSet([{}] as never), /comparisonSet: pass an array/);
  assert.throws(
    () => comparisonSet([synthetic("x", new Array(16).fill(0))], { scale: -1 }),
    /comparisonSet: scale must be a positive number, got -1/,
  );
});

Deno.test({
  ...needsTestData("compareImages on the tfjs engine frees its tensors"),
  fn: async () => {
    const m = await model({ engine: "tfjs", backend: "cpu" });
    try {
      await compareImages(m, image("ex_ref"), image("ex_p1")); // warm up (kernels, weights)
      const before = tf.memory().numTensors;
      const c = await compareImages(m, image("ex_ref"), image("ex_p1"));
      c[JUPYTER_DISPLAY]();
      assert.equal(tf.memory().numTensors, before);
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  ...needsTestData("compareImages: bad input is a one-line error naming what is wrong"),
  fn: async () => {
    const m = await model();
    try {
      const ref = await loadImage(image("ex_ref"));
      await assert.rejects(
        () => compareImages(m, image("ex_ref"), image("tid_I03_ref")),
        /compareImages: ex_ref\.png is 64x64 and tid_I03_ref\.png is 512x384; LPIPS compares images of one size/,
      );
      await assert.rejects(
        () => compareImages(m, stack([ref, ref]), ref),
        /compareImages: a is a batch of 2; pass one image/,
      );
      await assert.rejects(
        () => compareImages(m, ref, { data: [1, 2] } as never),
        /compareImages: b must be an image path or an ImageTensor/,
      );
      await assert.rejects(
        () => compareImages(m, testData("images", "missing.png"), ref),
        /missing\.png: cannot read/,
      );
      await assert.rejects(
        () => compareImages(m, ref, ref, { names: ["one"] as never }),
        /names must be two strings/,
      );
      await assert.rejects(() => compareImages(m, ref, ref, { size: 1.5 }), /size must be a whole/);
      await assert.rejects(() => compareImages(m, ref, ref, { alpha: 2 }), /alpha must be between/);
      await assert.rejects(
        () => compareImages(m, ref, ref, { scale: 0 }),
        /compareImages: scale must be a positive number, got 0/,
      );
      await assert.rejects(
        () => compareImages(m, ref, ref, { scale: Infinity }),
        /scale must be a positive number, got Infinity/,
      );
    } finally {
      m.dispose();
    }
  },
});

Deno.test("Comparison: a zero distance displays without dividing by zero", () => {
  const img = { data: new Float32Array(3 * 4), shape: [1, 3, 2, 2] as [1, 3, 2, 2] };
  const c = new Comparison({
    names: ["a", "b"],
    label: "LPIPS (alex, v0.1)",
    net: "alex",
    version: "0.1",
    lpips: true,
    distance: 0,
    layers: [{ layer: 1, module: "features.1 (ReLU)", channels: 64, value: 0 }],
    map: { data: new Float32Array(4), shape: [1, 1, 2, 2] },
    images: [img, img],
  });
  const b = c[JUPYTER_DISPLAY]();
  assert.match(
    b["text/plain"] as string,
    /a vs b: 0\.000000\n {2}layer 1 features\.1 \(ReLU\), 64 ch: 0\.000000 \(-\)$/,
  );
  // An all-zero map: the colour bar still reads 0 at the bottom (and nothing is divided by 0).
  assert.equal(c.scale, 0);
  assert.ok(c.svg().includes('aria-label="0"'));
  assert.ok(decode(c.png()).width > 0);
});
