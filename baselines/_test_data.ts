/**
 * Test-only helpers: the golden baseline cases of `reference/cases.json` and their inputs, and the
 * FLIP cases of `_testing/metric_goldens/flip.json` (made by `flip_goldens.sh` there).
 * (Excluded from publishing by its name, like `lpips/_test_data.ts`.)
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { encode } from "fast-png";
import {
  im2tensor,
  type ImageTensor,
  readImage,
  type RGBImage,
  toTensorNormalize,
} from "../bappsloader/image.ts";
import { readNpy } from "../bappsloader/npy.ts";
import { resizeShorterSide } from "../bappsloader/resize.ts";
import { testData } from "../_internal/test_data.ts";

/** One input of a case: a file under the test data and how it becomes a tensor. */
export interface CaseInput {
  file: string;
  load: "script" | "totensor_normalize" | "bapps_loader" | "npy" | "totensor01";
}

/** An `l2` or `dssim` case of `cases.json`. */
export interface BaselineCase {
  id: string;
  type: "l2" | "dssim";
  inputs: { in0: CaseInput; in1: CaseInput };
  config: {
    metric: string;
    colorspace: "RGB" | "Lab";
    tensor_path: "A_im2tensor" | "B_totensor_normalize" | "bapps_loader" | "npy";
    batch_item?: number;
  };
  expected: { value: number; value_f64_before_f32_cast?: number; ssim_f64?: number };
}

/** The golden cases of one baseline type. */
export async function baselineCases(type: "l2" | "dssim"): Promise<BaselineCase[]> {
  const json = JSON.parse(await readFile(testData("reference", "cases.json"), "utf8"));
  return (json.cases as { type: string }[]).filter((c) => c.type === type) as BaselineCase[];
}

/** Loads a case input the way the reference did (`inputs.*.load`). */
export async function loadInput(input: CaseInput, batchItem?: number): Promise<ImageTensor> {
  const path = testData(input.file);
  let t: ImageTensor;
  switch (input.load) {
    case "script":
      t = im2tensor(await readImage(path));
      break;
    case "totensor_normalize":
      t = toTensorNormalize(await readImage(path));
      break;
    case "bapps_loader":
      t = toTensorNormalize(resizeShorterSide(await readImage(path), 64));
      break;
    case "npy": {
      const arr = await readNpy(path);
      if (arr.dtype !== "float32" || arr.shape.length !== 4) {
        throw new Error(`${path}: expected a float32 NCHW array, got ${arr.dtype} [${arr.shape}]`);
      }
      t = { data: arr.data as Float32Array, shape: arr.shape as ImageTensor["shape"] };
      break;
    }
    default:
      throw new Error(`unsupported load ${input.load}`);
  }
  return batchItem === undefined ? t : item(t, batchItem);
}

/** Batch item `i` of a tensor, as a batch of one. */
export function item(t: ImageTensor, i: number): ImageTensor {
  const [, c, h, w] = t.shape;
  const per = c * h * w;
  return { data: t.data.slice(i * per, (i + 1) * per), shape: [1, c, h, w] };
}

/** `|got - want| / |want|` (absolute when `want` is 0). */
export function relErr(got: number, want: number): number {
  const d = Math.abs(got - want);
  return want === 0 ? d : d / Math.abs(want);
}

/** Loads the two images of a pair under `images/` on one of the reference's tensor paths. */
export async function imagePair(
  a: string,
  b: string,
  path: "A" | "B",
): Promise<[ImageTensor, ImageTensor]> {
  const conv = path === "A" ? im2tensor : toTensorNormalize;
  return [
    conv(await readImage(testData("images", a))),
    conv(await readImage(testData("images", b))),
  ];
}

/**
 * One image of a FLIP golden case: a shared image (optionally cropped `[x, y, w, h]` and/or made
 * grey), a constant colour, or seeded noise.
 */
export type FlipSource =
  | { file: string; crop?: [number, number, number, number]; grey?: boolean }
  | { constant: [number, number, number]; size: [number, number] }
  | { noise: number; size: [number, number] };

/** A FLIP golden case: reference, test and pixels per degree (undefined: the tool's default). */
export interface FlipCase {
  id: string;
  ref: FlipSource;
  test: FlipSource;
  ppd?: string;
}

const ex = (name: string, crop?: [number, number, number, number]): FlipSource => ({
  file: `${name}.png`,
  crop,
});
const tid = (n: string, which: "ref" | "dist", crop?: [number, number, number, number]) =>
  ex(`tid_${n}_${which}`, crop);

