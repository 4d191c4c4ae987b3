/**
 * DISTS, Deep Image Structure and Texture Similarity (Ding, Ma, Wang, Simoncelli 2020; see
 * docs/algorithm.md §13): the authors' PyTorch metric, run as one ONNX Runtime graph.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as Ort from "onnxruntime-node";
import { isImageFile, readImage, type RGBImage } from "../bappsloader/image.ts";
import { resizeShorterSide } from "../bappsloader/resize.ts";
import { toNchw } from "./engine.ts";
import { type LPIPSInput, preparePair } from "./inputs.ts";
import { loadOrt } from "./onnx_engine.ts";
import { InputError } from "./validate.ts";
import { buildDistsGraph } from "./dists_graph.ts";
import { type DistsWeightSource, loadDistsWeights } from "./weight_files.ts";

/** The shorter side the official input preparation shrinks a larger image to. */
export const DISTS_RESIZE_SIDE = 256;

/** Options of {@link DISTS.create}. */
export interface DISTSOptions extends DistsWeightSource {
  /**
   * Shrink an image whose shorter side is over 256 px to 256 px on that side (Pillow's bilinear,
   * the aspect kept), as the official script prepares its inputs (default `true`). It applies to
   * 8-bit inputs (files, RGB images), as the official code resizes its PIL images; float batches
   * are used as given, as the official model's `forward` takes them.
   */
  resize?: boolean;
  /**
   * The engine: DISTS runs on ONNX Runtime (`"onnx"`; `"auto"`, the default, means the same).
   * It needs `onnxruntime-node` and Deno's `--allow-ffi`.
   */
  engine?: "onnx" | "auto";
  /** Intra-op threads (default: the number of logical cores). */
  threads?: number;
}

type OrtModule = typeof Ort;

/**
 * DISTS between image pairs: 0 for identical images, larger for more different ones (roughly 0
 * to 1). Equal to the authors' PyTorch code (docs/algorithm.md §13 gives the tolerance).
 *
 * @example
 * ```ts ignore
 * // Not run by the doc tests: it needs the ImageNet VGG16 (528 MB, downloaded once).
 * import { DISTS } from "@perceptual/lpips/lpips";
 * const d = await DISTS.create(); // VGG16 and alpha/beta: LPIPS_WEIGHTS_DIR, cache or download
 * const [score] = await d.score("ex_ref.png", "ex_p0.png");
 * console.log(score.toFixed(4));
 * d.dispose();
 * ```
 */
export class DISTS {
  /** Whether larger 8-bit inputs are shrunk to 256 px on the shorter side. */
  readonly resize: boolean;
  /** The engine that runs it. */
  readonly engine = "onnx";
  readonly #ort: OrtModule;
  #session: Ort.InferenceSession | undefined;

  private constructor(ort: OrtModule, session: Ort.InferenceSession, resize: boolean) {
    this.#ort = ort;
    this.#session = session;
    this.resize = resize;
  }

  /** Loads the weights (VGG16 trunk, alpha/beta) and builds the ONNX Runtime session. */
  static async create(opts: DISTSOptions = {}): Promise<DISTS> {
    const engine = opts.engine ?? "auto";
    if (engine !== "onnx" && engine !== "auto") {
      throw new RangeError(
        `DISTS runs on the onnx engine only (engine "onnx" or "auto"), got ${
          JSON.stringify(engine)
        }`,
      );
    }
    const resize = opts.resize ?? true;
    if (typeof resize !== "boolean") {
      throw new RangeError(`DISTS: resize must be true or false, got ${JSON.stringify(resize)}`);
    }
    const threads = opts.threads ?? navigator.hardwareConcurrency ?? 1;
    if (!Number.isInteger(threads) || threads < 1) {
      throw new RangeError(`DISTS: threads must be a whole number >= 1, got ${threads}`);
    }
    let ort: OrtModule;
    try {
      ort = await loadOrt();
    } catch (e) {
      throw new Error(
        `DISTS runs on the onnx engine, which needs onnxruntime-node (and --allow-ffi): ${
          e instanceof Error ? e.message.split("\n")[0] : e
        }`,
      );
    }
    const w = await loadDistsWeights(opts);
    const session = await ort.InferenceSession.create(buildDistsGraph(w.trunk, w.alpha, w.beta), {
      graphOptimizationLevel: "all",
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      executionProviders: ["cpu"],
      logSeverityLevel: 3,
      extra: { session: { intra_op: { allow_spinning: "0" } } },
    });
    return new DISTS(ort, session, resize);
  }

  /**
   * DISTS of each pair: one value per image of the batches (a batch of one is compared with each
   * image of the other). `a` and `b` take what `LPIPS.distance` takes: files, RGB images, NCHW
   * float batches in [0, 1] (3 channels, or 1: grey, repeated) or TF.js tensors. After the
   * resize, both must have one size.
   */
  async score(a: LPIPSInput, b: LPIPSInput): Promise<Float32Array> {
    const session = this.#session;
    if (!session) throw new Error("DISTS: score() after dispose()");
    const [[pa, shrunkA], [pb, shrunkB]] = await Promise.all([
      this.#prepared(a),
      this.#prepared(b),
    ]);
    const sa = sizeOf(pa), sb = sizeOf(pb);
    if (sa && sb && (sa[0] !== sb[0] || sa[1] !== sb[1])) {
      const resized = shrunkA || shrunkB;
      throw new InputError(
        `DISTS compares images of one size: input 0 is ${sa[1]}x${sa[0]} and input 1 is ` +
          `${sb[1]}x${sb[0]} (WxH${resized ? ", after the resize to 256 px" : ""})`,
      );
    }
    const { inputs } = await preparePair(pa, pb, { normalize: true, minSize: 1, net: "dists" });
    const [x0, x1] = await Promise.all(inputs.map(toNchw));
    const tensor = (x: { data: Float32Array; shape: readonly number[] }) =>
      new this.#ort.Tensor("float32", x.data, [...x.shape]);
    const out = await session.run({ x0: tensor(x0), x1: tensor(x1) });
    return Float32Array.from(out.score.data as Float64Array);
  }

  /** Releases the ONNX Runtime session. */
  async dispose(): Promise<void> {
    const s = this.#session;
    this.#session = undefined;
    await s?.release();
  }

  /** Files read; 8-bit images shrunk as the official script does (when `resize`), and whether. */
  async #prepared(x: LPIPSInput): Promise<[LPIPSInput, boolean]> {
    const img = isImageFile(x) ? await readImage(x) : x;
    if (!this.resize || !isRgbImage(img)) return [img, false];
    if (Math.min(img.width, img.height) <= DISTS_RESIZE_SIDE) return [img, false];
    return [resizeShorterSide(img, DISTS_RESIZE_SIDE), true];
  }
}

function isRgbImage(x: unknown): x is RGBImage {
  return typeof x === "object" && x !== null && "width" in x && "height" in x &&
    (x as RGBImage).data instanceof Uint8Array;
}

/** [height, width] of an image or a batch, when it is one of those forms (else preparePair says). */
function sizeOf(x: LPIPSInput): [number, number] | undefined {
  if (isRgbImage(x)) return [x.height, x.width];
  const shape = x instanceof tf.Tensor ? x.shape : (x as { shape?: unknown }).shape;
  if (Array.isArray(shape) && shape.length === 4) return [shape[2], shape[3]];
  return undefined;
}
