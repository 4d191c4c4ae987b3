/**
 * A `tune`/`scratch` training step on ONNX Runtime (the graphs of `./_onnx_graph.ts`): in one
 * run, the distances, the ranking net, the loss and every weight's gradient; or, separately, the
 * distances and the weight gradients of any loss given its gradient with respect to them. One
 * session per graph serves every step: the weights are inputs.
 *
 * @module
 */
import type * as Ort from "onnxruntime-node";
import type { Arch } from "../arch.ts";
import type { OrtModule } from "../onnx_engine.ts";
import { buildTrainingGraph, type TrainingGraphOptions } from "./_onnx_graph.ts";

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
  readonly #sessions = new Map<TrainingGraphOptions["kind"], Promise<Ort.InferenceSession>>();

  constructor(ort: OrtModule, a: Arch, dropout: boolean, threads?: number) {
    this.#ort = ort;
    this.#arch = a;
    this.#dropout = dropout;
    this.#threads = threads ?? navigator.hardwareConcurrency ?? 1;
  }

  /** `d0`, `d1` of each triplet; `feeds` are the graph inputs by name (images, weights, masks). */
  async distances(feeds: Map<string, Feed>): Promise<[Float32Array, Float32Array]> {
    const out = await this.#run("forward", feeds);
    return [out.d0.data as Float32Array, out.d1.data as Float32Array];
  }

  /**
   * One training step's numbers: `feeds` as for {@link distances} plus the ranking net's
   * `rank.<key>` weights and `target` (N); the distances, the ranking net's output, the loss and
   * the gradients (`<key>`, `lin{k}`, `rank.<key>`).
   */
  async step(feeds: Map<string, Feed>): Promise<{
    d0: Float32Array;
    d1: Float32Array;
    output: Float32Array;
    loss: number;
    grads: Map<string, Float32Array>;
  }> {
    const out = await this.#run("step", feeds);
    return {
      d0: out.d0.data as Float32Array,
      d1: out.d1.data as Float32Array,
      output: out.output.data as Float32Array,
      loss: (out.loss.data as Float32Array)[0],
      grads: gradients(out),
    };
  }

  /** `<key>.weight`, `<key>.bias`, `lin{k}` -> the gradient, given dL/dd0 and dL/dd1. */
  async gradients(
    feeds: Map<string, Feed>,
    g0: Float32Array,
    g1: Float32Array,
  ): Promise<Map<string, Float32Array>> {
    const all = new Map(feeds);
    all.set("g0", { data: g0, shape: [g0.length] }).set("g1", { data: g1, shape: [g1.length] });
    return gradients(await this.#run("backward", all));
  }

  /** Releases the sessions. */
  async dispose(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const s of sessions) await (await s).release();
  }

  async #run(
    kind: TrainingGraphOptions["kind"],
    feeds: Map<string, Feed>,
  ): Promise<Ort.InferenceSession.ReturnType> {
    let s = this.#sessions.get(kind);
    if (!s) this.#sessions.set(kind, s = this.#session(kind));
    const tensors: Record<string, Ort.Tensor> = {};
    for (const [name, f] of feeds) tensors[name] = new this.#ort.Tensor("float32", f.data, f.shape);
    return await (await s).run(tensors);
  }

  #session(kind: TrainingGraphOptions["kind"]): Promise<Ort.InferenceSession> {
    const model = buildTrainingGraph(this.#arch, { kind, dropout: this.#dropout });
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

/** The `grad.<name>` outputs of a run, by name. */
function gradients(out: Ort.InferenceSession.ReturnType): Map<string, Float32Array> {
  const grads = new Map<string, Float32Array>();
  for (const [name, t] of Object.entries(out)) {
    if (name.startsWith("grad.")) grads.set(name.slice(5), t.data as Float32Array);
  }
  return grads;
}
