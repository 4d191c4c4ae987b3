/**
 * Every weight file the metrics load, each metric's list of them, and the loaders over them: the
 * torchvision trunks (`alexnet-owt-7be5be79.pth`, `squeezenet1_1-b8a52dc0.pth`,
 * `vgg16-397923af.pth`, from `https://download.pytorch.org/models/<name>`), LPIPS's linear heads
 * (`lpips/v0.{0,1}/{alex,squeeze,vgg}.pth`, from the reference repository at
 * {@linkcode LPIPS_REPO_COMMIT}), DISTS's `alpha`/`beta` (`dists/weights.pt`, from its authors'
 * repository at {@linkcode DISTS_REPO_COMMIT}) and the README's example images.
 *
 * Each file is one {@linkcode WeightFile} record (name, URL, hash, expected tensors, key mapping,
 * pins, extra check); {@linkcode loadWeightFile} resolves, reads and verifies any of them. The
 * official file list ({@linkcode OFFICIAL_FILES}) and the pinned-hash lookup are derived from the
 * metrics' lists ({@linkcode lpipsWeightFiles}, {@linkcode DISTS_WEIGHT_FILES}). A new metric
 * with weights adds its records and its list here, and its list to {@linkcode WEIGHT_FILES}.
 *
 * @module
 */
import {
  type Arch,
  arch,
  linTensorSpec,
  NET_NAMES,
  type NetName,
  trunkTensorSpec,
} from "./arch.ts";
import { VERSIONS, type WeightMap } from "./engine.ts";
import { readPthFile } from "./pth/pth.ts";
import { PINNED_TENSOR_SHA256 } from "./_pinned_hashes.ts";
import {
  loadWeightFile,
  type OfficialFile,
  type ResolveOptions,
  verifyWeights,
  type WeightFile,
  WeightsError,
} from "./weights.ts";

/** Commit of richzhang/PerceptualSimilarity from which heads and example images are fetched. */
export const LPIPS_REPO_COMMIT = "082bb24f84c091ea94de2867d34c4544f68e0963";

/** Commit of dingkeyan93/DISTS from which `alpha` and `beta` are fetched. */
export const DISTS_REPO_COMMIT = "1267d8cb626c98706db3697422701c56a85ebf2e";

const LPIPS_REPO =
  `https://raw.githubusercontent.com/richzhang/PerceptualSimilarity/${LPIPS_REPO_COMMIT}`;

/** Pins of the files `_pinned_hashes.ts` covers (generated from the shared tensor table). */
function generatedPins(name: string): Readonly<Record<string, string>> | undefined {
  return Object.hasOwn(PINNED_TENSOR_SHA256, name) ? PINNED_TENSOR_SHA256[name] : undefined;
}

// ---------------------------------------------------------------- trunks

/**
 * A trunk's ImageNet weights (torchvision's file): its `features.*` tensors. Full torchvision
 * files (with `classifier.*`) and files saved from `model.features` (keys without the
 * `features.` prefix) are both accepted.
 */
function trunkWeightFile(a: Arch): WeightFile {
  const name = a.trunkFile;
  const prefix = /-([0-9a-f]{8,})\.[^-]*$/.exec(name)?.[1];
  if (!prefix) throw new Error(`internal: no hash prefix in ${name}`);
  return {
    name,
    kind: "trunk",
    url: `https://download.pytorch.org/models/${name}`,
    sha256Prefix: prefix,
    tensors: trunkTensorSpec(a),
    select(raw) {
      const bare = ![...raw.keys()].some((k) => k.startsWith("features."));
      return new Map(
        [...raw].flatMap(([k, t]) =>
          bare ? [[`features.${k}`, t]] : k.startsWith("features.") ? [[k, t]] : []
        ),
      );
    },
    pinned: generatedPins(name),
  };
}

const TRUNKS: Readonly<Record<NetName, WeightFile>> = {
  alex: trunkWeightFile(arch("alex")),
  squeeze: trunkWeightFile(arch("squeeze")),
  vgg: trunkWeightFile(arch("vgg")),
};

/**
 * The official file name of a trunk's ImageNet weights (torchvision's), as LPIPS looks for it in
 * `weightsDir` / `$LPIPS_WEIGHTS_DIR` and the user cache.
 *
 * @example
 * ```ts
 * import { trunkFileName } from "@perceptual/lpips/lpips";
 * console.log(trunkFileName("squeeze")); // squeezenet1_1-b8a52dc0.pth
 * ```
 */
