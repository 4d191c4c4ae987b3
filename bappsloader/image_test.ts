import assert from "node:assert/strict";
import { encode } from "fast-png";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { decodeImage, im2tensor, ImageDecodeError, readImage, toTensorNormalize } from "./image.ts";

function channelMeans(data: Uint8Array): number[] {
  const s = [0, 0, 0];
  for (let i = 0; i < data.length; i++) s[i % 3] += data[i];
  return s.map((v) => v / (data.length / 3));
}

Deno.test({
  ...needsTestData("decodes the example PNGs to the per-channel means of docs/algorithm.md §2"),
  fn: async () => {
    const want: Record<string, number[]> = {
      ex_ref: [198.0908, 159.9807, 93.5732],
      ex_p0: [195.7366, 157.4854, 90.7104],
      ex_p1: [198.5203, 165.2615, 103.1096],
    };
    for (const [name, means] of Object.entries(want)) {
      const img = await readImage(testData("images", `${name}.png`));
      assert.equal(img.width, 64);
      assert.equal(img.height, 64);
      channelMeans(img.data).forEach((m, c) => assert.ok(Math.abs(m - means[c]) < 5e-5, name));
    }
  },
});

Deno.test("grey, grey+alpha, RGBA, 16-bit and palette PNGs all become the same RGB8", () => {
  const w = 3, h = 2;
  const grey = [0, 17, 128, 200, 254, 255];
  const expected = new Uint8Array(grey.flatMap((g) => [g, g, g]));
  const variants = {
    grey: { data: grey, channels: 1, depth: 8 },
    greyAlpha: { data: new Uint8Array(grey.flatMap((g) => [g, 7])), channels: 2, depth: 8 },
    rgba: { data: new Uint8Array(grey.flatMap((g) => [g, g, g, 0])), channels: 4, depth: 8 },
    rgb16: {
      data: new Uint16Array(grey.flatMap((g) => [g * 256 + 255, g * 256 + 1, g * 256])),
      channels: 3,
      depth: 16,
    },
  } as const;
  for (const [name, v] of Object.entries(variants)) {
    const bytes = encode({ width: w, height: h, ...v } as Parameters<typeof encode>[0]);
    assert.deepEqual(decodeImage(bytes, name).data, expected, name);
  }
  const palette = encode({
    width: w,
    height: h,
    depth: 8,
    channels: 1,
    data: new Uint8Array([0, 1, 2, 2, 1, 0]),
    palette: [[10, 20, 30], [40, 50, 60], [70, 80, 90]],
  });
  assert.deepEqual(
    [...decodeImage(palette, "palette").data.slice(0, 9)],
    [10, 20, 30, 40, 50, 60, 70, 80, 90],
  );
});

Deno.test("corrupt, truncated and foreign files give an ImageDecodeError naming the file", async () => {
  const good = encode({ width: 8, height: 8, channels: 3, depth: 8, data: new Uint8Array(192) });
  const cases: [string, Uint8Array][] = [
    ["truncated.png", good.slice(0, good.length - 20)],
    ["header-only.png", good.slice(0, 12)],
    ["text.png", new TextEncoder().encode("hello world")],
    ["empty.png", new Uint8Array(0)],
    ["truncated.jpg", new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70])],
  ];
  for (const [name, bytes] of cases) {
    assert.throws(() => decodeImage(bytes, name), (e: Error) => {
      assert.ok(e instanceof ImageDecodeError, `${name}: ${e}`);
      assert.match(e.message, new RegExp(name.replace(".", "\\.")));
      return true;
    });
  }
  await assert.rejects(readImage("/nonexistent/x.png"), /nonexistent\/x\.png: cannot read/);
});

Deno.test("script and dataset conversions round as the reference does", () => {
  const img = { width: 2, height: 1, data: new Uint8Array([0, 64, 255, 1, 128, 200]) };
  const a = im2tensor(img);
  assert.deepEqual(a.shape, [1, 3, 1, 2]);
  assert.equal(a.data[0], -1);
  assert.equal(a.data[1], Math.fround(1 / 127.5 - 1));
  assert.equal(a.data[2], Math.fround(64 / 127.5 - 1));
  const b = toTensorNormalize(img);
  const f = Math.fround;
  assert.equal(b.data[3], f(f(f(128 / 255) - 0.5) / 0.5));
  assert.equal(b.data[4], 1);
});
