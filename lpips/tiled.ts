/**
 * LPIPS maps of large images in bounded memory, by tiling the trunk.
 *
 * Each layer's distance map (before upsampling) is local: unit normalisation and the 1x1 head act
 * per position, and every convolution and pooling output reads a bounded window of the input. So
 * each layer's map can be computed tile by tile from overlapping input tiles, keeping only the
 * positions a tile computes exactly as the whole image would, and assembled at the layer's native
 * resolution; the result equals the untiled map up to float rounding. The geometry (strides,
 * receptive margins, alignment) is derived from {@link Arch}, never written per net.
 *
 * Exactness rests on two facts, for a tile whose input origin is a multiple of the deepest tap's
 * total stride: (1) every layer's sampling grid inside the tile is the whole image's grid shifted
 * by a whole number of positions, so tile output `j` is image output `j + origin / stride`; (2) an
 * output whose receptive window lies inside the tile reads no padding the whole image would not
 * read (a tile edge that is an image edge pads exactly as the image does).
 *
 * @module
 */
import { type Arch, type ConvLayer, layerChannels, layerSizes, tapSizes } from "./arch.ts";
import type { Nchw } from "./engine.ts";

/** How one tapped feature sits on the input grid (one axis; the trunks are square). */
export interface TapGeometry {
  /** Total stride: output `j` of the tap is anchored at input position `j * stride`. */
  stride: number;
  /** Output `j` reads input positions `j * stride - before ..= j * stride + after`. */
  before: number;
  after: number;
}

/**
 * Computes each tap's native distance map, (N, 1, h_k, w_k) row-major, for one pair of equal-shape
 * input tiles (NCHW). Engines provide this.
 */
export type LayerMapsFn = (x0: Nchw, x1: Nchw) => Promise<Float32Array[]>;

/** Per-layer native maps of a whole image, assembled from tiles. */
export interface LayerMaps {
  /** (N, 1, h_k, w_k) row-major, one per tap. */
  maps: Float32Array[];
  /** [h_k, w_k] of each tap. */
  sizes: [number, number][];
}

/** One tile along one axis: its input range and, per tap, the outputs it owns. */
export interface AxisTile {
  /** Input range [start, end). `start` is a multiple of the alignment. */
  start: number;
  end: number;
  /** Per tap: the image-level output range [from, to) this tile contributes. */
  owned: [number, number][];
}

/**
 * Largest single activation (bytes, float32, one image) a tile may produce when the tile side is
 * chosen automatically: 8 MiB (alex: tiles of 544 px plus margins), unless that would make the
 * tiles recompute more than {@link MAX_TILE_OVERHEAD} times the image (see {@link defaultTileSide}).
 * Measured at 4096 x 4096 (alex, onnx), 512 px tiles run as fast as the untiled network.
 */
export const TILE_BUDGET_BYTES = 8 * 2 ** 20;

/**
 * The most work an automatic tiling may add: (tile side + margins)^2 / tile side^2. It decides for
 * trunks whose receptive field is wide next to their activations (vgg: 496 px, squeeze: 528 px).
 */
export const MAX_TILE_OVERHEAD = 2;

/**
 * LPIPS tiles an image by default when one image's largest untiled activation would exceed this:
 * 128 MiB (alex: above about 2900 x 2900 px, squeeze 1450 x 1450, vgg 720 x 720). Smaller images
 * run in one piece, as before.
 */
export const TILE_THRESHOLD_BYTES = 128 * 2 ** 20;

/**
 * Per-tap geometry of a trunk, derived from its layers.
 *
 * @example
 * ```ts
 * import { arch } from "./arch.ts";
 * import { tapGeometry } from "./tiled.ts";
 * console.log(tapGeometry(arch("alex"))[0]); // { stride: 4, before: 2, after: 8 }
 * ```
 */
export function tapGeometry(a: Arch): TapGeometry[] {
  let g: TapGeometry = { stride: 1, before: 0, after: 0 };
  const out: TapGeometry[] = [];
  a.layers.forEach((layer, i) => {
    switch (layer.op) {
      case "conv":
        g = through(g, layer.kernel, layer.stride, layer.pad);
        break;
      case "maxpool":
        g = through(g, layer.kernel, layer.stride, 0);
        break;
      case "fire": {
        // Both expand branches read the squeeze output; the wider window bounds the concat.
        const sq = throughConv(g, layer.squeeze);
        const e1 = throughConv(sq, layer.expand1x1), e3 = throughConv(sq, layer.expand3x3);
        if (e1.stride !== e3.stride) throw new Error("fire branches with different strides");
        g = {
          stride: e1.stride,
          before: Math.max(e1.before, e3.before),
          after: Math.max(e1.after, e3.after),
        };
        break;
      }
    }
    if (a.taps.includes(i)) out.push(g);
  });
  return out;
}

