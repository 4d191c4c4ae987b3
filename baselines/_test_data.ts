/**
 * Test-only helpers: the golden baseline cases of `reference/cases.json` and their inputs.
 * (Excluded from publishing by its name, like `lpips/_test_data.ts`.)
 *
 * @module
 */
import { readFile } from "node:fs/promises";
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
