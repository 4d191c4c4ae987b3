import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { readImage, type RGBImage } from "./image.ts";
import { readNpy } from "./npy.ts";
import {
  resizeBicubic,
  resizeBicubicPlanes,
  resizeBilinear,
  resizedSize,
  resizeShorterSide,
} from "./resize.ts";

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function nearestUpsample(img: RGBImage, f: number): RGBImage {
  const w = img.width * f, h = img.height * f;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = ((Math.floor(y / f) * img.width) + Math.floor(x / f)) * 3;
      data.set(img.data.subarray(s, s + 3), (y * w + x) * 3);
    }
  }
  return { width: w, height: h, data };
}

interface ResizeCase {
  id: string;
  type: string;
  inputs: { image: { file: string; size_wh: [number, number] } };
  expected: { npy: string; shape_hwc: [number, number, number]; sha256_raw_bytes: string };
}

Deno.test({
  ...needsTestData("Resize(64) matches Pillow byte for byte on every resize vector of cases.json"),
  fn: async () => {
    const cases = (JSON.parse(await Deno.readTextFile(testData("reference", "cases.json"))) as {
      cases: ResizeCase[];
    }).cases.filter((c) => c.type === "resize");
    assert.equal(cases.length, 6);
    for (const c of cases) {
      const img = await readImage(testData(c.inputs.image.file));
      assert.deepEqual([img.width, img.height], c.inputs.image.size_wh, c.id);
      const out = resizeShorterSide(img, 64);
      const [h, w] = c.expected.shape_hwc;
      assert.deepEqual([out.height, out.width], [h, w], c.id);
      const want = await readNpy(testData(c.expected.npy));
      assert.equal(want.dtype, "uint8");
      assert.deepEqual(want.shape, c.expected.shape_hwc);
      assert.equal(sha256(want.data as Uint8Array), c.expected.sha256_raw_bytes, c.id);
      let diffs = 0;
      for (let i = 0; i < out.data.length; i++) if (out.data[i] !== want.data[i]) diffs++;
      assert.equal(diffs, 0, `${c.id}: ${diffs} bytes differ`);
      assert.equal(sha256(out.data), c.expected.sha256_raw_bytes, c.id);
    }
  },
});

Deno.test({
  ...needsTestData(
    "docs/algorithm.md §3: the example images nearest-upsampled x4 then Resize(64) hash as stated",
  ),
  fn: async () => {
    const want: Record<string, string> = {
      ex_ref: "49374cce4651cf8c4afe272d7a801e85d6d22a661f2e2f812540304a265a5813",
      ex_p0: "847b89dd439c2f908d6d49ed58703ae6a7d9c767dfa19ab6bc20a0bb2d1fbef4",
      ex_p1: "6d1083c988373bf3bdf47f4af750d236d699bb2e36cb9eb0b1f63ab903e6c4aa",
    };
    const changed: Record<string, [number, number]> = {
      ex_ref: [8778, 42],
      ex_p0: [1854, 4],
      ex_p1: [10916, 39],
    };
    for (const [name, hash] of Object.entries(want)) {
      const orig = await readImage(testData("images", `${name}.png`));
      const big = nearestUpsample(orig, 4);
      assert.equal(big.width, 256);
      const out = resizeShorterSide(big, 64);
      assert.equal(sha256(out.data), hash, name);
      let n = 0, max = 0;
      for (let i = 0; i < out.data.length; i++) {
        const d = Math.abs(out.data[i] - orig.data[i]);
        if (d) n++;
        max = Math.max(max, d);
      }
      assert.deepEqual([n, max], changed[name], name);
      if (name === "ex_p1") {
        const red = (im: RGBImage) => Array.from({ length: 8 }, (_, x) => im.data[x * 3]);
        assert.deepEqual(red(orig), [246, 238, 222, 116, 213, 249, 250, 239]);
        assert.deepEqual(red(out), [245, 237, 210, 138, 205, 244, 248, 241]);
      }
    }
  },
});

Deno.test("a 4x nearest-upsampled image gives the [1/8, 3/4, 1/8] closed form of docs/algorithm.md §3", () => {
  // One axis at a time: a 1-pixel-high 16-wide image from 4 source values.
  const src = [10, 200, 30, 255];
  const row = new Uint8Array(16 * 3);
  for (let x = 0; x < 16; x++) row.fill(src[x >> 2], x * 3, x * 3 + 3);
  const out = resizeBilinear({ width: 16, height: 1, data: row }, 4, 1);
  const r = [0, 1, 2, 3].map((x) => out.data[x * 3]);
  const closed = (l: number, c: number, rr: number) => Math.floor((l + 6 * c + rr) / 8 + 0.5);
  assert.deepEqual(r, [
    Math.floor((6 * 10 + 200) / 7 + 0.5),
    closed(10, 200, 30),
    closed(200, 30, 255),
    Math.floor((30 + 6 * 255) / 7 + 0.5),
  ]);
});

