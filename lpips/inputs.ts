/**
 * What {@link LPIPS.distance} and {@link LPIPS.features} accept, turned into the NCHW RGB batches
 * the engines take: files (paths, `file:` URLs) are read with `readImage`, greyscale batches
 * (one channel) get their channel repeated three times (the reference maintainers' advice), a
 * batch of one is repeated against a batch of N, and a second image of another size is resized
 * to the first one's size only when the caller asks (`resize: "reference"`). Every fault is an
 * {@link InputError} naming the input and what was passed (docs/faults.md).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  im2tensor,
  type ImageFile,
  type ImageTensor,
  isImageFile,
  readImage,
  type RGBImage,
  toTensor01,
} from "../bappsloader/image.ts";
import { resizeBicubic, resizeBicubicPlanes } from "../bappsloader/resize.ts";
import type { EngineInput } from "./engine.ts";
import { checkRange, checkShapes, InputError } from "./validate.ts";
import type { Tensor4D } from "./tensor_types.ts";

/**
 * An image batch as LPIPS takes it: a file (path or `file:` URL, read as `loadImage` reads it),
 * NCHW float32 `{ data, shape }` with 3 channels (RGB) or 1 (grey, repeated to RGB), a TF.js
 * `Tensor4D` of the same layout, or a decoded 8-bit {@link RGBImage}.
 */
export type LPIPSInput = ImageFile | ImageTensor | Tensor4D | RGBImage;

/** How a pair of different sizes is made comparable: `"reference"` resizes the second input. */
export type ResizeMode = "reference";

/** `{ from: [h, w], to: [h, w] }`: the second input's size before and after the resize. */
export interface Resized {
  /** The second input's [height, width] as given. */
  from: [number, number];
  /** Its [height, width] after the resize: the first input's. */
  to: [number, number];
}

/** A pair ready for an engine, with the resize that was done, if any. */
export interface PreparedPair {
  /** The two NCHW RGB batches, of one shape. */
  inputs: [EngineInput, EngineInput];
  /** Set when the second input was resized. */
  resized?: Resized;
  /** Which input, a batch of 1, was repeated to the other's batch size (none when equal). */
  repeated?: 0 | 1;
}

/** An input after reading: still 8-bit (files, RGB images) or a checked float batch. */
type Loaded = { rgb: RGBImage } | { tensor: EngineInput };

/**
 * Checks and converts the two inputs of a distance: same size (or `resize`), batch sizes equal or
 * one of them 1 (then repeated), at least `minSize` px a side.
 */
export async function preparePair(
  a: LPIPSInput,
  b: LPIPSInput,
  opts: { normalize: boolean; resize?: ResizeMode; minSize: number; net: string },
): Promise<PreparedPair> {
  if (opts.resize !== undefined && opts.resize !== "reference") {
    throw new InputError(
      `resize must be "reference" (resize the second input to the first one's size), got ${
        describe(opts.resize)
      }`,
    );
  }
  const [l0, l1] = await Promise.all([load(a, opts.normalize, 0), load(b, opts.normalize, 1)]);
  const [h0, w0] = sizeOf(l0), [h1, w1] = sizeOf(l1);
  let resized: Resized | undefined;
  let second = l1;
  if (h0 !== h1 || w0 !== w1) {
    if (opts.resize !== "reference") {
      throw new InputError(
        `inputs differ in size: input 0 is ${w0}x${h0} and input 1 is ${w1}x${h1} (WxH); pass ` +
          `resize: "reference" to resize input 1 to ${w0}x${h0} (Pillow's bicubic)`,
      );
    }
    second = await resizedTo(l1, h0, w0, opts.normalize);
    resized = { from: [h1, w1], to: [h0, w0] };
  }
  let v0 = toEngineInput(l0, opts.normalize), v1 = toEngineInput(second, opts.normalize);
  const n0 = v0.shape[0], n1 = v1.shape[0];
  let repeatedInput: 0 | 1 | undefined;
  if (n0 !== n1) {
    if (n0 !== 1 && n1 !== 1) {
      throw new InputError(
        `inputs differ in batch size: ${n0} vs ${n1} (a batch of 1 is compared with each image ` +
          "of the other; otherwise the batches pair up image by image)",
      );
    }
    if (n0 === 1) v0 = await repeated(v0, n1);
    else v1 = await repeated(v1, n0);
    repeatedInput = n0 === 1 ? 0 : 1;
  }
  checkShapes(v0.shape, v1.shape, opts.minSize, opts.net);
  return { inputs: [v0, v1], resized, repeated: repeatedInput };
}

/** Checks and converts one input (for `features`): files read, grey expanded, >= `minSize` px. */
export async function prepareOne(
  x: LPIPSInput,
  opts: { normalize: boolean; minSize: number; net: string },
): Promise<EngineInput> {
  const v = toEngineInput(await load(x, opts.normalize, 0), opts.normalize);
  checkShapes(v.shape, v.shape, opts.minSize, opts.net);
  return v;
}

