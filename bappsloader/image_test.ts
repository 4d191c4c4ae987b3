import assert from "node:assert/strict";
import { encode } from "fast-png";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { greyPng } from "../_internal/test_png.ts";
import { encodeGif, nativeEncoded, rgbaPattern } from "./_test_images.ts";
import {
  decodeImage,
  im2tensor,
  ImageDecodeError,
  imageDecoder,
  MAX_PIXELS,
  maxImagePixels,
  readImage,
  toTensorNormalize,
} from "./image.ts";
import { readNpy } from "./npy.ts";

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
  const other = nativeEncoded(8, 8);
  const gif = encodeGif({
    screen: [8, 8],
    frame: [0, 0, 8, 8],
    indices: new Uint8Array(64),
    palette: [[0, 0, 0], [9, 9, 9]],
  });
  const cases: [string, Uint8Array, RegExp][] = [
    ["truncated.png", good.slice(0, good.length - 20), /PNG: the file ends too early/],
    ["header-only.png", good.slice(0, 12), /PNG: the file ends too early/],
    ["text.png", new TextEncoder().encode("hello world"), /not a PNG, JPEG, BMP, TIFF, WebP/],
    ["empty.png", new Uint8Array(0), /empty file, not an image/],
    ["truncated.jpg", new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70]), /JPEG: the file/],
    ["truncated.bmp", other.bmp.slice(0, other.bmp.length - 9), /BMP: the file ends too early/],
    ["truncated.tif", other.tiff.slice(0, 30), /TIFF: the file ends too early/],
    ["truncated.webp", other.webp.slice(0, other.webp.length >> 1), /WebP: /],
    ["truncated.gif", gif.slice(0, gif.length - 20), /GIF: the file ends too early/],
  ];
  for (const [name, bytes, why] of cases) {
    assert.throws(() => decodeImage(bytes, name), (e: Error) => {
      assert.ok(e instanceof ImageDecodeError, `${name}: ${e}`);
      assert.ok(e.message.startsWith(`${name}: `), e.message);
      assert.match(e.message, why);
      assert.equal(e.message.split("\n").length, 1, e.message);
      return true;
    });
  }
  await assert.rejects(readImage("/nonexistent/x.png"), /nonexistent\/x\.png: cannot read/);
});

Deno.test("with every permission the native decoder is in use", () => {
  assert.deepEqual(imageDecoder(), { decoder: "native" });
});

Deno.test("BMP, TIFF and lossless WebP give back the RGB of the pixels they were made from", () => {
  const w = 13, h = 7, rgba = rgbaPattern(w, h);
  const rgb = new Uint8Array(w * h * 3).map((_, i) => rgba[4 * Math.floor(i / 3) + (i % 3)]);
  for (const [format, bytes] of Object.entries(nativeEncoded(w, h))) {
    const img = decodeImage(bytes, format);
    assert.deepEqual([img.width, img.height], [w, h], format);
    assert.deepEqual(img.data, rgb, format);
  }
});

/**
 * Largest per-sample difference from Pillow measured for each lossy file of images/formats: the
 * native JPEG decoder (zune-jpeg) rounds its IDCT and chroma upsampling differently from Pillow's
 * libjpeg-turbo; its WebP decoder matches libwebp exactly.
 */
const LOSSY_MAX_DIFF: Record<string, number> = {
  "ex_ref_q75.jpg": 3,
  "ex_ref_q75_444.jpg": 2,
  "ex_ref_q90.webp": 0,
};

function isLossy(bytes: Uint8Array): boolean {
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 64));
  return (bytes[0] === 0xff && bytes[1] === 0xd8) || (head.startsWith("RIFF") && /VP8 /.test(head));
}

Deno.test({
  ...needsTestData(
    "every file of images/formats decodes to Pillow's pixels (lossless exactly; JPEG q75 4:2:0 " +
      "within 3, 4:4:4 within 2, lossy WebP exactly)",
  ),
  fn: async () => {
    const dir = testData("images", "formats");
    const names = [];
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && !e.name.endsWith(".npy") && e.name !== "README.md") names.push(e.name);
    }
    assert.ok(names.length >= 14, `only ${names.length} files in ${dir}`);
    for (const name of names.sort()) {
      const bytes = await Deno.readFile(`${dir}/${name}`);
      const want = await readNpy(`${dir}/${name}.rgb.npy`);
      const img = decodeImage(bytes, name);
      assert.deepEqual([img.height, img.width, 3], want.shape, name);
      let max = 0;
      want.data.forEach((v, i) => max = Math.max(max, Math.abs(Number(v) - img.data[i])));
      const bound = isLossy(bytes) ? LOSSY_MAX_DIFF[name] : 0;
      assert.ok(bound !== undefined, `${name}: lossy, and no measured bound for it here`);
      assert.ok(max <= bound, `${name}: differs from Pillow by up to ${max} (bound ${bound})`);
    }
  },
});

