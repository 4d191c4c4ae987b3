/**
 * Test data: the golden input gradients of _testing/gradient_goldens.json (made by
 * _testing/gradient_goldens.py with the reference's autograd; its docstring has the command) and
 * the inputs they were made from.
 *
 * @module
 */
import { testData } from "../_internal/test_data.ts";
import { type Arch, arch } from "./arch.ts";
import type { WeightMap } from "./engine.ts";
import { loadLinWeights, loadTrunkWeights } from "./weight_files.ts";

/** One golden case: a model configuration, its inputs, and the reference's outputs. */
export interface GradientCase {
  name: string;
  net: "alex" | "squeeze" | "vgg";
  version: "0.1" | "0.0";
  lpips: boolean;
  shape: [number, number, number, number];
  a: { data: Float32Array; shape: [number, number, number, number] };
  b: { data: Float32Array; shape: [number, number, number, number] };
  /** How many tapped positions of `a` have an all-zero feature vector. */
  zeroNormPositions: number;
  distance: Float32Array;
  gradient: Float32Array;
}

interface RawCase {
  name: string;
  net: "alex" | "squeeze" | "vgg";
  version: "0.1" | "0.0";
  lpips: boolean;
  shape: [number, number, number, number];
  seeds: [number, number];
  flat: [number, number, number, number, "a" | "both"] | null;
  flatColour: number[] | null;
  zeroNormPositions: number;
  distance: string;
  gradient: string;
}

function floats(b64: string): Float32Array {
  const bin = atob(b64);
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

/** The LCG image of gradient_goldens.py: s <- 1664525 s + 1013904223 (mod 2^32). */
export function lcgImage(shape: readonly number[], seed: number): Float32Array {
  const data = new Float32Array(shape.reduce((p, d) => p * d, 1));
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = Math.fround((s / 2 ** 32) * 2 - 1);
  }
  return data;
}

function paint(x: Float32Array, shape: number[], [y0, y1, x0, x1]: number[], colour: number[]) {
  const [n, c, h, w] = shape;
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      for (let y = y0; y < y1; y++) {
        for (let xx = x0; xx < x1; xx++) x[((i * c + ch) * h + y) * w + xx] = colour[ch];
      }
    }
  }
}

/** Every golden case, inputs rebuilt. */
export async function gradientCases(): Promise<GradientCase[]> {
  const path = new URL("../_testing/gradient_goldens.json", import.meta.url);
  const raw = JSON.parse(await Deno.readTextFile(path)) as { cases: RawCase[] };
  return raw.cases.map((r) => {
    const a = lcgImage(r.shape, r.seeds[0]), b = lcgImage(r.shape, r.seeds[1]);
    if (r.flat) {
      const colour = r.flatColour!.map(Math.fround);
      paint(a, r.shape, r.flat.slice(0, 4) as number[], colour);
      if (r.flat[4] === "both") paint(b, r.shape, r.flat.slice(0, 4) as number[], colour);
    }
    return {
      name: r.name,
      net: r.net,
      version: r.version,
      lpips: r.lpips,
      shape: r.shape,
      a: { data: a, shape: r.shape },
      b: { data: b, shape: r.shape },
      zeroNormPositions: r.zeroNormPositions,
      distance: floats(r.distance),
      gradient: floats(r.gradient),
    };
  });
}

/** max |got - want| / max |want|. */
export function relativeMaxDiff(got: Float32Array, want: Float32Array): number {
  if (got.length !== want.length) throw new Error(`length ${got.length} != ${want.length}`);
  let d = 0, m = 0;
  for (let i = 0; i < got.length; i++) {
    d = Math.max(d, Math.abs(got[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
  }
  return d / m;
}

/**
 * The golden weight gradients of _testing/weight_gradient_goldens.json (its docstring has the
 * command), by case name then key: per tensor the sum, the sum of |.|, the largest |.|, then the
 * values at the 8 positions i * 7919 * 104729 mod size.
 */
export async function weightGradientGoldens(): Promise<Map<string, Map<string, Float32Array>>> {
  const path = new URL("../_testing/weight_gradient_goldens.json", import.meta.url);
  const raw = JSON.parse(await Deno.readTextFile(path)) as {
    cases: { name: string; tensors: Record<string, string> }[];
  };
  return new Map(raw.cases.map((c) => [
    c.name,
    new Map(
      Object.entries(c.tensors).map(([k, b64]) => {
        const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
        return [k, new Float32Array(bytes.buffer)];
      }),
    ),
  ]));
}

/**
 * Where a gradient differs from its golden summary by more than 1e-4 (of the sum of |.| for the
 * sums, of the largest |.| for the values): a message naming it, else undefined.
 */
export function weightGradientMismatch(
  what: string,
  got: Float32Array,
  golden: Float32Array,
): string | undefined {
  let sum = 0, sumAbs = 0, maxAbs = 0;
  for (const v of got) {
    sum += v;
    sumAbs += Math.abs(v);
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const tol = 1e-4 * golden[2];
  if (!(Math.abs(sum - golden[0]) <= 1e-4 * golden[1])) {
    return `${what}: sum ${sum} vs ${golden[0]}`;
  }
  if (!(Math.abs(sumAbs - golden[1]) <= 1e-4 * golden[1])) {
    return `${what}: sum |.| ${sumAbs} vs ${golden[1]}`;
  }
  if (!(Math.abs(maxAbs - golden[2]) <= tol)) return `${what}: max |.| ${maxAbs} vs ${golden[2]}`;
  for (let i = 0; i < 8; i++) {
    const j = Number((BigInt(i) * 7919n * 104729n) % BigInt(got.length));
    if (!(Math.abs(got[j] - golden[3 + i]) <= tol)) {
      return `${what}[${j}]: ${got[j]} vs ${golden[3 + i]}`;
    }
  }
  return undefined;
}

/**
 * A golden case's network and weights: the trunk (VGG: the test data's random-weight file, as the
 * goldens were made with) and the linear heads of its version.
 */
export async function caseWeights(
  c: GradientCase,
): Promise<{ arch: Arch; trunk: WeightMap; lin: WeightMap }> {
  const a = arch(c.net);
  const weightsDir = testData("weights");
  const trunk = await loadTrunkWeights(a, {
    weightsDir,
    path: c.net === "vgg" ? testData("weights", "vgg16-random-seed0.pth") : undefined,
    quiet: true,
  });
  const lin = await loadLinWeights(a, c.version, { weightsDir, quiet: true });
  return { arch: a, trunk, lin };
}
