/**
 * Test harness: runs every `lpips` case of `reference/cases.json` (the reference implementation's
 * golden outputs) through the public API on one backend and measures the largest deviation.
 *
 * @module
 */
import { join } from "node:path";
import assert from "node:assert/strict";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { type Features, LPIPS } from "./lpips.ts";
import type { BackendName } from "./backend.ts";
import type { NetName } from "./arch.ts";
import {
  type ImageTensor,
  loadImage,
  readImage,
  toTensor01,
  toTensorNormalize,
} from "../bappsloader/image.ts";
import { readNpy } from "../bappsloader/npy.ts";
import { resizeShorterSide } from "../bappsloader/resize.ts";

interface Input {
  file: string;
  load: "script" | "totensor01" | "totensor_normalize" | "bapps_loader" | "npy";
}

/** One `lpips` case of cases.json. */
export interface LpipsCase {
  id: string;
  inputs: { in0: Input; in1: Input };
  config: {
    net: NetName;
    version: "0.1" | "0.0";
    lpips: boolean;
    spatial: boolean;
    normalize: boolean;
    weights: { trunk: string; lin?: string };
  };
  expected: {
    distance?: number[];
    per_layer?: number[][];
    map_shape?: number[];
    map_mean?: number[];
    map_min?: number[];
    map_max?: number[];
    per_layer_map_mean_f64?: number[][];
    sample_positions_yx?: [number, number][];
    samples?: number[][];
    per_layer_samples?: number[][][];
    map_npy?: string;
    per_layer_maps_npy?: string;
  };
}

/** All `lpips` cases, in file order. */
export async function lpipsCases(): Promise<LpipsCase[]> {
  const all = JSON.parse(await Deno.readTextFile(testData("reference", "cases.json")));
  return all.cases.filter((c: { type: string }) => c.type === "lpips");
}

/** Loads a case input exactly as the reference did (see reference/README.md). */
export async function loadInput(input: Input): Promise<ImageTensor> {
  const path = testData(input.file);
  switch (input.load) {
    case "script":
      return await loadImage(path);
    case "totensor01":
      return toTensor01(await readImage(path));
    case "totensor_normalize":
      return toTensorNormalize(await readImage(path));
    case "bapps_loader":
      return toTensorNormalize(resizeShorterSide(await readImage(path), 64));
    case "npy": {
      const a = await readNpy(path);
      if (!(a.data instanceof Float32Array) || a.shape.length !== 4) {
        throw new Error(`${path}: expected a float32 NCHW array`);
      }
      return { data: a.data, shape: a.shape as ImageTensor["shape"] };
    }
  }
}

/** The largest absolute deviation seen, and where. */
export interface Deviation {
  max: number;
  where: string;
  compared: number;
}

/** A TF.js backend (tfjs engine), or "onnx" (the ONNX Runtime engine). */
export type Target = BackendName | "onnx";