/** The FLIP golden cases: every shared pair, odd crops, tiny and degenerate images, other ppd. */
export const FLIP_CASES: readonly FlipCase[] = [
  { id: "ex_p0", ref: ex("ex_ref"), test: ex("ex_p0") },
  { id: "ex_p1", ref: ex("ex_ref"), test: ex("ex_p1") },
  { id: "ex_p0_vs_p1", ref: ex("ex_p0"), test: ex("ex_p1") },
  ...["I03", "I04", "I06", "I08", "I19"].map((n) => ({
    id: `tid_${n}`,
    ref: tid(n, "ref"),
    test: tid(n, "dist"),
  })),
  {
    id: "crop_65x63",
    ref: tid("I03", "ref", [100, 50, 65, 63]),
    test: tid("I03", "dist", [100, 50, 65, 63]),
  },
  {
    id: "crop_177x181",
    ref: tid("I03", "ref", [300, 190, 177, 181]),
    test: tid("I03", "dist", [300, 190, 177, 181]),
  },
  {
    id: "crop_511x383",
    ref: tid("I19", "ref", [1, 1, 511, 383]),
    test: tid("I19", "dist", [1, 1, 511, 383]),
  },
  { id: "crop_1x1", ref: ex("ex_ref", [31, 17, 1, 1]), test: ex("ex_p0", [31, 17, 1, 1]) },
  { id: "crop_2x3", ref: ex("ex_ref", [5, 9, 2, 3]), test: ex("ex_p1", [5, 9, 2, 3]) },
  { id: "crop_7x5", ref: ex("ex_ref", [40, 3, 7, 5]), test: ex("ex_p0", [40, 3, 7, 5]) },
  {
    id: "row_255x1",
    ref: tid("I06", "ref", [0, 200, 255, 1]),
    test: tid("I06", "dist", [0, 200, 255, 1]),
  },
  {
    id: "column_1x97",
    ref: tid("I04", "ref", [300, 10, 1, 97]),
    test: tid("I04", "dist", [300, 10, 1, 97]),
  },
  { id: "identical", ref: tid("I04", "ref"), test: tid("I04", "ref") },
  {
    id: "grey",
    ref: { file: "ex_ref.png", grey: true },
    test: { file: "ex_p0.png", grey: true },
  },
  {
    id: "constant",
    ref: { constant: [200, 30, 40], size: [32, 24] },
    test: { constant: [190, 40, 40], size: [32, 24] },
  },
  {
    id: "constant_identical",
    ref: { constant: [17, 200, 99], size: [9, 11] },
    test: { constant: [17, 200, 99], size: [9, 11] },
  },
  {
    id: "black_white",
    ref: { constant: [0, 0, 0], size: [16, 16] },
    test: { constant: [255, 255, 255], size: [16, 16] },
  },
  { id: "noise", ref: { noise: 1, size: [40, 30] }, test: { noise: 2, size: [40, 30] } },
  {
    id: "noise_vs_grey",
    ref: { noise: 3, size: [33, 47] },
    test: { constant: [128, 128, 128], size: [33, 47] },
  },
  ...["30", "10", "120", "2", "0.5"].map((ppd) => ({
    id: `ex_p0_ppd${ppd}`,
    ref: ex("ex_ref"),
    test: ex("ex_p0"),
    ppd,
  })),
  { id: "tid_I06_ppd40", ref: tid("I06", "ref"), test: tid("I06", "dist"), ppd: "40" },
  { id: "tid_I03_ppd15", ref: tid("I03", "ref"), test: tid("I03", "dist"), ppd: "15" },
  {
    id: "crop_177x181_ppd150",
    ref: tid("I03", "ref", [300, 190, 177, 181]),
    test: tid("I03", "dist", [300, 190, 177, 181]),
    ppd: "150",
  },
];

/**
 * The PNG file a FLIP case source is given to the tool as: 8-bit RGB, or one grey channel for
 * `grey` sources (so that the tool's grey expansion is exercised too).
 */
export function flipSourcePng(src: FlipSource, img: RGBImage): Uint8Array {
  if ("file" in src && src.grey) {
    const data = new Uint8Array(img.width * img.height);
    for (let i = 0; i < data.length; i++) data[i] = img.data[3 * i];
    return encode({ width: img.width, height: img.height, data, channels: 1, depth: 8 });
  }
  return encode({ ...img, channels: 3, depth: 8 });
}

/** The 8-bit image of a FLIP case source (crops and grey made here, deterministically). */
export async function flipSourceImage(src: FlipSource): Promise<RGBImage> {
  if ("constant" in src) {
    const [w, h] = src.size;
    const data = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) data.set(src.constant, 3 * i);
    return { width: w, height: h, data };
  }
  if ("noise" in src) {
    const [w, h] = src.size;
    const data = new Uint8Array(w * h * 3);
    let s = src.noise >>> 0;
    for (let i = 0; i < data.length; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0; // Numerical Recipes' LCG
      data[i] = s >>> 24;
    }
    return { width: w, height: h, data };
  }
  let img = await readImage(testData("images", src.file));
  if (src.crop) {
    const [x0, y0, w, h] = src.crop;
    if (x0 + w > img.width || y0 + h > img.height) throw new Error(`crop outside ${src.file}`);
    const data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) {
      const from = ((y0 + y) * img.width + x0) * 3;
      data.set(img.data.subarray(from, from + w * 3), y * w * 3);
    }
    img = { width: w, height: h, data };
  }
  if (src.grey) {
    const data = new Uint8Array(img.data.length);
    for (let i = 0; i < data.length; i += 3) {
      const [r, g, b] = [img.data[i], img.data[i + 1], img.data[i + 2]];
      data.fill(Math.floor((299 * r + 587 * g + 114 * b + 500) / 1000), i, i + 3);
    }
    img = { ...img, data };
  }
  return img;
}

/** A seeded pseudo-random 8-bit RGB image (xorshift32). */
export function randomImage(width: number, height: number, seed: number): RGBImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = (s >>> 0) & 255;
  }
  return { width, height, data };
}

/** 8-bit RGB images of one size as an NCHW [-1, 1] batch (v / 127.5 - 1). */
export function rgbBatch(imgs: RGBImage[]): ImageTensor {
  const { width: w, height: h } = imgs[0], plane = w * h;
  const data = new Float32Array(imgs.length * 3 * plane);
  imgs.forEach((img, n) => {
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) data[(n * 3 + c) * plane + p] = img.data[3 * p + c] / 127.5 - 1;
    }
  });
  return { data, shape: [imgs.length, 3, h, w] };
}
