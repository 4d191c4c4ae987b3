import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import {
  decodeImage,
  im2tensor,
  type ImageTensor,
  loadImage,
  type RGBImage,
  stack,
  toTensorNormalize,
} from "../bappsloader/image.ts";
import { testData } from "../_internal/test_data.ts";
import { FLIP_CASES, flipSourceImage, flipSourcePng } from "./_test_data.ts";
import {
  flip,
  FLIP_DEFAULT_PPD,
  flipImage,
  flipMap,
  type FlipOptions,
  flipPixelsPerDegree,
} from "./flip.ts";

/** A case of `_testing/metric_goldens/flip.json` (made by `_flip_goldens.ts`). */
interface Golden {
  id: string;
  ppd: number;
  width: number;
  height: number;
  tool_mean: number;
  mean: number;
  map_sum: number;
  map_min: number;
  map_max: number;
  blocks: number[];
  samples: [number, number, number][];
  map?: number[];
}

const goldens: Golden[] = JSON.parse(
  await readFile(new URL("../_testing/metric_goldens/flip.json", import.meta.url), "utf8"),
).cases;

// Tolerances (docs/algorithm.md §11): the mean within 1e-7 of the tool's float32 mean (measured:
// 3e-8) and equal to what it prints; a pixel within 5e-6 (measured: 2.3e-6, where glibc's powf
// and expf round an intermediate the other way than correctly rounded float32).
const MEAN_TOL = 1e-7;
const PIXEL_TOL = 5e-6;

function options(c: { ppd?: string }): FlipOptions {
  return c.ppd === undefined ? {} : { ppd: Number(c.ppd) };
}

Deno.test("flip: the golden cases cover every FLIP_CASES entry", () => {
  assert.deepEqual(goldens.map((g) => g.id), FLIP_CASES.map((c) => c.id));
});

