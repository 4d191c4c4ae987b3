/**
 * DISTS's two weight files and how they are loaded: the VGG16 trunk it shares with LPIPS-vgg
 * (torchvision's `vgg16-397923af.pth`, found and checked as LPIPS finds it) and its own `alpha`
 * and `beta` (`dists/weights.pt`, the `DISTS_pytorch/weights.pt` of the authors' repository at a
 * pinned commit). Both go through {@linkcode resolveFile} (explicit path, `weightsDir` /
 * `$LPIPS_WEIGHTS_DIR`, the user cache, a download) and the safe .pth reader, and every tensor
 * through {@linkcode checkTensors} (docs/algorithm.md §13).
 *
 * @module
 */
import { arch } from "./arch.ts";
import { loadTrunkWeights, type WeightSource } from "./load_weights.ts";
import { readPthFile, toFloat32 } from "./pth/pth.ts";
import type { WeightMap } from "./engine.ts";
import {
  checkTensors,
  type OfficialFile,
  resolveFile,
  type ResolveOptions,
  WeightsError,
} from "./weights.ts";

/** Commit of dingkeyan93/DISTS from which `alpha` and `beta` are fetched. */
export const DISTS_REPO_COMMIT = "1267d8cb626c98706db3697422701c56a85ebf2e";

/** Channels of DISTS's six feature stages: the image itself, then VGG16's five stages. */
export const DISTS_CHANNELS: readonly number[] = [3, 64, 128, 256, 512, 512];

const TOTAL_CHANNELS = DISTS_CHANNELS.reduce((a, b) => a + b, 0); // 1475

/**
 * DISTS's `alpha`/`beta` file: its relative name under a weights folder (`dists/weights.pt`), its
 * official URL at {@linkcode DISTS_REPO_COMMIT}, the SHA-256 a download must have and its size.
 *
 * @example
 * ```ts
 * import { DISTS_WEIGHTS_FILE } from "./dists_weights.ts";
 * console.log(DISTS_WEIGHTS_FILE.name, DISTS_WEIGHTS_FILE.size); // dists/weights.pt 12288
 * ```
 */
export const DISTS_WEIGHTS_FILE: OfficialFile = {
  name: "dists/weights.pt",
  kind: "head",
  url: `https://raw.githubusercontent.com/dingkeyan93/DISTS/${DISTS_REPO_COMMIT}/` +
    "DISTS_pytorch/weights.pt",
  sha256: "f5e65c96230b7f6ca995691647d482237e4cab8a50c5c4a5784f219ef0748218",
  size: 12288,
};

/** SHA-256 of each official tensor's float32 little-endian bytes. */
const PINNED: Readonly<Record<string, string>> = {
  alpha: "f4aa5f6c7a589b704a74d3117f8f77aecd2d0b8113b5a310054864f541b8c8d2",
  beta: "6f06a5eea768f9b7f2391c3f1c069973aab1c40e4065e92b750713f95cd8c84c",
};

/**
 * Where DISTS looks for its two files: explicit paths, else `weightsDir` (else
 * `$LPIPS_WEIGHTS_DIR`), else the user cache, else a download into it (docs/algorithm.md §13.2).
 */
export interface DistsWeightSource {
  /** An explicit VGG16 file (torchvision layout) instead of `vgg16-397923af.pth`. */
  trunkPath?: string;
  /** An explicit `alpha`/`beta` file instead of `dists/weights.pt` (not hash-pinned). */
  weightsPath?: string;
  /** Folder with the files under their official names (overrides `LPIPS_WEIGHTS_DIR`). */
  weightsDir?: string;
  /** Cache folder (overrides `$XDG_CACHE_HOME/lpips` and `~/.cache/lpips`). */
  cacheDir?: string;
  /** When `false`, a file found nowhere is an error instead of a download. Default `true`. */
  download?: boolean;
  /** No progress bar while downloading. */
  quiet?: boolean;
  /** Environment to read instead of `Deno.env` (replaces it entirely). */
  env?: Readonly<Record<string, string | undefined>>;
  /** `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
}

/** DISTS's loaded weights. */
export interface DistsWeights {
  /** The VGG16 `features.*` tensors. */
  trunk: WeightMap;
  /** `alpha` (1475 values, one per channel of the six stages), as stored. */
  alpha: Float32Array;
  /** `beta`, likewise. */
  beta: Float32Array;
}

/**
 * Loads the trunk and `alpha`/`beta`. The official `alpha`/`beta` found by name must be the
 * published tensors (per-tensor hash); an explicit `weightsPath` need only have their shapes, be
 * finite and non-negative, and not all zero.
 */
export async function loadDistsWeights(src: DistsWeightSource = {}): Promise<DistsWeights> {
  const common = {
    weightsDir: src.weightsDir,
    cacheDir: src.cacheDir,
    download: src.download,
    env: src.env,
    fetch: src.fetch,
    quiet: src.quiet,
  };
  const [trunk, ab] = await Promise.all([
    loadTrunkWeights(arch("vgg"), { ...common, path: src.trunkPath } as WeightSource),
    loadAlphaBeta({ ...common, path: src.weightsPath }),
  ]);
  return { trunk, ...ab };
}

async function loadAlphaBeta(
  opts: ResolveOptions,
): Promise<{ alpha: Float32Array; beta: Float32Array }> {
  const file = await resolveFile(DISTS_WEIGHTS_FILE, opts);
  const raw = await readPthFile(file);
  const tensors = new Map([...raw].map(([k, t]) => [k, { shape: t.shape, data: toFloat32(t) }]));
  const shape = [1, TOTAL_CHANNELS, 1, 1];
  await checkTensors(file, tensors, [{ key: "alpha", shape }, { key: "beta", shape }], {
    pinned: opts.path === undefined ? PINNED : undefined,
  });
  const alpha = tensors.get("alpha")!.data, beta = tensors.get("beta")!.data;
  let sum = 0;
  for (const [key, w] of [["alpha", alpha], ["beta", beta]] as const) {
    const i = w.findIndex((v) => v < 0);
    if (i >= 0) {
      throw new WeightsError(
        `${file}: tensor ${key} has a negative weight (${w[i]}) at flat index ${i}; DISTS's ` +
          "alpha and beta are >= 0",
      );
    }
    for (const v of w) sum += v;
  }
  if (!(sum > 0)) throw new WeightsError(`${file}: alpha and beta are all zero`);
  return { alpha, beta };
}