/** A window of `kernel` positions every `stride`, starting `pad` before the anchor. */
function through(g: TapGeometry, kernel: number, stride: number, pad: number): TapGeometry {
  return {
    stride: g.stride * stride,
    before: pad * g.stride + g.before,
    after: (kernel - 1 - pad) * g.stride + g.after,
  };
}

function throughConv(g: TapGeometry, c: ConvLayer): TapGeometry {
  return through(g, c.kernel, c.stride, c.pad);
}

/** Tile margins of a trunk: alignment of tile origins and the overlap needed on each side. */
export interface TileMargins {
  /** Tile origins are multiples of this (the deepest tap's total stride; all others divide it). */
  align: number;
  /** Input positions a tile reaches before its owned range (a multiple of `align`). */
  before: number;
  /** Input positions a tile reaches after its owned range. */
  after: number;
}

/**
 * The alignment and overlap that make every tile's owned outputs exact.
 *
 * @example
 * ```ts
 * import { arch } from "./arch.ts";
 * import { tileMargins } from "./tiled.ts";
 * console.log(tileMargins(arch("alex"))); // { align: 16, before: 80, after: 96 }
 * ```
 */
export function tileMargins(a: Arch): TileMargins {
  const geo = tapGeometry(a);
  const align = Math.max(...geo.map((g) => g.stride));
  if (geo.some((g) => align % g.stride !== 0)) {
    throw new Error(`tap strides ${geo.map((g) => g.stride)} do not divide each other`);
  }
  const before = Math.max(...geo.map((g) => g.before));
  return {
    align,
    before: Math.ceil(before / align) * align,
    after: Math.max(...geo.map((g) => g.after)),
  };
}

/**
 * Bytes of the largest activation (float32, one image) of the trunk on an h x w input.
 *
 * @example
 * ```ts
 * import { arch } from "./arch.ts";
 * import { largestActivationBytes } from "./tiled.ts";
 * console.log(largestActivationBytes(arch("alex"), 64, 64)); // 57600: 64 channels x 15 x 15 x 4
 * ```
 */
export function largestActivationBytes(a: Arch, h: number, w: number): number {
  const hs = layerSizes(a, h), ws = layerSizes(a, w);
  let max = 3 * h * w;
  layerChannels(a).forEach((c, i) => max = Math.max(max, c * hs[i] * ws[i]));
  return 4 * max;
}

/**
 * The tile side (owned input positions per tile, a multiple of the alignment) chosen when none is
 * given: the largest whose tiles, margins included, keep every activation within `budget` bytes,
 * or, if larger, the smallest whose margins add at most {@link MAX_TILE_OVERHEAD} times the work.
 *
 * @example
 * ```ts
 * import { arch, defaultTileSide } from "@perceptual/lpips/lpips";
 * console.log(defaultTileSide(arch("alex")), defaultTileSide(arch("vgg"))); // 544 496
 * ```
 */
export function defaultTileSide(a: Arch, budget = TILE_BUDGET_BYTES): number {
  const m = tileMargins(a);
  const extent = (side: number) => side + m.before + m.after;
  let side = m.align;
  while (largestActivationBytes(a, extent(side + m.align), extent(side + m.align)) <= budget) {
    side += m.align;
  }
  while ((extent(side) / side) ** 2 > MAX_TILE_OVERHEAD) side += m.align;
  return side;
}

/**
 * Whether LPIPS tiles an h x w input by default: when one image's largest activation would exceed
 * {@link TILE_THRESHOLD_BYTES}.
 *
 * @example
 * ```ts
 * import { arch, needsTiling } from "@perceptual/lpips/lpips";
 * console.log(needsTiling(arch("alex"), 2048, 2048), needsTiling(arch("alex"), 4096, 4096)); // false true
 * ```
 */
export function needsTiling(a: Arch, h: number, w: number): boolean {
  return largestActivationBytes(a, h, w) > TILE_THRESHOLD_BYTES;
}

/**
 * Splits one axis of `size` input positions into tiles of `side` owned positions (rounded up to
 * the alignment), each widened by the margins. Every output of every tap is owned by exactly one
 * tile. `minExtent`: the smallest input a tile may have (the trunk's minimum input size).
 *
 * @example
 * ```ts
 * import { arch } from "./arch.ts";
 * import { tileAxis } from "./tiled.ts";
 * const tiles = tileAxis(arch("alex"), 320, 96);
 * console.log(tiles.map((t) => [t.start, t.end])); // [[0, 192], [16, 288], [112, 320], [208, 320]]
 * ```
 */
