import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { decode } from "fast-png";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { loadImage, stack } from "../bappsloader/image.ts";
import { LPIPS } from "../lpips/lpips.ts";
import { compareImages, Comparison } from "./comparison.ts";
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
      assert.deepEqual(c.map, spatial.map);
      assert.deepEqual(c.images, [ref, p0]);
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  ...needsTestData("Comparison display: image/png of the three pictures, HTML with all, text"),
  fn: async () => {
    const m = await model({ net: "squeeze" });
    try {
      const c = await compareImages(m, image("ex_ref"), image("ex_p1"), {
        names: ["ref", "p1 <warped>"],
        size: 128,
      });
      const b = c[JUPYTER_DISPLAY]();
      const png = decode(Uint8Array.fromBase64(b["image/png"] as string));
      // 64x64 grows by 2 to 128; three pictures 6 px apart.
      assert.deepEqual([png.width, png.height, png.channels], [3 * 128 + 2 * 6, 128, 3]);
      // The first picture is the reference, its pixel (0, 0) enlarged.
      const ref = await loadImage(image("ex_ref"));
      const px = [0, 1, 2].map((k) => Math.round((ref.data[k * 64 * 64] + 1) * 127.5));
      assert.deepEqual([...png.data.subarray(0, 3)], px);
      const text = b["text/plain"] as string;
      assert.equal(
        text.split("\n")[0],
        `LPIPS (squeeze, v0.1) ref vs p1 <warped>: ${c.distance.toFixed(6)}`,
      );
      assert.equal(text.split("\n").length, 1 + 7); // seven SqueezeNet layers
      const html = b["text/html"] as string;
      assert.ok(html.includes(`data:image/png;base64,${b["image/png"]}`));
      assert.ok(html.includes("p1 &lt;warped&gt;") && !html.includes("<warped>"));
      assert.equal(html.match(/<tr><td>/g)?.length, 7);
      assert.equal(String(c), text);
    } finally {
      m.dispose();
    }
  },
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
        () => compareImages(m, ref, ref, { mapMax: 0 }),
        /mapMax must be a positive/,
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
  assert.match(b["text/html"] as string, /0 to 0\.00 per pixel/);
});
