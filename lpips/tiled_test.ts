import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { arch, type Layer, minInputSize, NET_NAMES, tapSizes } from "./arch.ts";
import {
  defaultTileSide,
  largestActivationBytes,
  MAX_TILE_OVERHEAD,
  needsTiling,
  tapGeometry,
  TILE_BUDGET_BYTES,
  TILE_THRESHOLD_BYTES,
  tileAxis,
  tileMargins,
} from "./tiled.ts";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { LPIPS, type LPIPSOptions } from "./lpips.ts";
import type { ImageTensor } from "../bappsloader/image.ts";

/**
 * Brute force, one axis: for every output of every layer, the input positions it reads (window
 * by window, padding dropped) and whether any window reached padding or a ceil-mode overhang.
 */
function dependencies(layers: Layer[], taps: number[], size: number) {
  type Dep = { lo: number; hi: number; padded: boolean };
  let deps: Dep[] = Array.from({ length: size }, (_, i) => ({ lo: i, hi: i, padded: false }));
  const window = (d: Dep[], kernel: number, stride: number, pad: number, count: number) =>
    Array.from({ length: count }, (_, j) => {
      const out = { lo: Infinity, hi: -Infinity, padded: false };
      for (let t = 0; t < kernel; t++) {
        const p = j * stride - pad + t;
        if (p < 0 || p >= d.length) out.padded = true;
        else {
          out.lo = Math.min(out.lo, d[p].lo);
          out.hi = Math.max(out.hi, d[p].hi);
          out.padded ||= d[p].padded;
        }
      }
      return out;
    });
  const conv = (d: Dep[], k: number, s: number, p: number) =>
    window(d, k, s, p, Math.max(0, Math.floor((d.length + 2 * p - k) / s) + 1));
  const result: Dep[][] = [];
  layers.forEach((l, i) => {
    if (l.op === "conv") deps = conv(deps, l.kernel, l.stride, l.pad);
    else if (l.op === "maxpool") {
      const n = deps.length;
      // PyTorch's rule: ceil mode drops a last window that would start past the input.
      let count = (l.ceil ? Math.ceil : Math.floor)((n - l.kernel) / l.stride) + 1;
      if (l.ceil && (count - 1) * l.stride >= n) count--;
      deps = window(deps, l.kernel, l.stride, 0, n < l.kernel ? 0 : count);
    } else if (l.op === "fire") {
      const sq = conv(deps, l.squeeze.kernel, l.squeeze.stride, l.squeeze.pad);
      const e1 = conv(sq, l.expand1x1.kernel, 1, l.expand1x1.pad);
      const e3 = conv(sq, l.expand3x3.kernel, 1, l.expand3x3.pad);
      deps = e1.map((a, j) => ({
        lo: Math.min(a.lo, e3[j].lo),
        hi: Math.max(a.hi, e3[j].hi),
        padded: a.padded || e3[j].padded,
      }));
    }
    if (taps.includes(i)) result.push(deps);
  });
  return result;
}

Deno.test("tap geometry: each tap's window, derived from arch.ts, is what brute force reads", () => {
  for (const net of NET_NAMES) {
    const a = arch(net);
    const geo = tapGeometry(a);
    assert.equal(geo.length, a.taps.length);
    for (const size of [minInputSize(a), 97, 160, 203]) {
      const deps = dependencies(a.layers, a.taps, size);
      assert.deepEqual(deps.map((d) => d.length), tapSizes(a, size), `${net} ${size}`);
      deps.forEach((d, k) => {
        const { stride, before, after } = geo[k];
        d.forEach((dep, j) => {
          const lo = j * stride - before, hi = j * stride + after;
          const where = `${net} size ${size} tap ${k} output ${j}`;
          // Inside the image the derived window is exact; at an edge it reaches past it.
          assert.ok(lo <= dep.lo && dep.hi <= hi, where);
          if (!dep.padded) assert.deepEqual([lo, hi], [dep.lo, dep.hi], where);
          else assert.ok(lo < 0 || hi >= size, `${where} reads padding inside the image`);
        });
      });
    }
  }
});

Deno.test("tile margins: origins aligned to the deepest stride, overlap covers every window", () => {
  for (const net of NET_NAMES) {
    const a = arch(net);
    const m = tileMargins(a);
    const geo = tapGeometry(a);
    assert.equal(m.align, geo[geo.length - 1].stride, net);
    assert.equal(m.before % m.align, 0);
    for (const g of geo) {
      assert.equal(m.align % g.stride, 0);
      assert.ok(m.before >= g.before && m.after >= g.after, net);
    }
  }
});

