/**
 * Loading a trunk's and the linear heads' tensors: resolve the file (explicit path, weights dir,
 * cache, download), parse it with the safe .pth reader, check every tensor strictly.
 *
 * @module
 */
import { type Arch, linTensorSpec, trunkTensorSpec } from "./arch.ts";
import { type PthTensor, readPthFile, toFloat32 } from "./pth/pth.ts";
import {
  checkTensors,
  linFileName,
  pinnedTensorHashes,
  resolveFile,
  WeightsError,
} from "./weights.ts";
import type { WeightMap } from "./tfjs_engine.ts";

/** Where to look for a weight file. */
export interface WeightSource {
  /** An explicit file; used as is. */
  path?: string;
  /** A folder holding files under their official names. */
  weightsDir?: string;
  /** No progress bar while downloading. */
  quiet?: boolean;
}

/**
 * The trunk's `features.*` tensors. Full torchvision files (with `classifier.*`) and files saved
 * from `model.features` (keys without the `features.` prefix) are both accepted.
 */
export async function loadTrunkWeights(a: Arch, src: WeightSource): Promise<WeightMap> {
  const file = await resolveFile(a.trunkFile, src);
  const raw = await readPthFile(file);
  const unprefixed = ![...raw.keys()].some((k) => k.startsWith("features."));
  const tensors = new Map(
    [...raw].flatMap(([k, t]) =>
      unprefixed ? [[`features.${k}`, t]] : k.startsWith("features.") ? [[k, t]] : []
    ),
  );
  return await checked(file, tensors, trunkTensorSpec(a), pins(a.trunkFile, src));
}

/** `net.slice{i}.{j}.rest` (how the reference's checkpoints name trunk tensors) -> `features.{j}.rest`. */
export function checkpointTrunkKey(key: string): string | undefined {
  const m = /^net\.slice\d+\.(\d+\..+)$/.exec(key);
  return m ? `features.${m[1]}` : undefined;
}

/**
 * The trunk stored in a training checkpoint (`tune`/`scratch` runs save `net.slice{i}.{j}.*`),
 * checked like any trunk; `undefined` when the file holds none (`lin` runs, the shipped heads).
 * The reference's `model_path` loads such a trunk too (`load_state_dict(strict=False)`).
 */
export async function loadCheckpointTrunk(a: Arch, path: string): Promise<WeightMap | undefined> {
  const raw = await readPthFile(path);
  const tensors = new Map(
    [...raw].flatMap(([k, t]) => {
      const key = checkpointTrunkKey(k);
      return key ? [[key, t] as const] : [];
    }),
  );
  if (tensors.size === 0) return undefined;
  return await checked(path, tensors, trunkTensorSpec(a), undefined);
}

/** The `lin{k}.model.1.weight` heads of `version`. Other tensors in the file are ignored. */
export async function loadLinWeights(
  a: Arch,
  version: string,
  src: WeightSource,
): Promise<WeightMap> {
  const name = linFileName(a.net, version);
  const file = await resolveFile(name, src);
  const raw = await readPthFile(file);
  const spec = linTensorSpec(a);
  const tensors = new Map([...raw].filter(([k]) => /^lin\d+\.model\./.test(k)));
  const heads = await checked(file, tensors, spec, pins(name, src));
  checkHeadsBounded(file, heads);
  return heads;
}

/**
 * LPIPS distances are finite and >= 0 only if every head weight is >= 0 (the reference's training
 * clamps them so) and the distance cannot overflow float32: each layer adds at most
 * `4 * max(w)` (unit-normalised features differ by at most 2 per pixel, docs/algorithm.md §1 step 4), so
 * `4 * sum(max w of each layer)` must stay below float32's largest value. Heads that break
 * either would give negative or infinite distances, which rank and score silently.
 */
function checkHeadsBounded(file: string, heads: WeightMap): void {
  let bound = 0;
  for (const [key, w] of heads) {
    let max = 0;
    for (let i = 0; i < w.length; i++) {
      if (w[i] < 0) {
        throw new WeightsError(
          `${file}: tensor ${key} has a negative weight (${w[i]}) at flat index ${i}; LPIPS ` +
            "heads are >= 0, so that distances are >= 0",
        );
      }
      if (w[i] > max) max = w[i];
    }
    bound += 4 * max;
  }
  if (!(bound < FLOAT32_MAX)) {
    throw new WeightsError(
      `${file}: head weights too large (a distance could reach ${bound.toPrecision(3)}, over ` +
        "float32's largest value 3.40e+38)",
    );
  }
}

const FLOAT32_MAX = 3.4028234663852886e38;

/** Files found by their official name must hold the official tensors; explicit paths need not. */
function pins(name: string, src: WeightSource): Readonly<Record<string, string>> | undefined {
  return src.path ? undefined : pinnedTensorHashes(name);
}

async function checked(
  file: string,
  tensors: Map<string, PthTensor>,
  spec: { key: string; shape: number[] }[],
  pinned: Readonly<Record<string, string>> | undefined,
): Promise<WeightMap> {
  const floats = new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: toFloat32(t) }]));
  await checkTensors(file, floats, spec, { pinned });
  return new Map([...floats].map(([k, t]) => [k, t.data]));
}
