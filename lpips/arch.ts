/**
 * The three LPIPS trunks as data: torchvision's `features` modules in order, their weight keys and
 * the tap points of docs/algorithm.md §1.2. Every engine builds its network from these descriptions; nothing
 * else in the package hard-codes a layer.
 *
 * @module
 */

/**
 * A trunk, the pretrained ImageNet classifier whose features LPIPS compares: `alex` (AlexNet, the
 * default), `squeeze` (SqueezeNet 1.1) or `vgg` (VGG16).
 */
export type NetName = "alex" | "squeeze" | "vgg";

/** All trunk names, in the order the reference's docs list them. */
export const NET_NAMES: readonly NetName[] = ["alex", "squeeze", "vgg"];

/** A convolution (cross-correlation, zero padding, with bias); `key` is its torchvision prefix. */
export interface ConvLayer {
  /** The layer kind. */
  op: "conv";
  /** The torchvision state-dict prefix of its `weight` and `bias`, e.g. `features.0`. */
  key: string;
  /** Input channels. */
  inChannels: number;
  /** Output channels (filters). */
  outChannels: number;
  /** Square kernel side. */
  kernel: number;
  /** Stride, both axes. */
  stride: number;
  /** Zero padding on every side. */
  pad: number;
}

/**
 * One module of a trunk's `features` list: a convolution, a ReLU, a max pool (`ceil`: PyTorch's
 * `ceil_mode`, SqueezeNet's pools round their output size up) or a SqueezeNet Fire module (a 1x1
 * squeeze convolution, then 1x1 and 3x3 expand convolutions whose outputs are concatenated).
 */
export type Layer =
  | ConvLayer
  | { op: "relu" }
  | { op: "maxpool"; kernel: number; stride: number; ceil: boolean }
  | { op: "fire"; squeeze: ConvLayer; expand1x1: ConvLayer; expand3x3: ConvLayer };

/** A trunk: its modules, the module indices whose outputs LPIPS taps, and their channel counts. */
export interface Arch {
  /** Which trunk this is. */
  net: NetName;
  /** The official torchvision file name of the ImageNet weights. */
  trunkFile: string;
  /** torchvision's `features` modules, in order (the classifier is not used). */
  layers: Layer[];
  /** Index (into `layers`) of the last module of each slice; its output is a tapped feature. */
  taps: number[];
  /** Channels of each tapped feature (the LPIPS linear heads' input sizes). */
  channels: number[];
}

function conv(
  key: string,
  inChannels: number,
  outChannels: number,
  kernel: number,
  stride = 1,
  pad = 0,
): ConvLayer {
  return { op: "conv", key, inChannels, outChannels, kernel, stride, pad };
}

const relu = { op: "relu" } as const;

function pool(kernel: number, stride: number, ceil = false): Layer {
  return { op: "maxpool", kernel, stride, ceil };
}

function fire(index: number, inC: number, s: number, e1: number, e3: number): Layer {
  const key = `features.${index}`;
  return {
    op: "fire",
    squeeze: conv(`${key}.squeeze`, inC, s, 1),
    expand1x1: conv(`${key}.expand1x1`, s, e1, 1),
    expand3x3: conv(`${key}.expand3x3`, s, e3, 3, 1, 1),
  };
}

const ALEX: Arch = {
  net: "alex",
  trunkFile: "alexnet-owt-7be5be79.pth",
  layers: [
    conv("features.0", 3, 64, 11, 4, 2),
    relu,
    pool(3, 2),
    conv("features.3", 64, 192, 5, 1, 2),
    relu,
    pool(3, 2),
    conv("features.6", 192, 384, 3, 1, 1),
    relu,
    conv("features.8", 384, 256, 3, 1, 1),
    relu,
    conv("features.10", 256, 256, 3, 1, 1),
    relu,
  ],
  taps: [1, 4, 7, 9, 11],
  channels: [64, 192, 384, 256, 256],
};

function vggLayers(): Layer[] {
  const plan: (number | "M")[] = [
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
  ];
  const layers: Layer[] = [];
  let inC = 3;
  for (const item of plan) {
    if (item === "M") {
      layers.push(pool(2, 2));
    } else {
      layers.push(conv(`features.${layers.length}`, inC, item, 3, 1, 1), relu);
      inC = item;
    }
  }
  return layers;
}

const VGG: Arch = {
  net: "vgg",
  trunkFile: "vgg16-397923af.pth",
  layers: vggLayers(),
  taps: [3, 8, 15, 22, 29],
  channels: [64, 128, 256, 512, 512],
};

