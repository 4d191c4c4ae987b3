/**
 * Fuzzing `decodeImage` with fast-check (fixed seeds, a few thousand runs each) on PNG, JPEG,
 * BMP, TIFF, WebP and GIF files: mutated and truncated valid files must decode to a well-formed
 * RGB image or throw an {@link ImageDecodeError} of one line that names the file; never another
 * exception, a hang or an allocation far beyond the file's size. PNG mutations run twice: as they
 * are (mostly caught by the chunk CRCs) and with the CRCs recomputed, so that they reach the
 * decoder and zlib. The BMP, TIFF, WebP and GIF files are over 1 KB, so that the size bound
 * checked below (1032 * 256 pixels a byte) is implied by {@link MAX_PIXELS} for them: a GIF
 * screen or a run-length coded BMP may legitimately be far larger than its data.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { encode } from "fast-png";
import jpeg from "jpeg-js";
import { encodeGif, nativeEncoded } from "./_test_images.ts";
import { decodeImage, ImageDecodeError, MAX_PIXELS } from "./image.ts";

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** Recomputes the CRC of every complete chunk, so that corrupt contents pass the CRC check. */
function fixCrcs(png: Uint8Array): void {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  for (let at = 8; at + 12 <= png.length;) {
    const end = at + 8 + view.getUint32(at);
    if (end + 4 > png.length) return;
    let c = 0xffffffff;
    for (let i = at + 4; i < end; i++) c = CRC_TABLE[(c ^ png[i]) & 0xff] ^ (c >>> 8);
    view.setUint32(end, (c ^ 0xffffffff) >>> 0);
    at = end + 4;
  }
}

const pattern = (n: number, k: number) => new Uint8Array(n).map((_, i) => (i * k + (i >> 5)) % 256);

const PNGS: Record<string, Uint8Array> = {
  rgb8: encode({ width: 16, height: 12, channels: 3, depth: 8, data: pattern(16 * 12 * 3, 7) }),
  greyAlpha8: encode({ width: 9, height: 7, channels: 2, depth: 8, data: pattern(9 * 7 * 2, 5) }),
  rgba16: encode({
    width: 6,
    height: 5,
    channels: 4,
    depth: 16,
    data: new Uint16Array(6 * 5 * 4).map((_, i) => i * 2111),
  }),
  palette: encode({
    width: 10,
    height: 6,
    channels: 1,
    depth: 8,
    data: pattern(60, 3).map((v) => v % 4),
    palette: [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]],
  }),
};

const JPEGS: Record<string, Uint8Array> = {
  rgb: new Uint8Array(
    jpeg.encode({ width: 24, height: 16, data: pattern(24 * 16 * 4, 11) }, 75).data,
  ),
};

const NATIVE = nativeEncoded(24, 16);

const OTHERS: Record<string, Uint8Array> = {
  bmp: NATIVE.bmp,
  tiff: NATIVE.tiff,
  webp: NATIVE.webp,
  gif: encodeGif({
    screen: [40, 30],
    frame: [0, 0, 40, 30],
    indices: pattern(1200, 13).map((v) => v % 64),
    palette: Array.from({ length: 64 }, (_, i) => [4 * i, 255 - 4 * i, (37 * i) % 256] as const),
    transparent: 5,
    interlaced: true,
  }),
};

interface Mutation {
  edits: { at: number; value: number }[];
  cut: number | null;
}

/** Byte overwrites, half of them in the first `hot` bytes (the headers), and an optional cut. */
function mutations(size: number, hot: number): fc.Arbitrary<Mutation> {
  const at = fc.oneof(fc.nat({ max: Math.min(hot, size - 1) }), fc.nat({ max: size - 1 }));
  return fc.record({
    edits: fc.array(fc.record({ at, value: fc.integer({ min: 0, max: 255 }) }), {
      minLength: 1,
      maxLength: 6,
    }),
    cut: fc.option(fc.nat({ max: size }), { freq: 3 }),
  });
}

function mutate(base: Uint8Array, m: Mutation, crcs: boolean): Uint8Array {
  const b = base.slice();
  for (const e of m.edits) b[e.at] = e.value;
  if (crcs) fixCrcs(b);
  return m.cut === null ? b : b.slice(0, m.cut);
}

/** Decodes; passes when the result is a well-formed image or the error is the project's. */
function decodesOrFailsClearly(bytes: Uint8Array, name: string): void {
  const t0 = performance.now();
  try {
    const img = decodeImage(bytes, name);
    assert.ok(img.width > 0 && img.height > 0 && img.width * img.height <= MAX_PIXELS);
    assert.equal(img.data.length, img.width * img.height * 3);
    // Every pixel byte was produced from the file: nothing can be larger than it allows.
    assert.ok(img.width * img.height <= 1032 * 256 * bytes.length, `${img.width}x${img.height}`);
  } catch (e) {
    if (!(e instanceof ImageDecodeError)) throw e;
    assert.ok(e.message.startsWith(`${name}: `), e.message);
    assert.equal(e.message.split("\n").length, 1, e.message);
  }
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `one decode took ${ms.toFixed(0)} ms`);
}