export function tileAxis(a: Arch, size: number, side: number, minExtent = 1): AxisTile[] {
  const geo = tapGeometry(a);
  const m = tileMargins(a);
  const step = Math.max(m.align, Math.ceil(side / m.align) * m.align);
  let count = Math.max(1, Math.ceil(size / step));
  // A last tile too small for the trunk is merged into the one before it.
  while (count > 1 && size - Math.max(0, (count - 1) * step - m.before) < minExtent) count--;
  const outSizes = tapSizes(a, size);
  return Array.from({ length: count }, (_, i) => {
    const last = i === count - 1;
    const start = Math.max(0, i * step - m.before);
    const end = last ? size : Math.min(size, (i + 1) * step + m.after);
    const owned = geo.map((g, k): [number, number] => [
      Math.min(outSizes[k], Math.ceil((i * step) / g.stride)),
      last ? outSizes[k] : Math.min(outSizes[k], Math.ceil(((i + 1) * step) / g.stride)),
    ]);
    return { start, end, owned };
  });
}

/**
 * Each tap's native distance map of a whole (N, 3, H, W) pair, computed tile by tile with `run`
 * (see the module doc for why the result is exact). Memory beyond the inputs and the native maps:
 * one pair of input tiles and what `run` needs for it.
 *
 * @example
 * ```ts
 * import { arch, tapSizes } from "./arch.ts";
 * import type { Nchw } from "./engine.ts";
 * import { tiledLayerMaps } from "./tiled.ts";
 * const alex = arch("alex");
 * // A stand-in engine giving zero maps of the right sizes (LPIPS passes its onnx or tfjs engine).
 * const run = (x: Nchw) => {
 *   const hs = tapSizes(alex, x.shape[2]), ws = tapSizes(alex, x.shape[3]);
 *   return Promise.resolve(hs.map((h, k) => new Float32Array(h * ws[k])));
 * };
 * const x = { data: new Float32Array(3 * 512 * 512), shape: [1, 3, 512, 512] };
 * const { sizes } = await tiledLayerMaps(alex, x, x, 256, run);
 * console.log(sizes[0]); // [127, 127]
 * ```
 */
export async function tiledLayerMaps(
  a: Arch,
  x0: Nchw,
  x1: Nchw,
  side: number,
  run: LayerMapsFn,
  minExtent = 1,
): Promise<LayerMaps> {
  const [n, c, h, w] = x0.shape;
  const geo = tapGeometry(a);
  const rows = tileAxis(a, h, side, minExtent), cols = tileAxis(a, w, side, minExtent);
  const sizes = a.taps.map((_, k): [number, number] => [
    rows[rows.length - 1].owned[k][1],
    cols[cols.length - 1].owned[k][1],
  ]);
  const maps = sizes.map(([hk, wk]) => new Float32Array(n * hk * wk));
  for (const rt of rows) {
    for (const ct of cols) {
      const t0 = crop(x0, n, c, h, w, rt, ct), t1 = crop(x1, n, c, h, w, rt, ct);
      const tileMaps = await run(t0, t1);
      const ths = tapSizes(a, rt.end - rt.start), tws = tapSizes(a, ct.end - ct.start);
      geo.forEach((g, k) => {
        const [hk, wk] = sizes[k];
        const th = ths[k], tw = tws[k];
        const m = tileMaps[k];
        if (m.length !== n * th * tw) {
          throw new Error(`tile map ${k}: ${m.length} values, expected ${n}x${th}x${tw}`);
        }
        const [r0, r1] = rt.owned[k], [c0, c1] = ct.owned[k];
        const dr = rt.start / g.stride, dc = ct.start / g.stride;
        if (r1 - dr > th || c1 - dc > tw) throw new Error(`tile ${k} does not cover what it owns`);
        for (let b = 0; b < n; b++) {
          for (let y = r0; y < r1; y++) {
            const src = (b * th + (y - dr)) * tw - dc;
            maps[k].set(m.subarray(src + c0, src + c1), (b * hk + y) * wk + c0);
          }
        }
      });
    }
  }
  return { maps, sizes };
}

/** Copies the (rows x cols) window of an NCHW array. */
function crop(
  x: Nchw,
  n: number,
  c: number,
  h: number,
  w: number,
  rt: AxisTile,
  ct: AxisTile,
): Nchw {
  const th = rt.end - rt.start, tw = ct.end - ct.start;
  if (th === h && tw === w) return x;
  const out = new Float32Array(n * c * th * tw);
  for (let p = 0; p < n * c; p++) {
    for (let y = 0; y < th; y++) {
      const src = (p * h + rt.start + y) * w + ct.start;
      out.set(x.data.subarray(src, src + tw), (p * th + y) * tw);
    }
  }
  return { data: out, shape: [n, c, th, tw] };
}