export function trunkFileName(net: NetName): string {
  if (!Object.hasOwn(TRUNKS, net)) {
    throw new WeightsError(`unknown network "${net}" (expected alex, squeeze or vgg)`);
  }
  return TRUNKS[net].name;
}

// ---------------------------------------------------------------- LPIPS heads

/** Official head files: name -> [size in bytes, SHA-256]. */
const HEAD_HASHES: Readonly<Record<string, readonly [number, string]>> = {
  "lpips/v0.0/alex.pth": [5455, "18720f55913d0af89042f13faa7e536a6ce1444a0914e6db9461355ece1e8cd5"],
  "lpips/v0.0/squeeze.pth": [
    10057,
    "c27abd3a0145541baa50990817df58d3759c3f8154949f42af3b59b4e042d0bf",
  ],
  "lpips/v0.0/vgg.pth": [6735, "b9e4236260c3dd988fc79d2a48d645d885afcbb21f9fd595e6744cf7419b582c"],
  "lpips/v0.1/alex.pth": [6009, "df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0"],
  "lpips/v0.1/squeeze.pth": [
    10811,
    "4a5350f23600cb79923ce65bb07cbf57dca461329894153e05a1346bd531cf76",
  ],
  "lpips/v0.1/vgg.pth": [7289, "a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868"],
};

/**
 * The official relative name of an LPIPS linear-head (`lin{k}`) file, as LPIPS looks for it below
 * `weightsDir` / `$LPIPS_WEIGHTS_DIR` and the user cache.
 *
 * @example
 * ```ts
 * import { linFileName } from "@perceptual/lpips/lpips";
 * console.log(linFileName("alex", "0.1")); // lpips/v0.1/alex.pth
 * ```
 */
export function linFileName(net: NetName, version: string = "0.1"): string {
  trunkFileName(net);
  if (!(VERSIONS as readonly string[]).includes(version)) {
    throw new WeightsError(`unknown LPIPS version "${version}" (expected 0.1 or 0.0)`);
  }
  return `lpips/v${version}/${net}.pth`;
}

/**
 * An LPIPS head file: its `lin{k}.model.1.weight` tensors (other tensors, as in a training
 * checkpoint, are ignored), each >= 0 and bounded.
 */
function headWeightFile(net: NetName, version: string): WeightFile {
  const name = linFileName(net, version);
  const [size, sha256] = HEAD_HASHES[name];
  return {
    name,
    kind: "head",
    url: `${LPIPS_REPO}/lpips/weights/v${version}/${net}.pth`,
    sha256,
    size,
    tensors: linTensorSpec(arch(net)),
    select: (raw) => new Map([...raw].filter(([k]) => /^lin\d+\.model\./.test(k))),
    pinned: generatedPins(name),
    validate: checkHeadsBounded,
  };
}

const HEADS: ReadonlyMap<string, WeightFile> = new Map(
  NET_NAMES.flatMap((net) =>
    VERSIONS.map((v) => [linFileName(net, v), headWeightFile(net, v)] as const)
  ),
);

/**
 * LPIPS distances are finite and >= 0 only if every head weight is >= 0 (the reference's training
 * clamps them so) and the distance cannot overflow float32: each layer adds at most
 * `4 * max(w)` (unit-normalised features differ by at most 2 per pixel, docs/algorithm.md §1 step
 * 4), so `4 * sum(max w of each layer)` must stay below float32's largest value. Heads that break
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

/**
 * LPIPS's weight files for a trunk and version: `[trunk, heads]`.
 *
 * @example
 * ```ts
 * import { lpipsWeightFiles } from "./weight_files.ts";
 * console.log(lpipsWeightFiles("alex", "0.1").map((f) => f.name));
 * // ["alexnet-owt-7be5be79.pth", "lpips/v0.1/alex.pth"]
 * ```
 */
export function lpipsWeightFiles(net: NetName, version: string): [WeightFile, WeightFile] {
  return [TRUNKS[net], HEADS.get(linFileName(net, version))!];
}

/** The trunk's `features.*` tensors, from `src.path` or the official file (see the module doc). */
export function loadTrunkWeights(a: Arch, src: ResolveOptions = {}): Promise<WeightMap> {
  return loadWeightFile(TRUNKS[a.net], src);
}