Deno.test("tileAxis: every tap output owned once, by a tile that computes it exactly", () => {
  for (const net of NET_NAMES) {
    const a = arch(net);
    const geo = tapGeometry(a);
    const { align } = tileMargins(a);
    const min = minInputSize(a);
    for (const size of [min, 40, 100, 256, 320, 333, 1000]) {
      for (const side of [1, 17, 48, 64, 200]) {
        const tiles = tileAxis(a, size, side, min);
        const want = tapSizes(a, size);
        const where = `${net} size ${size} side ${side}`;
        tiles.forEach((t, i) => {
          assert.equal(t.start % align, 0, where);
          assert.ok(t.end - t.start >= Math.min(size, min), where);
          if (i === 0) assert.equal(t.start, 0, where);
          if (i === tiles.length - 1) assert.equal(t.end, size, where);
        });
        geo.forEach((g, k) => {
          let next = 0;
          for (const t of tiles) {
            const [from, to] = t.owned[k];
            assert.equal(from, next, `${where} tap ${k}: owned ranges must tile the output`);
            next = to;
            for (let j = from; j < to; j++) {
              // Inside the tile, or past an edge the tile shares with the image.
              assert.ok(j * g.stride - g.before >= t.start || t.start === 0, where);
              assert.ok(j * g.stride + g.after < t.end || t.end === size, where);
            }
            // The tile computes output j as its own output j - start / stride.
            assert.ok(to - t.start / g.stride <= tapSizes(a, t.end - t.start)[k], where);
          }
          assert.equal(next, want[k], `${where} tap ${k}`);
        });
      }
    }
  }
});

Deno.test("default tile side: within the activation budget, or bounded overhead if larger", () => {
  for (const net of NET_NAMES) {
    const a = arch(net);
    const side = defaultTileSide(a);
    const m = tileMargins(a);
    const bytes = (s: number) =>
      largestActivationBytes(a, s + m.before + m.after, s + m.before + m.after);
    const overhead = (s: number) => ((s + m.before + m.after) / s) ** 2;
    assert.equal(side % m.align, 0);
    if (bytes(side) <= TILE_BUDGET_BYTES) {
      // The largest side within the budget (unless its overhead forced it larger).
      assert.ok(bytes(side + m.align) > TILE_BUDGET_BYTES || overhead(side - m.align) > 2, net);
    } else {
      // Over budget only where a smaller tile would recompute too much.
      assert.ok(
        overhead(side) <= MAX_TILE_OVERHEAD && overhead(side - m.align) > MAX_TILE_OVERHEAD,
      );
    }
    // Images run whole up to the threshold, tiled beyond it.
    const whole = Math.floor(
      Math.sqrt(TILE_THRESHOLD_BYTES / largestActivationBytes(a, 1024, 1024)) * 1024,
    );
    assert.ok(!needsTiling(a, 64, 64) && needsTiling(a, 2 * whole, 2 * whole), net);
    assert.ok(
      needsTiling(a, whole + 64, whole + 64) && !needsTiling(a, whole - 64, whole - 64),
      net,
    );
  }
  // alex: conv1 gives 64 channels at (H + 4 - 11) / 4 + 1 a side.
  assert.equal(largestActivationBytes(arch("alex"), 64, 64), 4 * 64 * 15 * 15);
});

/** A deterministic, structured (not constant) NCHW image in [-1, 1]. */
function pattern(h: number, w: number, seed: number): ImageTensor {
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = Math.sin((x * (c + 1) + seed) * 0.11) * Math.cos((y + 3 * seed) * 0.07 + c) +
          0.3 * Math.sin((x * y + seed * 7919) % 97);
        data[(c * h + y) * w + x] = Math.max(-1, Math.min(1, 0.8 * v));
      }
    }
  }
  return { data, shape: [1, 3, h, w] };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** 256 x 320, and a size that is no multiple of the stride on either axis. */
const SIZES: [number, number][] = [[256, 320], [203, 150]];

