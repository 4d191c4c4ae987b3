/**
 * The trunk-training half of a `tune`/`scratch` step on ONNX Runtime: the two distances of each
 * triplet, then every LPIPS weight's gradient given the loss's gradient with respect to them
 * (the graphs of `../onnx_train_graph.ts`). One session per graph serves every step: the weights
 * are inputs.
 *
 * @module
 */
import type * as Ort from "onnxruntime-node";
import type { Arch } from "../arch.ts";
import type { OrtModule } from "../onnx_engine.ts";
import { buildTrainingGraph } from "../onnx_train_graph.ts";

/** A float32 array with its NCHW (or OIHW) shape. */
export interface Feed {
  data: Float32Array;
  shape: readonly number[];
}

/** Runs the forward and backward training graphs of one trunk. */
export class OnnxTrainStep {
  readonly #ort: OrtModule;
  readonly #arch: Arch;
  readonly #dropout: boolean;
  readonly #threads: number;
  #forward?: Promise<Ort.InferenceSession>;
  #backward?: Promise<Ort.InferenceSession>;

  constructor(ort: OrtModule, a: Arch, dropout: boolean, threads?: number) {
    this.#ort = ort;
    this.#arch = a;
    this.#dropout = dropout;
    this.#threads = threads ?? navigator.hardwareConcurrency ?? 1;
  }

  /** `d0`, `d1` of each triplet; `feeds` are the graph inputs by name (images, weights, masks). */
  async distances(feeds: Map<string, Feed>): Promise<[Float32Array, Float32Array]> {
    this.#forward ??= this.#session(false);
    const out = await (await this.#forward).run(this.#tensors(feeds));
    return [out.d0.data as Float32Array, out.d1.data as Float32Array];
  }

  /** `<key>.weight`, `<key>.bias`, `lin{k}` -> the gradient, given dL/dd0 and dL/dd1. */
  async gradients(
    feeds: Map<string, Feed>,
    g0: Float32Array,
    g1: Float32Array,
  ): Promise<Map<string, Float32Array>> {
    this.#backward ??= this.#session(true);
    const all = new Map(feeds);
    all.set("g0", { data: g0, shape: [g0.length] }).set("g1", { data: g1, shape: [g1.length] });
    const out = await (await this.#backward).run(this.#tensors(all));
    const grads = new Map<string, Float32Array>();
    for (const [name, t] of Object.entries(out)) {
      if (name.startsWith("grad.")) grads.set(name.slice(5), t.data as Float32Array);
    }
    return grads;
  }

  /** Releases the sessions. */
  async dispose(): Promise<void> {
    const sessions = [this.#forward, this.#backward];
    this.#forward = this.#backward = undefined;
    for (const s of sessions) if (s) await (await s).release();
  }

  #tensors(feeds: Map<string, Feed>): Record<string, Ort.Tensor> {
    const out: Record<string, Ort.Tensor> = {};
    for (const [name, f] of feeds) out[name] = new this.#ort.Tensor("float32", f.data, f.shape);
    return out;
  }

  #session(backward: boolean): Promise<Ort.InferenceSession> {
    const model = buildTrainingGraph(this.#arch, { backward, dropout: this.#dropout });
    return this.#ort.InferenceSession.create(model, {
      graphOptimizationLevel: "all",
      intraOpNumThreads: this.#threads,
      interOpNumThreads: 1,
      executionMode: "sequential",
      logSeverityLevel: 3,
      extra: { session: { intra_op: { allow_spinning: "0" } } },
    });
  }
}