/** The `lin{k}.model.1.weight` heads of `version`. Other tensors in the file are ignored. */
export function loadLinWeights(
  a: Arch,
  version: string,
  src: ResolveOptions = {},
): Promise<WeightMap> {
  return loadWeightFile(lpipsWeightFiles(a.net, version)[1], src);
}

/** `net.slice{i}.{j}.rest` (how the reference's checkpoints name trunk tensors) -> `features.{j}.rest`. */
export function checkpointTrunkKey(key: string): string | undefined {
  const m = /^net\.slice\d+\.(\d+\..+)$/.exec(key);
  return m ? `features.${m[1]}` : undefined;
}

/**
 * The trunk stored in a training checkpoint (`tune`/`scratch` runs save `net.slice{i}.{j}.*`),
 * checked like any trunk (but not pinned); `undefined` when the file holds none (`lin` runs, the
 * shipped heads). The reference's `model_path` loads such a trunk too (`load_state_dict(strict=False)`).
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
  return await verifyWeights(path, TRUNKS[a.net], tensors, undefined);
}

// ---------------------------------------------------------------- DISTS

/** Channels of DISTS's six feature stages: the image itself, then VGG16's five stages. */
export const DISTS_CHANNELS: readonly number[] = [3, 64, 128, 256, 512, 512];

const ALPHA_BETA_SHAPE = [1, DISTS_CHANNELS.reduce((a, b) => a + b, 0), 1, 1]; // 1475 channels

/**
 * DISTS's `alpha`/`beta` file (`dists/weights.pt`, the `DISTS_pytorch/weights.pt` of the authors'
 * repository at {@linkcode DISTS_REPO_COMMIT}): both (1, 1475, 1, 1), >= 0 and not all zero.
 *
 * @example
 * ```ts
 * import { DISTS_WEIGHTS_FILE } from "./weight_files.ts";
 * console.log(DISTS_WEIGHTS_FILE.name, DISTS_WEIGHTS_FILE.size); // dists/weights.pt 12288
 * ```
 */
export const DISTS_WEIGHTS_FILE: WeightFile = {
  name: "dists/weights.pt",
  kind: "head",
  url: `https://raw.githubusercontent.com/dingkeyan93/DISTS/${DISTS_REPO_COMMIT}/` +
    "DISTS_pytorch/weights.pt",
  sha256: "f5e65c96230b7f6ca995691647d482237e4cab8a50c5c4a5784f219ef0748218",
  size: 12288,
  tensors: [{ key: "alpha", shape: ALPHA_BETA_SHAPE }, { key: "beta", shape: ALPHA_BETA_SHAPE }],
  pinned: {
    alpha: "f4aa5f6c7a589b704a74d3117f8f77aecd2d0b8113b5a310054864f541b8c8d2",
    beta: "6f06a5eea768f9b7f2391c3f1c069973aab1c40e4065e92b750713f95cd8c84c",
  },
  validate(file, w) {
    let sum = 0;
    for (const [key, v] of w) {
      const i = v.findIndex((x) => x < 0);
      if (i >= 0) {
        throw new WeightsError(
          `${file}: tensor ${key} has a negative weight (${v[i]}) at flat index ${i}; DISTS's ` +
            "alpha and beta are >= 0",
        );
      }
      for (const x of v) sum += x;
    }
    if (!(sum > 0)) throw new WeightsError(`${file}: alpha and beta are all zero`);
  },
};

/**
 * DISTS's weight files: `[VGG16 trunk (LPIPS-vgg's), alpha/beta]`.
 *
 * @example
 * ```ts
 * import { DISTS_WEIGHT_FILES } from "./weight_files.ts";
 * console.log(DISTS_WEIGHT_FILES.map((f) => f.name)); // ["vgg16-397923af.pth", "dists/weights.pt"]
 * ```
 */
export const DISTS_WEIGHT_FILES: readonly [WeightFile, WeightFile] = [
  TRUNKS.vgg,
  DISTS_WEIGHTS_FILE,
];

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
 * Loads DISTS's trunk and `alpha`/`beta`. The official `alpha`/`beta` found by name must be the
 * published tensors (per-tensor hash); an explicit `weightsPath` need only have their shapes, be
 * finite and non-negative, and not all zero.
 */