for (const [kind, base] of Object.entries(PNGS)) {
  Deno.test(`fuzz: mutated/truncated ${kind} PNGs decode or throw ImageDecodeError`, () => {
    assert.equal(decodeImage(base, "base.png").data.length > 0, true);
    for (const [crcs, seed] of [[false, 901], [true, 902]] as const) {
      fc.assert(
        fc.property(mutations(base.length, 64), (m) => {
          decodesOrFailsClearly(mutate(base, m, crcs), "fuzz.png");
        }),
        { seed, numRuns: 1500 },
      );
    }
  });
}

for (const [kind, base] of Object.entries(JPEGS)) {
  Deno.test(`fuzz: mutated/truncated ${kind} JPEGs decode or throw ImageDecodeError`, () => {
    assert.equal(decodeImage(base, "base.jpg").data.length, 24 * 16 * 3);
    fc.assert(
      fc.property(mutations(base.length, 640), (m) => {
        decodesOrFailsClearly(mutate(base, m, false), "fuzz.jpg");
      }),
      { seed: 903, numRuns: 3000 },
    );
  });
}

for (const [kind, base] of Object.entries(OTHERS)) {
  Deno.test(`fuzz: mutated/truncated ${kind.toUpperCase()} files decode or throw ImageDecodeError`, () => {
    assert.ok(base.length > 1024, `${kind}: ${base.length} bytes`);
    assert.ok(decodeImage(base, `base.${kind}`).data.length > 0);
    fc.assert(
      fc.property(mutations(base.length, 64), (m) => {
        decodesOrFailsClearly(mutate(base, m, false), `fuzz.${kind}`);
      }),
      { seed: 904, numRuns: 1500 },
    );
  });
}

Deno.test("a tiny PNG or JPEG claiming a huge size is refused before any allocation", () => {
  const png = PNGS.rgb8.slice();
  const view = new DataView(png.buffer);
  // 12000 x 12000 is within the pixel limit, but far more than the file can hold.
  view.setUint32(16, 12000);
  view.setUint32(20, 12000);
  fixCrcs(png);
  assert.throws(() => decodeImage(png, "bomb.png"), /bomb\.png: .*12000x12000 image, but/);
  const jpg = jpegWithSize(12000, 12000);
  assert.throws(() => decodeImage(jpg, "bomb.jpg"), /bomb\.jpg: .*12000x12000 image, but/);
  // 16000 x 16000 is over it: refused by the header alone.
  const over =
    /image too large \((PNG|JPEG): 16000x16000 is 256000000 pixels, over the limit of 178956970, Pillow's default; LPIPS_MAX_IMAGE_PIXELS=N changes it\)$/;
  view.setUint32(16, 16000);
  view.setUint32(20, 16000);
  fixCrcs(png);
  assert.throws(() => decodeImage(png, "bomb.png"), over);
  assert.throws(() => decodeImage(jpegWithSize(16000, 16000), "bomb.jpg"), over);
});

Deno.test("a BMP or GIF claiming a huge size is refused before any allocation", () => {
  const bmp = OTHERS.bmp.slice();
  const view = new DataView(bmp.buffer);
  view.setInt32(18, 12000, true);
  view.setInt32(22, 12000, true);
  assert.throws(
    () => decodeImage(bmp, "bomb.bmp"),
    /bomb\.bmp: .*needed for 12000x12000 32-bit pixels/,
  );
  view.setInt32(18, 1 << 15, true);
  assert.throws(
    () => decodeImage(bmp, "huge.bmp"),
    /huge\.bmp: image too large \(BMP: 32768x12000 is 393216000 pixels, over the limit/,
  );
  const gif = OTHERS.gif.slice();
  // 14000 x 14000 costs a GIF four bytes: over Pillow's DecompressionBombError limit.
  gif.set([14000 & 0xff, 14000 >> 8, 14000 & 0xff, 14000 >> 8], 6);
  assert.throws(
    () => decodeImage(gif, "bomb.gif"),
    /bomb\.gif: image too large \(GIF: 14000x14000 is 196000000 pixels, over the limit of 178956970/,
  );
  gif.set([0xff, 0xff, 0xff, 0xff], 6);
  assert.throws(() => decodeImage(gif, "huge.gif"), /huge\.gif: image too large .*65535x65535/);
});

/** The JPEG base with its frame header's size replaced. */
function jpegWithSize(width: number, height: number): Uint8Array {
  const b = JPEGS.rgb.slice();
  for (let at = 2; at + 9 < b.length; at += 2 + ((b[at + 2] << 8) | b[at + 3])) {
    if (b[at + 1] === 0xc0) {
      b.set([height >> 8, height & 0xff, width >> 8, width & 0xff], at + 5);
      return b;
    }
  }
  throw new Error("no SOF0");
}