const SQUEEZE: Arch = {
  net: "squeeze",
  trunkFile: "squeezenet1_1-b8a52dc0.pth",
  layers: [
    conv("features.0", 3, 64, 3, 2, 0),
    relu,
    pool(3, 2, true),
    fire(3, 64, 16, 64, 64),
    fire(4, 128, 16, 64, 64),
    pool(3, 2, true),
    fire(6, 128, 32, 128, 128),
    fire(7, 256, 32, 128, 128),
    pool(3, 2, true),
    fire(9, 256, 48, 192, 192),
    fire(10, 384, 48, 192, 192),
    fire(11, 384, 64, 256, 256),
    fire(12, 512, 64, 256, 256),
  ],
  taps: [1, 4, 7, 9, 10, 11, 12],
  channels: [64, 128, 256, 384, 384, 512, 512],
};

const ARCHS: Record<NetName, Arch> = { alex: ALEX, squeeze: SQUEEZE, vgg: VGG };

/**
 * The description of a trunk: its layers, the layers LPIPS taps, and their channel counts.
 *
 * @example
 * ```ts
 * import { arch } from "@perceptual/lpips/lpips";
 * const a = arch("alex");
 * console.log(a.taps, a.channels); // [1, 4, 7, 9, 11] [64, 192, 384, 256, 256]
 * ```
 */
export function arch(net: NetName): Arch {
  const a = ARCHS[net];
  if (!a) throw new RangeError(`unknown net "${net}" (expected one of ${NET_NAMES.join(", ")})`);
  return a;
}

/** Every convolution of a trunk, fire modules expanded, in module order. */
export function convLayers(a: Arch): ConvLayer[] {
  return a.layers.flatMap((l) =>
    l.op === "conv" ? [l] : l.op === "fire" ? [l.squeeze, l.expand1x1, l.expand3x3] : []
  );
}

/** The trunk's state-dict keys and shapes (`<key>.weight` OIHW and `<key>.bias`). */
export function trunkTensorSpec(a: Arch): { key: string; shape: number[] }[] {
  return convLayers(a).flatMap((c) => [
    { key: `${c.key}.weight`, shape: [c.outChannels, c.inChannels, c.kernel, c.kernel] },
    { key: `${c.key}.bias`, shape: [c.outChannels] },
  ]);
}

/** The linear heads' state-dict keys and shapes (`lin{k}.model.1.weight`, (1, C_k, 1, 1)). */
export function linTensorSpec(a: Arch): { key: string; shape: number[] }[] {
  return a.channels.map((c, k) => ({ key: `lin${k}.model.1.weight`, shape: [1, c, 1, 1] }));
}

/** PyTorch's output size of one pooling window sweep (floor or ceil mode, no padding). */
export function pooledSize(size: number, kernel: number, stride: number, ceil: boolean): number {
  if (size < kernel) return 0;
  if (!ceil) return Math.floor((size - kernel) / stride) + 1;
  let out = Math.ceil((size - kernel) / stride) + 1;
  if ((out - 1) * stride >= size) out--;
  return out;
}

/** Spatial size (one axis) of every module's output for an input side of `size` (0: vanished). */
export function layerSizes(a: Arch, size: number): number[] {
  let s = size;
  return a.layers.map((l) => {
    if (l.op === "conv") {
      s = s < 1 ? 0 : Math.max(0, Math.floor((s + 2 * l.pad - l.kernel) / l.stride) + 1);
    } else if (l.op === "maxpool") s = pooledSize(s, l.kernel, l.stride, l.ceil);
    else if (l.op === "fire") s = s < 1 ? 0 : s;
    return s;
  });
}

/** Channels of every module's output (the input has 3). */
export function layerChannels(a: Arch): number[] {
  let c = 3;
  return a.layers.map((l) => {
    if (l.op === "conv") c = l.outChannels;
    else if (l.op === "fire") c = l.expand1x1.outChannels + l.expand3x3.outChannels;
    return c;
  });
}

/** Spatial size of each tapped feature for an input side of `size` (0 where it vanishes). */
export function tapSizes(a: Arch, size: number): number[] {
  const sizes = layerSizes(a, size);
  return a.taps.map((i) => sizes[i]);
}

/** The smallest input side for which every tapped feature exists (alex: 31 px). */
export function minInputSize(a: Arch): number {
  let s = 1;
  while (tapSizes(a, s).some((t) => t < 1)) s++;
  return s;
}
