/**
 * The golden cases of the classical metrics (MS-SSIM, GMSD, FSIM/FSIMc): a recipe that builds
 * every input from the shared test images (`LPIPS_TEST_DATA/images`), so no image is committed,
 * only the recipe and the numbers the authors' MATLAB code gives (`goldens.json`, made by
 * `make_goldens.ts`; see README.md here).
 *
 * @module
 */
import type { RGBImage } from "../../bappsloader/image.ts";
import { readImage } from "../../bappsloader/image.ts";
import { testData } from "../../_internal/test_data.ts";

/** How one input image is made. */
export type Source =
  /** A shared image as it is. */
  | { file: string }
  /**
   * A `w x h` window of a shared image whose top-left corner is `(x, y)`; the image repeats
   * (tiles) past its edges, so windows may be larger than it.
   */
  | { file: string; x: number; y: number; w: number; h: number }
  /** A grey version: R = G = B = the green channel. */
  | { grey: Source }
  /** The negative: 255 - v in every channel. */
  | { invert: Source }
  /** The channels in reverse order (B, G, R). */
  | { bgr: Source }
  /** A `w x h` image of one colour. */
  | { constant: [number, number, number]; w: number; h: number };

/** One golden case: a name and how its two inputs are made. */
export interface GoldenCase {
  name: string;
  ref: Source;
  dist: Source;
}

const tid = ["I03", "I04", "I06", "I08", "I19"];
const win = (id: string, kind: "ref" | "dist", x: number, y: number, w: number, h: number) => ({
  file: `tid_${id}_${kind}.png`,
  x,
  y,
  w,
  h,
});
const pair = (name: string, id: string, x: number, y: number, w: number, h: number) => ({
  name,
  ref: win(id, "ref", x, y, w, h),
  dist: win(id, "dist", x, y, w, h),
});

/** Every golden case, in the order of `goldens.json`. */
export const GOLDEN_CASES: readonly GoldenCase[] = [
  ...tid.map((id) => ({
    name: `tid_${id}`,
    ref: { file: `tid_${id}_ref.png` },
    dist: { file: `tid_${id}_dist.png` },
  })),
  { name: "ex_p0", ref: { file: "ex_ref.png" }, dist: { file: "ex_p0.png" } },
  { name: "ex_p1", ref: { file: "ex_ref.png" }, dist: { file: "ex_p1.png" } },
  // The example patches tiled 4x4 (baselines/msssim.ts's example).
  {
    name: "ex_p0_tiled_256x256",
    ref: { file: "ex_ref.png", x: 0, y: 0, w: 256, h: 256 },
    dist: { file: "ex_p0.png", x: 0, y: 0, w: 256, h: 256 },
  },
  // Odd sizes, crops and tilings past the edge (FSIM's downsampling factor F = 1, 2, 3).
  pair("crop_177x181", "I03", 7, 11, 177, 181),
  pair("crop_255x301", "I04", 100, 30, 255, 301),
  pair("tile_513x385", "I06", 0, 0, 513, 385),
  pair("tile_640x700", "I19", 300, 200, 640, 700),
  pair("crop_383x384", "I08", 129, 0, 383, 384),
  pair("crop_384x384", "I08", 128, 0, 384, 384),
  pair("crop_37x23", "I19", 200, 150, 37, 23),
  pair("crop_300x200", "I03", 100, 100, 300, 200),
  // MS-SSIM's smallest size (short side 176) and one below it.
  pair("crop_176x176", "I08", 200, 100, 176, 176),
  pair("crop_175x300", "I04", 10, 10, 175, 300),
  // The smallest images: GMSD and FSIM take any size.
  pair("crop_1x1", "I03", 250, 190, 1, 1),
  pair("crop_2x2", "I03", 250, 190, 2, 2),
  pair("crop_3x5", "I03", 250, 190, 3, 5),
  pair("crop_1x7", "I03", 250, 190, 1, 7),
  pair("crop_11x11", "I06", 250, 190, 11, 11),
  pair("crop_3x3", "I03", 10, 10, 3, 3),
  pair("crop_5x3", "I03", 10, 10, 5, 3),
  pair("crop_2x3", "I03", 10, 10, 2, 3),
  pair("crop_300x2", "I03", 10, 10, 300, 2),
  pair("crop_2x300", "I03", 10, 10, 2, 300),
  // Grey inputs, identical images, a negative (MS-SSIM's negative contrast-structure term).
  {
    name: "grey_I03",
    ref: { grey: { file: "tid_I03_ref.png" } },
    dist: { grey: { file: "tid_I03_dist.png" } },
  },
  { name: "identical_I04", ref: { file: "tid_I04_ref.png" }, dist: { file: "tid_I04_ref.png" } },
  {
    name: "invert_I06",
    ref: win("I06", "ref", 0, 0, 256, 256),
    dist: { invert: win("I06", "ref", 0, 0, 256, 256) },
  },
  // Red and blue swapped: S_I * S_Q < 0 at many pixels (FSIMc's complex power).
  {
    name: "bgr_I03",
    ref: win("I03", "ref", 100, 50, 200, 200),
    dist: { bgr: win("I03", "ref", 100, 50, 200, 200) },
  },
  // Constant images.
  {
    name: "constant_equal",
    ref: { constant: [128, 128, 128], w: 64, h: 48 },
    dist: { constant: [128, 128, 128], w: 64, h: 48 },
  },
  {
    name: "constant_vs_constant",
    ref: { constant: [200, 30, 90], w: 200, h: 180 },
    dist: { constant: [10, 120, 250], w: 200, h: 180 },
  },
  {
    name: "constant_vs_image",
    ref: win("I03", "ref", 20, 40, 200, 180),
    dist: { constant: [128, 128, 128], w: 200, h: 180 },
  },
];

/** Builds one input from the shared images (each file is read once per `cache`). */
export async function buildSource(
  src: Source,
  cache: Map<string, Promise<RGBImage>> = new Map(),
): Promise<RGBImage> {
  if ("constant" in src) {
    const data = new Uint8Array(src.w * src.h * 3);
    for (let i = 0; i < data.length; i++) data[i] = src.constant[i % 3];
    return { width: src.w, height: src.h, data };
  }
  if ("grey" in src) {
    const img = await buildSource(src.grey, cache);
    const data = new Uint8Array(img.data.length);
    for (let i = 0; i < data.length; i += 3) data.fill(img.data[i + 1], i, i + 3);
    return { ...img, data };
  }
  if ("bgr" in src) {
    const img = await buildSource(src.bgr, cache);
    return { ...img, data: img.data.map((_, i) => img.data[i - (i % 3) + 2 - (i % 3)]) };
  }
  if ("invert" in src) {
    const img = await buildSource(src.invert, cache);
    return { ...img, data: img.data.map((v) => 255 - v) };
  }
  let load = cache.get(src.file);
  if (!load) cache.set(src.file, load = readImage(testData("images", src.file)));
  const img = await load;
  if (!("x" in src)) return img;
  const data = new Uint8Array(src.w * src.h * 3);
  for (let r = 0; r < src.h; r++) {
    const sr = (src.y + r) % img.height;
    for (let c = 0; c < src.w; c++) {
      const sc = (src.x + c) % img.width;
      const s = 3 * (sr * img.width + sc), d = 3 * (r * src.w + c);
      data[d] = img.data[s];
      data[d + 1] = img.data[s + 1];
      data[d + 2] = img.data[s + 2];
    }
  }
  return { width: src.w, height: src.h, data };
}