export async function loadDistsWeights(src: DistsWeightSource = {}): Promise<DistsWeights> {
  const { trunkPath, weightsPath, weightsDir, cacheDir, download, env, fetch, quiet } = src;
  const common = { weightsDir, cacheDir, download, env, fetch, quiet };
  const [trunkFile, alphaBetaFile] = DISTS_WEIGHT_FILES;
  const [trunk, ab] = await Promise.all([
    loadWeightFile(trunkFile, { ...common, path: trunkPath }),
    loadWeightFile(alphaBetaFile, { ...common, path: weightsPath }),
  ]);
  return { trunk, alpha: ab.get("alpha")!, beta: ab.get("beta")! };
}

// ---------------------------------------------------------------- example images and the list

/**
 * The example triplet of the LPIPS README (64x64 PNGs), used by the demo.
 *
 * @example
 * ```ts
 * import { EXAMPLE_IMAGES } from "./weight_files.ts";
 * console.log(EXAMPLE_IMAGES.join(" ")); // ex_ref.png ex_p0.png ex_p1.png
 * ```
 */
export const EXAMPLE_IMAGES: readonly ["ex_ref.png", "ex_p0.png", "ex_p1.png"] = [
  "ex_ref.png",
  "ex_p0.png",
  "ex_p1.png",
];

const IMAGE_HASHES: readonly (readonly [number, string])[] = [
  [9464, "57aff3a0aeb6ebea151411f35b4487ea130aedcac6addd91c8c015969f9df097"],
  [7518, "f44901a99c82755cfe78cdbde66579ae06cd0ebbba4a2539aa35ef96bbe703db"],
  [10078, "6ada2a42a3378bfa408027ba2d54a827c6f2cec30a0506e4f140fddaca661022"],
];

const IMAGE_FILES: readonly OfficialFile[] = EXAMPLE_IMAGES.map((name, i) => ({
  name,
  kind: "image",
  url: `${LPIPS_REPO}/imgs/${name}`,
  sha256: IMAGE_HASHES[i][1],
  size: IMAGE_HASHES[i][0],
}));

/**
 * Every weight file some metric loads (every LPIPS trunk and version, DISTS), each once, in
 * first-seen order: the files a weights folder or mirror holds.
 */
export const WEIGHT_FILES: readonly WeightFile[] = [
  ...new Map(
    [
      ...NET_NAMES.flatMap((net) => VERSIONS.flatMap((v) => lpipsWeightFiles(net, v))),
      ...DISTS_WEIGHT_FILES,
    ].map((f) => [f.name, f]),
  ).values(),
];

/**
 * Every official file this package can resolve: {@linkcode WEIGHT_FILES} and the example images.
 *
 * @example
 * ```ts
 * import { OFFICIAL_FILES } from "./weight_files.ts";
 * for (const f of OFFICIAL_FILES) console.log(f.kind, f.name);
 * ```
 */
export const OFFICIAL_FILES: readonly OfficialFile[] = [...WEIGHT_FILES, ...IMAGE_FILES];

/**
 * Looks up an official file by its relative name; an unknown name is an error listing the known
 * ones.
 *
 * @example
 * ```ts
 * import { officialFile } from "./weight_files.ts";
 * console.log(officialFile("lpips/v0.1/alex.pth").sha256); // df73285e...
 * ```
 */
export function officialFile(name: string): OfficialFile {
  const f = OFFICIAL_FILES.find((x) => x.name === name);
  if (!f) {
    throw new WeightsError(
      `unknown weight file "${name}"; known: ${OFFICIAL_FILES.map((x) => x.name).join(", ")}`,
    );
  }
  return f;
}

/**
 * Per-tensor SHA-256 pins (tensor key -> hex hash of its float32 little-endian bytes) of an
 * official weight file, or `undefined` where the file is not pinned (VGG16, whose ImageNet weights
 * could not be pinned here). {@linkcode loadWeightFile} checks them when it finds the file by name.
 *
 * @example
 * ```ts
 * import { pinnedTensorHashes } from "./weight_files.ts";
 * const pins = pinnedTensorHashes("lpips/v0.1/alex.pth");
 * console.log(Object.keys(pins ?? {})); // ["lin0.model.1.weight", ...]
 * ```
 */
export function pinnedTensorHashes(name: string): Readonly<Record<string, string>> | undefined {
  return WEIGHT_FILES.find((f) => f.name === name)?.pinned;
}