Deno.test("Resize(n) size rule, identity and upscaling", () => {
  assert.deepEqual(resizedSize(256, 256, 64), [64, 64]);
  assert.deepEqual(resizedSize(252, 256, 64), [64, 65]);
  assert.deepEqual(resizedSize(256, 252, 64), [65, 64]);
  assert.deepEqual(resizedSize(100, 30, 64), [213, 64]);
  const img = { width: 64, height: 80, data: new Uint8Array(64 * 80 * 3).fill(9) };
  assert.equal(resizeShorterSide(img, 64), img); // shorter side already 64: unchanged
  // Upscaling a constant image keeps it constant; a 2-pixel ramp interpolates inside.
  const up = resizeShorterSide({ width: 2, height: 2, data: new Uint8Array(12).fill(77) }, 5);
  assert.deepEqual([up.width, up.height], [5, 5]);
  assert.ok(up.data.every((v) => v === 77));
  const ramp = resizeBilinear(
    { width: 2, height: 1, data: new Uint8Array([0, 0, 0, 255, 255, 255]) },
    4,
    1,
  );
  assert.deepEqual([0, 1, 2, 3].map((x) => ramp.data[3 * x]), [0, 64, 191, 255]);
  assert.throws(() => resizeBilinear(img, 0, 3), RangeError);
  assert.throws(() => resizeBilinear({ width: 2, height: 2, data: new Uint8Array(5) }, 1, 1));
});

Deno.test("repeated rows take the shortcut and give the plain sums (checked through a transpose)", () => {
  // Each pass skips or merges work on equal consecutive rows, never on columns. Resizing along
  // one axis of an image and along the other axis of its transpose runs the same 1-D filter, so
  // the transpose (whose repeated rows became columns) gives the plain, unshortened result.
  const transpose = (im: RGBImage): RGBImage => {
    const data = new Uint8Array(im.data.length);
    for (let y = 0; y < im.height; y++) {
      for (let x = 0; x < im.width; x++) {
        for (let c = 0; c < 3; c++) {
          data[(x * im.height + y) * 3 + c] = im.data[(y * im.width + x) * 3 + c];
        }
      }
    }
    return { width: im.height, height: im.width, data };
  };
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) / (1 << 24);
  // 256 wide: rows compared four bytes at a time; 37 wide: byte by byte.
  for (const [w, h, outW, outH] of [[256, 256, 64, 64], [37, 53, 16, 21], [64, 252, 64, 65]]) {
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      const row = data.subarray(y * w * 3, (y + 1) * w * 3);
      if (y > 0 && rand() < 0.6) row.set(data.subarray((y - 1) * w * 3, y * w * 3));
      else for (let i = 0; i < row.length; i++) row[i] = Math.floor(rand() * 256);
    }
    const img = { width: w, height: h, data };
    const t = transpose(img);
    if (outH !== h) {
      const merged = resizeBilinear(img, w, outH);
      assert.deepEqual(merged.data, transpose(resizeBilinear(t, outH, w)).data, `${w}x${h} v`);
    }
    if (outW !== w) {
      const skipped = resizeBilinear(img, outW, h);
      assert.deepEqual(skipped.data, transpose(resizeBilinear(t, h, outW)).data, `${w}x${h} h`);
    }
  }
});

/** Pillow's BICUBIC outputs, made by `_bicubic_golden.py` (its docstring has the command). */
interface BicubicCase {
  from_wh: [number, number];
  to_wh: [number, number];
  rgb8: number[];
  float_planes?: number[];
}

/** The pattern of `_bicubic_golden.py`, as RGB8 and as float planes. */
function goldenPattern(w: number, h: number): RGBImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        data[(y * w + x) * 3 + c] = (x * 37 + y * 91 + c * 53 + x * y * 7 + ((x * x) % 29)) % 256;
      }
    }
  }
  return { width: w, height: h, data };
}

function goldenPlanes(w: number, h: number) {
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // numpy: sin in float64, cast to float32, then a float32 product with float32(0.95).
        const f = Math.fround;
        data[(c * h + y) * w + x] = f(f(Math.sin(x * 0.9 + y * 1.7 + c)) * f(0.95));
      }
    }
  }
  return { data, shape: [1, 3, h, w] as [number, number, number, number] };
}

Deno.test("resizeBicubic and resizeBicubicPlanes match Pillow's BICUBIC (RGB8 and F mode)", async () => {
  const golden = JSON.parse(
    await Deno.readTextFile(new URL("./_bicubic_golden.json", import.meta.url)),
  ) as { cases: BicubicCase[] };
  assert.equal(golden.cases.length, 4);
  let floatCases = 0;
  for (const c of golden.cases) {
    const [w, h] = c.from_wh, [ow, oh] = c.to_wh;
    const out = resizeBicubic(goldenPattern(w, h), ow, oh);
    assert.deepEqual([out.width, out.height], [ow, oh]);
    assert.deepEqual(Array.from(out.data), c.rgb8, `${w}x${h} -> ${ow}x${oh}`);
    if (!c.float_planes) continue;
    floatCases++;
    const f = resizeBicubicPlanes(goldenPlanes(w, h), oh, ow);
    assert.deepEqual(f.shape, [1, 3, oh, ow]);
    // Pillow sums in float64 in the same order and stores float32: equal to the last bit.
    assert.deepEqual(Array.from(f.data), c.float_planes, `F ${w}x${h} -> ${ow}x${oh}`);
  }
  assert.equal(floatCases, 3);
  // The bilinear path is untouched: its own taps, not the bicubic ones, for the same sizes.
  const p = goldenPattern(9, 7);
  assert.notDeepEqual(resizeBilinear(p, 20, 13).data, resizeBicubic(p, 20, 13).data);
  assert.throws(() => resizeBicubic(p, 0, 3), /resizeBicubic: bad width 0/);
  assert.throws(() => resizeBicubicPlanes(goldenPlanes(9, 7), 3, 2.5), /bad width 2.5/);
});