/** Reads a file, or checks the form, shape and values of a tensor (grey expanded to RGB). */
async function load(x: LPIPSInput, normalize: boolean, which: number): Promise<Loaded> {
  if (isImageFile(x)) return { rgb: await readImage(x) };
  if (x === null || typeof x !== "object") {
    throw new InputError(
      `input ${which} is ${describe(x)}; expected an image path or file: URL, ` +
        "{ data: Float32Array, shape: [N, 3, H, W] }, a TF.js Tensor4D or an RGB image",
    );
  }
  if (x instanceof tf.Tensor) {
    checkShape(x.shape, which);
    const data = await x.data() as Float32Array;
    checkRange(data, normalize, which);
    const shape = x.shape as [number, number, number, number];
    return { tensor: shape[1] === 1 ? greyToRgb({ data, shape }) : x as tf.Tensor4D };
  }
  if ("width" in x && "height" in x && x.data instanceof Uint8Array) {
    const { width, height, data } = x;
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
      throw new InputError(
        `input ${which} is an RGB image of ${width}x${height} px; sides must be whole numbers >= 1`,
      );
    }
    if (data.length !== width * height * 3) {
      throw new InputError(
        `input ${which}: a ${width}x${height} RGB image needs ${width * height * 3} bytes, ` +
          `has ${data.length}`,
      );
    }
    return { rgb: x };
  }
  const t = x as Partial<ImageTensor>;
  if (!(t.data instanceof Float32Array) || !Array.isArray(t.shape)) {
    throw new InputError(
      `input ${which} is not { data: Float32Array, shape }, a tensor, an image or a file ` +
        `(got ${describe(x)})`,
    );
  }
  checkShape(t.shape, which);
  const n = t.shape.reduce((p, d) => p * d, 1);
  if (n !== t.data.length) {
    throw new InputError(
      `input ${which}: shape [${t.shape}] needs ${n} values but has ${t.data.length} values`,
    );
  }
  checkRange(t.data, normalize, which);
  const checked = t as ImageTensor;
  return { tensor: checked.shape[1] === 1 ? greyToRgb(checked) : checked };
}

/** Rank 4, whole sizes, a non-empty batch, 1 or 3 channels. */
function checkShape(shape: readonly number[], which: number): void {
  if (shape.length !== 4) {
    throw new InputError(
      `input ${which} has shape [${shape}] (rank ${shape.length}); expected [N, 3, H, W]`,
    );
  }
  const bad = shape.findIndex((d) => !Number.isInteger(d) || d < 0);
  if (bad >= 0) {
    throw new InputError(
      `input ${which} has shape [${shape}]: its sizes must be whole numbers >= 0, axis ${bad} ` +
        `is ${shape[bad]}`,
    );
  }
  const [n, c, h, w] = shape;
  if (n === 0) {
    throw new InputError(`input ${which} is an empty batch (shape [${shape}]): nothing to compare`);
  }
  if (h === 0 || w === 0) {
    throw new InputError(`input ${which} has shape [${shape}]: images of 0 px`);
  }
  if (c !== 3 && c !== 1) {
    const hint = w === 3 || w === 1
      ? "; it looks like NHWC: transpose it to NCHW"
      : c === 4
      ? "; drop the alpha channel"
      : "";
    throw new InputError(
      `input ${which} has ${c} channels; expected 3 (RGB, NCHW layout) or 1 (grey)${hint}`,
    );
  }
}

/** A one-channel batch with its channel repeated into R, G and B. */
function greyToRgb(t: ImageTensor): ImageTensor {
  const [n, , h, w] = t.shape;
  const plane = h * w;
  const data = new Float32Array(n * 3 * plane);
  for (let i = 0; i < n; i++) {
    const grey = t.data.subarray(i * plane, (i + 1) * plane);
    for (let c = 0; c < 3; c++) data.set(grey, (i * 3 + c) * plane);
  }
  return { data, shape: [n, 3, h, w] };
}

function sizeOf(l: Loaded): [number, number] {
  return "rgb" in l ? [l.rgb.height, l.rgb.width] : [l.tensor.shape[2], l.tensor.shape[3]];
}

/**
 * The second input at `h` x `w`: 8-bit images through Pillow's 8-bit bicubic, float batches
 * through its float bicubic, then clamped to the input range (bicubic overshoots at sharp edges,
 * as the 8-bit path clips to 0..255).
 */
async function resizedTo(l: Loaded, h: number, w: number, normalize: boolean): Promise<Loaded> {
  if ("rgb" in l) return { rgb: resizeBicubic(l.rgb, w, h) };
  const t = await asImageTensor(l.tensor);
  const out = resizeBicubicPlanes(t, h, w);
  const [lo, hi] = normalize ? [0, 1] : [-1, 1];
  const d = out.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i] < lo ? lo : d[i] > hi ? hi : d[i];
  return { tensor: out };
}

function toEngineInput(l: Loaded, normalize: boolean): EngineInput {
  if ("tensor" in l) return l.tensor;
  return normalize ? toTensor01(l.rgb) : im2tensor(l.rgb);
}

/** A batch of one repeated `n` times. */
async function repeated(x: EngineInput, n: number): Promise<ImageTensor> {
  const t = await asImageTensor(x);
  const data = new Float32Array(t.data.length * n);
  for (let i = 0; i < n; i++) data.set(t.data, i * t.data.length);
  return { data, shape: [n, t.shape[1], t.shape[2], t.shape[3]] };
}

async function asImageTensor(x: EngineInput): Promise<ImageTensor> {
  if (!(x instanceof tf.Tensor)) return x;
  return { data: await x.data() as Float32Array, shape: [...x.shape] };
}

/** A short description of a value for a message: `null`, `a number (3)`, `an Array`. */
function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (typeof x === "string") return JSON.stringify(x);
  if (typeof x !== "object") return `a ${typeof x} (${String(x)})`;
  const name = (x as object).constructor?.name;
  return name && name !== "Object" ? `a ${name}` : "an object";
}