for (const c of FLIP_CASES) {
  Deno.test(`flip: ${c.id} equals NVIDIA's FLIP tool`, async () => {
    const g = goldens.find((x) => x.id === c.id)!;
    const ref = await flipSourceImage(c.ref), test = await flipSourceImage(c.test);
    assert.deepEqual([ref.width, ref.height], [g.width, g.height]);
    const r = flipImage(ref, test, options(c));
    assert.equal(r.mean.toFixed(6), g.tool_mean.toFixed(6), "the mean the tool prints");
    assert.ok(Math.abs(r.mean - g.mean) <= MEAN_TOL, `mean ${r.mean} vs ${g.mean}`);
    let sum = 0, min = Infinity, max = -Infinity;
    for (const v of r.map) {
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    const n = g.width * g.height;
    assert.ok(Math.abs(sum - g.map_sum) <= PIXEL_TOL * n, `map sum ${sum} vs ${g.map_sum}`);
    assert.ok(Math.abs(min - g.map_min) <= PIXEL_TOL, `min ${min} vs ${g.map_min}`);
    assert.ok(Math.abs(max - g.map_max) <= PIXEL_TOL, `max ${max} vs ${g.map_max}`);
    // Block means: a wrong border rule or filter size shows up in some block.
    const bw = Math.ceil(g.width / Math.min(4, g.width));
    const bh = Math.ceil(g.height / Math.min(4, g.height));
    let b = 0;
    for (let y0 = 0; y0 < g.height; y0 += bh) {
      for (let x0 = 0; x0 < g.width; x0 += bw, b++) {
        let s = 0, k = 0;
        for (let y = y0; y < Math.min(g.height, y0 + bh); y++) {
          for (let x = x0; x < Math.min(g.width, x0 + bw); x++, k++) s += r.map[y * g.width + x];
        }
        assert.ok(Math.abs(s / k - g.blocks[b]) <= PIXEL_TOL, `block ${b}: ${s / k}`);
      }
    }
    assert.equal(b, g.blocks.length);
    for (const [x, y, v] of g.samples) {
      const got = r.map[y * g.width + x];
      assert.ok(Math.abs(got - v) <= PIXEL_TOL, `pixel (${x}, ${y}): ${got} vs ${v}`);
    }
    if (g.map) {
      g.map.forEach((v, i) =>
        assert.ok(Math.abs(r.map[i] - v) <= PIXEL_TOL, `pixel ${i}: ${r.map[i]} vs ${v}`)
      );
    }
  });
}

Deno.test("flip: the tool's default viewing conditions, 67.02 pixels per degree", () => {
  assert.equal(FLIP_DEFAULT_PPD, flipPixelsPerDegree(0.7, 0.7, 3840));
  assert.equal(FLIP_DEFAULT_PPD.toFixed(2), "67.02");
  // The float32 value the tool used for the default-ppd goldens (it prints 9 digits of it).
  assert.equal(Math.fround(goldens[0].ppd), FLIP_DEFAULT_PPD);
});

async function shared(name: string): Promise<ImageTensor> {
  return await loadImage(testData("images", name));
}

Deno.test("flip: tensors from 8-bit images give flipImage's numbers, batch by batch", async () => {
  const [ref, p0, p1] = await Promise.all(["ex_ref.png", "ex_p0.png", "ex_p1.png"].map(shared));
  const one = flipImage(
    await flipSourceImage({ file: "ex_ref.png" }),
    await flipSourceImage({ file: "ex_p0.png" }),
  );
  assert.deepEqual(Array.from(flip(ref, p0)), [Math.fround(one.mean)]);
  const batch = flipMap(stack([ref, ref]), stack([p0, p1]));
  assert.deepEqual(batch.map.shape, [2, 1, 64, 64]);
  assert.deepEqual(batch.map.data.subarray(0, 4096), one.map);
  assert.equal(batch.mean[0], flip(ref, p0)[0]);
  assert.equal(batch.mean[1], flip(ref, p1)[0]);
  const g1 = goldens.find((g) => g.id === "ex_p1")!;
  assert.ok(Math.abs(batch.mean[1] - g1.mean) <= MEAN_TOL);
  // The dataset path's tensors stand for the same pixels.
  const [refN, p0N] = await Promise.all(
    ["ex_ref.png", "ex_p0.png"].map(async (f) =>
      toTensorNormalize(await flipSourceImage({ file: f }))
    ),
  );
  assert.deepEqual(flip(refN, p0N), flip(ref, p0));
  const empty: ImageTensor = { data: new Float32Array(0), shape: [0, 3, 64, 64] };
  assert.deepEqual(Array.from(flip(empty, empty)), []);
});

Deno.test("flip: the tool's PNG files, decoded by this package, give the golden values", async () => {
  // Grey sources reach the tool as one-channel PNGs: our decoder must expand them as stb_image.
  for (const id of ["grey", "ex_p1", "crop_7x5"]) {
    const c = FLIP_CASES.find((x) => x.id === id)!, g = goldens.find((x) => x.id === id)!;
    const [ref, test] = await Promise.all(
      [c.ref, c.test].map(async (s) => decodeImage(flipSourcePng(s, await flipSourceImage(s)))),
    );
    assert.ok(Math.abs(flipImage(ref, test).mean - g.mean) <= MEAN_TOL, id);
  }
});

Deno.test("flip: symmetric, 0 for identical images, values in [0, 1]", async () => {
  const a = await flipSourceImage({ file: "ex_ref.png" });
  const b = await flipSourceImage({ file: "ex_p1.png" });
  const ab = flipImage(a, b), ba = flipImage(b, a);
  assert.deepEqual(ab.map, ba.map);
  assert.equal(ab.mean, ba.mean);
  assert.ok(ab.map.every((v) => v >= 0 && v <= 1));
  const same = flipImage(a, { ...a, data: a.data.slice() });
  assert.ok(same.map.every((v) => v === 0));
  assert.equal(same.mean, 0);
});

Deno.test("flip: ppd changes the result; a larger viewing distance hides more", async () => {
  const ref = await shared("ex_ref.png"), p0 = await shared("ex_p0.png");
  const near = flip(ref, p0, { ppd: 10 })[0], far = flip(ref, p0, { ppd: 120 })[0];
  assert.ok(near > flip(ref, p0)[0] && flip(ref, p0)[0] > far, `${near} ${far}`);
  assert.equal(flip(ref, p0, { ppd: FLIP_DEFAULT_PPD })[0], flip(ref, p0)[0]);
  assert.equal(flip(ref, p0, {})[0], flip(ref, p0)[0]);
});

Deno.test("flip: bad input gives one-line errors naming the problem", async () => {
  const a = await flipSourceImage({ file: "ex_ref.png" });
  const small: RGBImage = { width: 2, height: 2, data: new Uint8Array(12) };
  const oneLine = (fn: () => unknown, type: ErrorConstructor, pattern: RegExp) =>
    assert.throws(fn, (e: Error) => {
      assert.ok(e instanceof type, `${e.name}: ${e.message}`);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes("\n"), e.message);
      return true;
    });
  oneLine(
    () => flipImage(a, small),
    RangeError,
    /^flipImage: sizes differ: reference is 64x64, test is 2x2/,
  );
  oneLine(
    () => flipImage(a, { ...a, data: a.data.subarray(1) }),
    RangeError,
    /^flipImage: test has 12287 values but 64x64 RGB needs 12288$/,
  );
  oneLine(
    () => flipImage({ ...a, width: 0 }, a),
    RangeError,
    /^flipImage: reference has width 0, expected a whole number >= 1$/,
  );
  oneLine(
    () => flipImage(a, { ...a, data: Array.from(a.data) as unknown as Uint8Array }),
    TypeError,
    /^flipImage: test.data must be a Uint8Array/,
  );
  oneLine(() => flipImage(null as unknown as RGBImage, a), TypeError, /^flipImage: reference must/);
  for (const ppd of [0, -1, 1e-3, NaN, Infinity, "67" as unknown as number, 10001]) {
    oneLine(() => flipImage(a, a, { ppd }), RangeError, /^flipImage: ppd/);
  }
  oneLine(
    () => flipImage(a, a, null as unknown as FlipOptions),
    TypeError,
    /^flipImage: options must be an object/,
  );
  const t = im2tensor(a);
  const nan = { data: t.data.slice(), shape: t.shape };
  nan.data[5] = NaN;
  oneLine(
    () => flip(t, nan),
    RangeError,
    /^flip: b has NaN at \[0,0,0,5\]; values must be finite$/,
  );
  oneLine(
    () => flipMap(t, im2tensor(small)),
    RangeError,
    /^flipMap: shapes differ: a is \[1,3,64,64\], b is \[1,3,2,2\]$/,
  );
  const bright = { data: t.data.map((v) => (v + 1) * 127.5), shape: t.shape };
  oneLine(() => flip(bright, t), RangeError, /^flip: a has values in .*\[0, 255\]/);
  for (const [what, args] of [["distance", [0, 0.7, 3840]], ["resolutionX", [0.7, 0.7, NaN]]]) {
    oneLine(
      () => flipPixelsPerDegree(...(args as [number, number, number])),
      RangeError,
      new RegExp(`^flipPixelsPerDegree: ${what} must be a finite number > 0`),
    );
  }
});
