/**
 * The inputs people pass to `distance` and `features`: files (paths, `file:` URLs), a batch of 1
 * against a batch of N, masks, pairs of different sizes (`resize: "reference"`) and greyscale
 * batches, on both engines, and the errors for each.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { encode } from "fast-png";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { lpipsCases } from "./conformance.ts";
import { LPIPS } from "./lpips.ts";
import { InputError } from "./validate.ts";
import {
  im2tensor,
  ImageDecodeError,
  type ImageTensor,
  loadImage,
  readImage,
  type RGBImage,
  stack,
} from "../bappsloader/image.ts";
import { resizeBicubic, resizeBicubicPlanes } from "../bappsloader/resize.ts";

const weightsDir = () => testData("weights");
const file = (name: string) => testData("images", `${name}.png`);
const ENGINES = ["onnx", "tfjs"] as const;

async function golden(id: string) {
  const c = (await lpipsCases()).find((c) => c.id === id);
  if (!c) throw new Error(`no case ${id}`);
  return c.expected;
}

/** An InputError whose message matches `re`. */
const inputError = (re: RegExp) => (e: Error) => {
  assert.ok(e instanceof InputError, `${e.name}: ${e.message}`);
  assert.match(e.message, re);
  assert.equal(e.message.split("\n").length, 1);
  return true;
};