async function tiledEqualsUntiled(opts: LPIPSOptions, tiles: number[], sizes = SIZES) {
  const net = opts.net as "alex" | "squeeze" | "vgg";
  const m = await LPIPS.create({
    ...opts,
    weightsDir: testData("weights"),
    trunkPath: net === "vgg" ? testData("weights", "vgg16-random-seed0.pth") : undefined,
    quiet: true,
  });
  try {
    for (const [h, w] of sizes) {
      const a = pattern(h, w, 1), b = pattern(h, w, 2);
      const full = await m.distance(a, b, { spatial: true, perLayer: true, tile: false });
      const scalar = await m.distance(a, b, { perLayer: true, tile: false });
      for (const tile of tiles) {
        const where = `${net} ${m.engine} ${h}x${w} tile ${tile}`;
        const t = await m.distance(a, b, { spatial: true, perLayer: true, tile });
        assert.deepEqual(t.map!.shape, [1, 1, h, w]);
        const d = maxAbsDiff(t.map!.data, full.map!.data);
        assert.ok(d <= 1e-5, `${where}: map differs by ${d}`);
        t.layerMaps!.forEach((l, k) => {
          const dk = maxAbsDiff(l.data, full.layerMaps![k].data);
          assert.ok(dk <= 1e-5, `${where}: layer ${k} map differs by ${dk}`);
        });
        assert.ok(Math.abs(t.distance[0] - full.distance[0]) <= 1e-5, where);
        const s = await m.distance(a, b, { perLayer: true, tile });
        assert.ok(Math.abs(s.distance[0] - scalar.distance[0]) <= 1e-5, `${where} scalar`);
        s.layers!.forEach((l, k) => assert.ok(Math.abs(l[0] - scalar.layers![k][0]) <= 1e-5));
      }
      // A map with structure, so equality is not trivially 0 = 0.
      assert.ok(full.distance[0] > 1e-3 && maxAbsDiff(full.map!.data, new Float32Array(h * w)) > 0);
    }
  } finally {
    m.dispose();
  }
}

for (const net of ["alex", "squeeze"] as const) {
  Deno.test({
    ...needsTestData(`tiled map equals the untiled map within 1e-5 (${net}, onnx engine)`),
    fn: () => tiledEqualsUntiled({ net, engine: "onnx" }, [48, 96]),
  });
}

// VGG reads 212 px around each output, so every tile is nearly the whole image: one small size
// keeps the test quick while still crossing tile boundaries on both axes.
Deno.test({
  ...needsTestData("tiled map equals the untiled map within 1e-5 (vgg, onnx engine)"),
  fn: () => tiledEqualsUntiled({ net: "vgg", engine: "onnx" }, [96], [[150, 203]]),
});

for (const net of ["alex", "squeeze"] as const) {
  Deno.test({
    ...needsTestData(`tiled map equals the untiled map within 1e-5 (${net}, tfjs wasm)`),
    fn: () => tiledEqualsUntiled({ net, engine: "tfjs", backend: "wasm" }, [64]),
  });
}

Deno.test({
  ...needsTestData("tile option: a bad value is an InputError; batches tile item by item"),
  fn: async () => {
    const t = await LPIPS.create({ weightsDir: testData("weights"), quiet: true, engine: "tfjs" });
    try {
      const before = tf.memory().numTensors;
      await t.distance(pattern(64, 96, 5), pattern(64, 96, 6), { spatial: true, tile: 32 });
      assert.equal(tf.memory().numTensors, before, "the tiled tfjs path frees its tensors");
    } finally {
      t.dispose();
    }
    const m = await LPIPS.create({ weightsDir: testData("weights"), quiet: true, engine: "onnx" });
    try {
      const a = pattern(96, 128, 3), b = pattern(96, 128, 4);
      await assert.rejects(m.distance(a, b, { tile: 0 }), /tile must be a positive integer/);
      await assert.rejects(m.distance(a, b, { tile: 2.5 }), /tile must be a positive integer/);
      const both = (x: ImageTensor, y: ImageTensor) => ({
        data: new Float32Array([...x.data, ...y.data]),
        shape: [2, 3, 96, 128] as ImageTensor["shape"],
      });
      const batch = await m.distance(both(a, b), both(b, a), { spatial: true, tile: 32 });
      const one = await m.distance(a, b, { spatial: true, tile: false });
      const n = 96 * 128;
      assert.ok(maxAbsDiff(batch.map!.data.subarray(0, n), one.map!.data) <= 1e-5);
      assert.ok(maxAbsDiff(batch.map!.data.subarray(n), one.map!.data) <= 1e-5);
    } finally {
      m.dispose();
    }
  },
});