Deno.test("GIF: Pillow's canvas fill, transparent colour, palettes and interlacing", () => {
  const palette: [number, number, number][] = [[10, 20, 30], [200, 0, 0], [0, 200, 0], [1, 2, 3]];
  const w = 5, h = 11;
  // Indices 0..5 on a 4-colour palette: 4 and 5 are past its end (grey in Pillow's default one).
  const indices = new Uint8Array(w * h).map((_, i) => (i * 7) % 6);
  const colour = (i: number) => (i < palette.length ? palette[i] : [i, i, i]);
  for (
    const [label, extra] of [
      ["plain", {}],
      ["transparent", { transparent: 2 }],
      ["local palette", { local: true }],
      ["interlaced", { interlaced: true }],
    ] as const
  ) {
    // The image at (6, 2) on a 9x10 screen reaches past its right and bottom edges.
    const bytes = encodeGif({ screen: [9, 10], frame: [6, 2, w, h], indices, palette, ...extra });
    const img = decodeImage(bytes, label);
    assert.deepEqual([img.width, img.height], [11, 13], `${label}: the canvas grows to the image`);
    const fill = colour("transparent" in extra ? extra.transparent : 0);
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        const inside = x >= 6 && y >= 2;
        const want = inside ? colour(indices[(y - 2) * w + (x - 6)]) : fill;
        const got = [...img.data.subarray(3 * (y * img.width + x), 3 * (y * img.width + x) + 3)];
        assert.deepEqual(got, [...want], `${label}: pixel (${x}, ${y})`);
      }
    }
  }
});

Deno.test("GIF: a bad LZW code and data cut short are errors, an early end code is not", () => {
  const palette: [number, number, number][] = [[1, 1, 1], [2, 2, 2]];
  const spec = { screen: [4, 4], frame: [0, 0, 4, 4], palette } as const;
  const good = encodeGif({ ...spec, indices: new Uint8Array(16).fill(1) });
  // The data starts at byte 13 + 6 (table) + 10 (descriptor) + 1 (code size) + 1 (block size):
  // clear code (256), then 9-bit codes. A first code of 300 after a clear is not in the table.
  const bad = good.slice();
  const at = 13 + 6 + 10 + 2;
  bad[at + 1] = (bad[at + 1] & 0x01) | ((300 & 0x7f) << 1);
  bad[at + 2] = (bad[at + 2] & 0xfc) | (300 >> 7);
  assert.throws(() => decodeImage(bad, "bad.gif"), /bad\.gif: corrupt .*GIF: bad LZW code 300/);
  // An end code (257) right after the clear code: Pillow keeps the canvas fill (index 0).
  const early = good.slice();
  early[at + 1] = (early[at + 1] & 0x01) | ((257 & 0x7f) << 1);
  early[at + 2] = (early[at + 2] & 0xfc) | (257 >> 7);
  assert.deepEqual([...decodeImage(early, "early.gif").data], new Array(48).fill(1));
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

/** `readImage(path)` is refused with `message` in under a second, allocating under 500 MB. */
async function refusedCheaply(path: string, message: string): Promise<void> {
  const rss = Deno.memoryUsage().rss, t0 = performance.now();
  await assert.rejects(readImage(path), { name: "ImageDecodeError", message });
  const ms = performance.now() - t0, grown = Deno.memoryUsage().rss - rss;
  assert.ok(ms < 1000, `${path}: ${ms} ms`);
  assert.ok(grown < 500 * 1024 ** 2, `${path}: resident memory grew by ${grown} bytes`);
}

Deno.test("bounded reads: a 16000x16000 PNG, /dev/zero, a FIFO and 3 GB files, each refused cheaply", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bomb = `${dir}/bomb.png`;
    const png = greyPng(16000, 16000); // a valid 1.6 MB file of 256 M black pixels
    assert.ok(png.length < 2e6);
    await Deno.writeFile(bomb, png);
    await refusedCheaply(
      bomb,
      `${bomb}: image too large (PNG: 16000x16000 is 256000000 pixels, over the limit of ` +
        `${MAX_PIXELS}, Pillow's default; LPIPS_MAX_IMAGE_PIXELS=N changes it)`,
    );
    assert.equal(MAX_PIXELS, 178956970);
    assert.equal(maxImagePixels(), MAX_PIXELS); // LPIPS_MAX_IMAGE_PIXELS is not set here
    await refusedCheaply(
      "/dev/zero",
      "/dev/zero: cannot read (it is a character device, not a regular file)",
    );
    const fifo = `${dir}/a.png`;
    assert.ok((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    await refusedCheaply(
      fifo,
      `${fifo}: cannot read (it is a FIFO (named pipe), not a regular file)`,
    );
    await refusedCheaply(dir, `${dir}: cannot read (it is a folder, not a file)`);
    // 3 GB of zeros named x.png: refused by its first bytes, not read whole.
    const sparse = `${dir}/x.png`;
    await Deno.writeFile(sparse, new Uint8Array(0));
    await Deno.truncate(sparse, 3 * 1024 ** 3);
    await refusedCheaply(sparse, `${sparse}: not a PNG, JPEG, BMP, TIFF, WebP or GIF file`);
    // A small PNG followed by 3 GB: more bytes than any image within the limit needs.
    const padded = `${dir}/padded.png`;
    await Deno.writeFile(padded, greyPng(8, 8));
    await Deno.truncate(padded, 3 * 1024 ** 3);
    await refusedCheaply(
      padded,
      `${padded}: cannot read (it has 3221225472 bytes, over the limit of ` +
        `${MAX_PIXELS * 8 + 2 ** 26} for an image within the pixel limit)`,
    );
    assert.deepEqual(decodeImage(greyPng(300, 200)).data.length, 300 * 200 * 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