/** Runs `cases` on `target`, returning the worst absolute deviation over every compared value. */
export async function runCases(cases: LpipsCase[], target: Target): Promise<Deviation> {
  const backend = target === "onnx" ? "wasm" : target;
  const engine = target === "onnx" ? "onnx" : "tfjs";
  const dev: Deviation = { max: 0, where: "", compared: 0 };
  const note = (id: string, what: string, got: number, want: number) => {
    const d = Math.abs(got - want);
    dev.compared++;
    if (!(d <= dev.max)) {
      dev.max = Number.isNaN(d) ? Infinity : d;
      dev.where = `${id} ${what}: got ${got}, want ${want}`;
    }
  };
  const models = new Map<string, LPIPS>();
  const model = async (c: LpipsCase) => {
    const { net, version, lpips, weights } = c.config;
    const key = `${net}|${version}|${lpips}`;
    if (!models.has(key)) {
      models.set(
        key,
        await LPIPS.create({
          net,
          version,
          lpips,
          backend,
          engine,
          trunkPath: testData(weights.trunk),
          linPath: weights.lin ? testData(weights.lin) : undefined,
        }),
      );
    }
    return models.get(key)!;
  };
  // Cases that differ only in head (lin/nolin) and output (scalar/spatial) share trunk features.
  const groups = new Map<string, LpipsCase[]>();
  for (const c of cases) {
    const { net, version, normalize } = c.config;
    const key = [c.inputs.in0.file, c.inputs.in1.file, c.inputs.in0.load, net, version, normalize]
      .join("|");
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  try {
    for (const group of groups.values()) {
      const first = group[0];
      const m0 = await model(first);
      const normalize = first.config.normalize;
      const f0 = await m0.features(await loadInput(first.inputs.in0), { normalize });
      const f1 = await m0.features(await loadInput(first.inputs.in1), { normalize });
      try {
        for (const c of group) await check(c, await model(c), f0, f1);
      } finally {
        f0.dispose();
        f1.dispose();
      }
    }
  } finally {
    for (const m of models.values()) m.dispose();
  }
  return dev;

  async function check(c: LpipsCase, m: LPIPS, f0: Features, f1: Features): Promise<void> {
    const spatial = c.config.spatial;
    const r = await m.compare(f0, f1, { spatial, perLayer: true });
    const e = c.expected;
    if (!spatial) {
      e.distance!.forEach((v, n) => note(c.id, `distance[${n}]`, r.distance[n], v));
      e.per_layer!.forEach((l, k) =>
        l.forEach((v, n) => note(c.id, `layer${k}[${n}]`, r.layers![k][n], v))
      );
      return;
    }
    const [, , h, w] = r.map!.shape;
    const plane = h * w;
    e.map_mean!.forEach((v, n) => note(c.id, `map_mean[${n}]`, r.distance[n], v));
    e.per_layer_map_mean_f64!.forEach((l, k) =>
      l.forEach((v, n) => note(c.id, `layer${k} mean[${n}]`, r.layers![k][n], v))
    );
    e.map_min!.forEach((v, n) => note(c.id, `min[${n}]`, minOf(r.map!.data, n, plane), v));
    e.map_max!.forEach((v, n) => note(c.id, `max[${n}]`, maxOf(r.map!.data, n, plane), v));
    e.sample_positions_yx!.forEach(([y, x], s) => {
      e.samples!.forEach((row, n) =>
        note(c.id, `map[${n},${y},${x}]`, r.map!.data[n * plane + y * w + x], row[s])
      );
      e.per_layer_samples!.forEach((l, k) =>
        l.forEach((row, n) =>
          note(
            c.id,
            `layer${k}[${n},${y},${x}]`,
            r.layerMaps![k].data[n * plane + y * w + x],
            row[s],
          )
        )
      );
    });
    if (e.map_npy) {
      const want = (await readNpy(testData(e.map_npy))).data;
      r.map!.data.forEach((v, i) => note(c.id, `map.npy[${i}]`, v, want[i] as number));
    }
    if (e.per_layer_maps_npy) {
      const want = (await readNpy(join(testData(e.per_layer_maps_npy)))).data;
      r.layerMaps!.forEach((lm, k) =>
        lm.data.forEach((v, i) =>
          note(c.id, `layers.npy[${k}][${i}]`, v, want[k * lm.data.length + i] as number)
        )
      );
    }
  }
}

function minOf(data: Float32Array, n: number, plane: number): number {
  let m = Infinity;
  for (let i = n * plane; i < (n + 1) * plane; i++) m = Math.min(m, data[i]);
  return m;
}

function maxOf(data: Float32Array, n: number, plane: number): number {
  let m = -Infinity;
  for (let i = n * plane; i < (n + 1) * plane; i++) m = Math.max(m, data[i]);
  return m;
}

/** VGG on the 256x256 and 512x384 inputs: hours of CPU time on the slow backends. */
function isLargeVgg(c: LpipsCase): boolean {
  return c.config.net === "vgg" && /^(tid_|rand_1x3x256x256$)/.test(c.id.split(".")[1]);
}

/**
 * Registers a test that runs every case on `target` and asserts the worst deviation. With
 * `largeVggOnDemand` (the pure-JS cpu backend and software WebGPU, where VGG on the large inputs
 * takes tens of minutes) those cases form a second test that runs only with
 * `LPIPS_FULL_CONFORMANCE=1` (every target) or a comma list naming this one (`=webgpu`).
 */
export function conformanceTest(
  target: Target,
  tolerance: number,
  opts: { largeVggOnDemand?: boolean } = {},
): void {
  const full = !opts.largeVggOnDemand;
  register(
    target,
    tolerance,
    full ? "every lpips case" : "every lpips case but large vgg",
    (c) => full || !isLargeVgg(c),
  );
  if (!full) {
    const v = Deno.env.get("LPIPS_FULL_CONFORMANCE") ?? "";
    const wanted = v === "1" || v.split(",").includes(target);
    register(target, tolerance, "the large vgg cases", isLargeVgg, !wanted);
  }
}

function register(
  target: Target,
  tolerance: number,
  what: string,
  select: (c: LpipsCase) => boolean,
  onDemand = false,
): void {
  const base = `${what} of cases.json matches on ${target} within ${tolerance}`;
  const data = needsTestData(base);
  const name = onDemand && !data.ignore
    ? `${base} [skipped: slow here, set LPIPS_FULL_CONFORMANCE=1 or =${target}]`
    : data.name;
  Deno.test({
    name,
    ignore: data.ignore || onDemand,
    sanitizeResources: false,
    fn: async () => {
      if (target === "webgpu" && !(await hasGpuAdapter())) {
        // Without a Vulkan driver there is no adapter: say so rather than pass silently.
        if (Deno.env.get("CI")) throw new Error("CI needs a WebGPU adapter (mesa-vulkan-drivers)");
        console.warn(`${name}: skipped, no WebGPU adapter on this machine`);
        return;
      }
      const cases = (await lpipsCases()).filter(select);
      const t0 = performance.now();
      const dev = await runCases(cases, target);
      const secs = ((performance.now() - t0) / 1000).toFixed(0);
      console.log(
        `${target}: ${cases.length} cases, ${dev.compared} values, max |deviation| ` +
          `${dev.max.toExponential(2)} (${dev.where}) in ${secs} s`,
      );
      // Every case compares at least its distance and each layer's value.
      assert.ok(cases.length > 0 && dev.compared >= cases.length * 6, "too few values compared");
      assert.ok(dev.max <= tolerance, `worst deviation ${dev.max} at ${dev.where}`);
    },
  });
}

async function hasGpuAdapter(): Promise<boolean> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  return !!(await gpu?.requestAdapter());
}