for (const engine of ENGINES) {
  Deno.test({
    ...needsTestData(`${engine}: paths and file: URLs give the distance of the loaded tensors`),
    fn: async () => {
      using m = await LPIPS.create({ engine, weightsDir: weightsDir(), quiet: true });
      const [ref, p0] = await Promise.all([loadImage(file("ex_ref")), loadImage(file("ex_p0"))]);
      const want = await m.distance(ref, p0);
      const url = pathToFileURL(file("ex_p0"));
      assert.deepEqual(await m.distance(file("ex_ref"), file("ex_p0")), want);
      assert.deepEqual(await m.distance(ref, url), want);
      assert.deepEqual(await m.distance(url, file("ex_ref")), await m.distance(p0, ref));
      const g = (await golden("lpips.ex_p0.alex.v0.1.lin.scalar")).distance![0];
      assert.ok(Math.abs(want[0] - g) <= 1e-5, `${want[0]} vs golden ${g}`);
      // features() takes files too, and normalize reads them as [0, 1].
      using f0 = await m.features(file("ex_ref"));
      using f1 = await m.features(url);
      assert.deepEqual(await m.compare(f0, f1), want);
      const n = await m.distance(file("ex_ref"), file("ex_p0"), { normalize: true });
      assert.ok(Math.abs(n.distance[0] - want[0]) <= 1e-5);
      // Missing files and other URLs are the loader's one-line errors, naming the file.
      await assert.rejects(m.distance(file("ex_ref"), "no/such.png"), (e: Error) => {
        assert.ok(e instanceof ImageDecodeError);
        assert.equal(e.message, "no/such.png: cannot read (no such file)");
        return true;
      });
      await assert.rejects(
        m.distance(new URL("https://example.com/a.png"), ref),
        /https:\/\/example.com\/a.png: cannot read \(only file: URLs are read; download the image first\)/,
      );
    },
  });

  Deno.test({
    ...needsTestData(
      `${engine}: a batch of 1 against a batch of N (either side) gives N distances`,
    ),
    fn: async () => {
      using m = await LPIPS.create({ engine, weightsDir: weightsDir(), quiet: true });
      const [ref, p0, p1] = await Promise.all(
        ["ex_ref", "ex_p0", "ex_p1"].map(file).map(loadImage),
      );
      const others = stack([p0, p1, ref]);
      const pairs = await m.distance(stack([ref, ref, ref]), others, {
        spatial: true,
        perLayer: true,
      });
      const one = await Promise.all([p0, p1, ref].map((x) => m.distance(ref, x)));
      for (const [a, b] of [[ref, others], [others, ref]]) {
        const d = await m.distance(a, b);
        assert.equal(d.length, 3);
        d.forEach((v, i) => assert.ok(Math.abs(v - one[i][0]) <= 1e-6, `${v} vs ${one[i][0]}`));
        const r = await m.distance(a, b, { spatial: true, perLayer: true });
        assert.deepEqual(r.map!.shape, [3, 1, 64, 64]);
        assert.deepEqual(r.map!.data, pairs.map!.data);
        assert.deepEqual(r.layers, pairs.layers);
        assert.deepEqual(r.layerMaps!.map((l) => l.data), pairs.layerMaps!.map((l) => l.data));
      }
      assert.equal(one[2][0], 0);
      // A TF.js tensor of 1 broadcasts too; batches of 2 and 3 do not pair up.
      const t = tf.tensor4d(ref.data, [1, 3, 64, 64]);
      try {
        assert.deepEqual(await m.distance(t, others), await m.distance(ref, others));
      } finally {
        t.dispose();
      }
      await assert.rejects(
        m.distance(stack([ref, p0]), others),
        inputError(/^inputs differ in batch size: 2 vs 3 \(a batch of 1 is compared/),
      );
    },
  });

  Deno.test({
    ...needsTestData(`${engine}: a mask weighs the distance map; all ones = the map's mean`),
    fn: async () => {
      using m = await LPIPS.create({ engine, weightsDir: weightsDir(), quiet: true });
      const [ref, p0, p1] = await Promise.all(
        ["ex_ref", "ex_p0", "ex_p1"].map(file).map(loadImage),
      );
      const plane = 64 * 64;
      const ones = { data: new Float32Array(plane).fill(1), shape: [1, 1, 64, 64] as const };
      const s = await m.distance(ref, p0, { spatial: true, perLayer: true });
      const all = await m.distance(ref, p0, { mask: { ...ones, shape: [1, 1, 64, 64] } });
      assert.equal(all.distance[0], s.distance[0]); // the map's mean, to the last bit
      assert.equal(all.map, undefined); // the map is returned only with spatial
      // The map's mean is the reference's test_network number, not the plain distance: they
      // differ by the upsampling's edge effects.
      const g = await golden("lpips.ex_p0.alex.v0.1.lin.spatial");
      assert.ok(Math.abs(all.distance[0] - g.map_mean![0]) <= 1e-5);
      const plain = (await m.distance(ref, p0))[0];
      assert.ok(
        Math.abs(plain - all.distance[0]) > 1e-6 && Math.abs(plain - all.distance[0]) < 1e-4,
      );

      // The top half: the mean of the map's top 32 rows, computed here from the map.
      const top = new Float32Array(plane).fill(1, 0, 32 * 64);
      const half = await m.distance(ref, p0, {
        mask: { data: top, shape: [1, 1, 64, 64] },
        spatial: true,
        perLayer: true,
      });
      let sum = 0;
      for (let i = 0; i < 32 * 64; i++) sum += s.map!.data[i];
      assert.ok(Math.abs(half.distance[0] - sum / (32 * 64)) <= 1e-7 * sum / (32 * 64));
      assert.deepEqual(half.map!.data, s.map!.data); // unmasked
      // Tiled runs weigh their own map the same way.
      const tiled = await m.distance(ref, p0, { spatial: true, tile: 32 });
      const tiledHalf = await m.distance(ref, p0, {
        mask: { data: top, shape: [1, 1, 64, 64] },
        tile: 32,
      });
      let tiledSum = 0;
      for (let i = 0; i < 32 * 64; i++) tiledSum += tiled.map!.data[i];
      assert.equal(tiledHalf.distance[0], Math.fround(tiledSum / (32 * 64)));
      const layerSum = half.layers!.reduce((t, l) => t + l[0], 0);
      assert.ok(Math.abs(layerSum - half.distance[0]) <= 1e-6);
      // Weights scale out; one mask of shape [1, ...] applies to every pair; per-image masks.
      const twice = await m.distance(ref, p0, {
        mask: { data: top.map((v) => 2 * v), shape: [1, 1, 64, 64] },
      });
      assert.ok(Math.abs(twice.distance[0] - half.distance[0]) <= 1e-7);
      const batch = stack([p0, p1]);
      const shared = await m.distance(ref, batch, { mask: { data: top, shape: [1, 1, 64, 64] } });
      assert.equal(shared.distance[0], half.distance[0]);
      const own = new Float32Array(2 * plane);
      own.set(top);
      own.fill(1, plane);
      const each = await m.distance(ref, batch, { mask: { data: own, shape: [2, 1, 64, 64] } });
      assert.equal(each.distance[0], half.distance[0]);
      assert.equal(each.distance[1], (await m.distance(ref, p1, { spatial: true })).distance[0]);

      const bad: [unknown, RegExp][] = [
        [
          { data: new Float32Array(32 * 32), shape: [1, 1, 32, 32] },
          /^mask has shape \[1,1,32,32\]; expected \[2 or 1, 1, 64, 64\], the inputs' size$/,
        ],
        [
          { data: new Float32Array(3 * plane), shape: [1, 3, 64, 64] },
          /^mask has shape \[1,3,64,64\]/,
        ],
        [
          { data: new Float32Array(3 * plane), shape: [3, 1, 64, 64] },
          /^mask has shape \[3,1,64,64\]/,
        ],
        [
          { data: new Float32Array(5).fill(1), shape: [1, 1, 64, 64] },
          /^mask: shape \[1,1,64,64\] needs 4096 values but has 5 values$/,
        ],
        [
          { data: ones.data.map((v, i) => (i === 7 ? -0.5 : v)), shape: [1, 1, 64, 64] },
          /^mask has -0.5 at index 7; weights must be finite and >= 0$/,
        ],
        [
          { data: ones.data.map((v, i) => (i === 9 ? NaN : v)), shape: [1, 1, 64, 64] },
          /^mask has NaN at index 9; weights must be finite/,
        ],
        [
          { data: ones.data.map((v, i) => (i === 9 ? Infinity : v)), shape: [1, 1, 64, 64] },
          /^mask has Infinity at index 9/,
        ],
        [
          { data: new Float32Array(plane), shape: [1, 1, 64, 64] },
          /^mask is all zero: no pixel to average over$/,
        ],
        [
          { data: own.map((v, i) => (i >= plane ? 0 : v)), shape: [2, 1, 64, 64] },
          /^mask of image 1 is all zero: no pixel to average over$/,
        ],
        [
          { data: [1, 2, 3], shape: [1, 1, 64, 64] },
          /^mask must be \{ data: Float32Array, shape: \[2 or 1, 1, 64, 64\] \}$/,
        ],
        [null, /^mask must be \{ data: Float32Array/],
      ];
      for (const [mask, re] of bad) {
        await assert.rejects(
          m.distance(ref, batch, { mask: mask as never }),
          inputError(re),
          String(re),
        );
      }
    },
  });

  Deno.test({
    ...needsTestData(`${engine}: grey [N, 1, H, W] batches are compared as their channel repeated`),
    fn: async () => {
      using m = await LPIPS.create({ engine, weightsDir: weightsDir(), quiet: true });
      const [p0, p1] = await Promise.all(["ex_p0", "ex_p1"].map(file).map(loadImage));
      const plane = 64 * 64;
      // Channel 1 (green) of each image, alone and repeated.
      const grey = (t: ImageTensor): ImageTensor => ({
        data: t.data.slice(plane, 2 * plane),
        shape: [1, 1, 64, 64],
      });
      const rgb = (t: ImageTensor): ImageTensor => {
        const g = grey(t).data;
        const data = new Float32Array(3 * plane);
        for (let c = 0; c < 3; c++) data.set(g, c * plane);
        return { data, shape: [1, 3, 64, 64] };
      };
      const want = await m.distance(rgb(p0), rgb(p1), { spatial: true });
      const got = await m.distance(grey(p0), grey(p1), { spatial: true });
      assert.deepEqual(got, want);
      assert.ok(want.distance[0] > 0.01);
      assert.deepEqual(await m.distance(grey(p0), rgb(p1)), await m.distance(rgb(p0), rgb(p1)));
      const t = tf.tensor4d(grey(p0).data, [1, 1, 64, 64]);
      try {
        assert.deepEqual(await m.distance(t, rgb(p1)), await m.distance(rgb(p0), rgb(p1)));
      } finally {
        t.dispose();
      }
      for (const c of [2, 4]) {
        const x = {
          data: new Float32Array(c * plane),
          shape: [1, c, 64, 64] as ImageTensor["shape"],
        };
        await assert.rejects(
          m.distance(p0, x),
          inputError(
            new RegExp(
              `^input 1 has ${c} channels; expected 3 \\(RGB, NCHW layout\\) or 1 \\(grey\\)`,
            ),
          ),
        );
      }
    },
  });
}

/** Writes an 8-bit RGB image as a PNG file. */
async function writePng(path: string, img: RGBImage): Promise<void> {
  await Deno.writeFile(
    path,
    encode({ width: img.width, height: img.height, data: img.data, channels: 3, depth: 8 }),
  );
}

Deno.test({
  ...needsTestData('pairs of different sizes: resized only with resize: "reference"'),
  fn: async () => {
    using m = await LPIPS.create({ engine: "onnx", weightsDir: weightsDir(), quiet: true });
    const dir = await Deno.makeTempDir();
    try {
      const ref = await readImage(file("ex_ref"));
      const big = resizeBicubic(await readImage(file("ex_p0")), 80, 48);
      const bigPath = join(dir, "p0_80x48.png");
      await writePng(bigPath, big);
      await assert.rejects(
        m.distance(file("ex_ref"), bigPath),
        inputError(
          /^inputs differ in size: input 0 is 64x64 and input 1 is 80x48 \(WxH\); pass resize: "reference" to resize input 1 to 64x64 \(Pillow's bicubic\)$/,
        ),
      );
      // A file is resized as 8-bit RGB (Pillow's Image.resize(size, BICUBIC)), then converted.
      const r = await m.distance(file("ex_ref"), bigPath, { resize: "reference" });
      assert.deepEqual(r.resized, { from: [48, 80], to: [64, 64] });
      const want = await m.distance(im2tensor(ref), im2tensor(resizeBicubic(big, 64, 64)));
      assert.deepEqual(r.distance, want);
      // A float tensor: the float bicubic, clamped to [-1, 1] (blocks of -1 and 1 overshoot).
      const t = {
        data: new Float32Array(3 * 40 * 50).map((_, i) => ((i % 50) >> 3) % 2 ? 1 : -1),
        shape: [1, 3, 40, 50] as ImageTensor["shape"],
      };
      const rt = await m.distance(im2tensor(ref), t, { resize: "reference", spatial: true });
      assert.deepEqual(rt.resized, { from: [40, 50], to: [64, 64] });
      const planes = resizeBicubicPlanes(t, 64, 64);
      const clamped = planes.data.map((v) => Math.min(1, Math.max(-1, v)));
      assert.ok(planes.data.some((v) => v > 1.01), "the fixture overshoots: clamping is tested");
      const explicit = { data: clamped, shape: planes.shape };
      assert.deepEqual(
        rt.distance,
        (await m.distance(im2tensor(ref), explicit, { spatial: true })).distance,
      );
      assert.deepEqual(rt.map!.shape, [1, 1, 64, 64]);
      // Same sizes: nothing resized, nothing said.
      const same = await m.distance(file("ex_ref"), file("ex_p0"), { resize: "reference" });
      assert.equal(same.resized, undefined);
      assert.deepEqual(same.distance, await m.distance(file("ex_ref"), file("ex_p0")));
      await assert.rejects(
        m.distance(file("ex_ref"), bigPath, { resize: "first" as never }),
        inputError(
          /^resize must be "reference" \(resize the second input to the first one's size\), got "first"$/,
        ),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...needsTestData("malformed inputs name what was passed: null, empty batches, NaN sizes"),
  fn: async () => {
    using m = await LPIPS.create({ engine: "onnx", weightsDir: weightsDir(), quiet: true });
    const ok = await loadImage(file("ex_ref"));
    const cases: [unknown, string][] = [
      [
        null,
        "input 0 is null; expected an image path or file: URL, { data: Float32Array, shape: [N, 3, H, W] }, a TF.js Tensor4D or an RGB image",
      ],
      [
        undefined,
        "input 0 is undefined; expected an image path or file: URL, { data: Float32Array, shape: [N, 3, H, W] }, a TF.js Tensor4D or an RGB image",
      ],
      [
        42,
        "input 0 is a number (42); expected an image path or file: URL, { data: Float32Array, shape: [N, 3, H, W] }, a TF.js Tensor4D or an RGB image",
      ],
      [
        { data: new Float32Array(0), shape: [0, 3, 64, 64] },
        "input 0 is an empty batch (shape [0,3,64,64]): nothing to compare",
      ],
      [
        { data: new Float32Array(3), shape: [1, 3, NaN, 64] },
        "input 0 has shape [1,3,NaN,64]: its sizes must be whole numbers >= 0, axis 2 is NaN",
      ],
      [
        { data: [1, 2], shape: [1, 3, 1, 1] },
        "input 0 is not { data: Float32Array, shape }, a tensor, an image or a file (got an object)",
      ],
      [
        new Float32Array(3),
        "input 0 is not { data: Float32Array, shape }, a tensor, an image or a file (got a Float32Array)",
      ],
    ];
    cases.push(
      [
        { width: 2, height: 2, data: new Uint8Array(5) },
        "input 0: a 2x2 RGB image needs 12 bytes, has 5",
      ],
      [
        { width: 0, height: 2, data: new Uint8Array(0) },
        "input 0 is an RGB image of 0x2 px; sides must be whole numbers >= 1",
      ],
    );
    for (const [bad, message] of cases) {
      await assert.rejects(m.distance(bad as never, ok), (e: Error) => {
        assert.ok(e instanceof InputError, `${e.name}: ${e.message}`);
        assert.equal(e.message, message);
        return true;
      });
    }
    const empty = tf.zeros([0, 3, 64, 64]) as tf.Tensor4D;
    try {
      await assert.rejects(
        m.distance(ok, empty),
        inputError(/^input 1 is an empty batch \(shape \[0,3,64,64\]\)/),
      );
      await assert.rejects(m.features(empty), inputError(/^input 0 is an empty batch/));
    } finally {
      empty.dispose();
    }
  },
});
