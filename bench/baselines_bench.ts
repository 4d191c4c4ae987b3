/**
 * Throughput of the baselines: `deno task bench bench/baselines_bench.ts`. Each case scores one
 * batch; pairs/s = batch size / time per iteration (64x64: batch 50, 512x512: batch 1).
 */
import type { ImageTensor } from "../bappsloader/image.ts";
import { dssim, l2, psnr, ssim } from "../baselines/mod.ts";

/** A smooth image plus noise (so SSIM is mid-range), as [-1, 1] NCHW from integer pixels. */
function image(h: number, w: number, seed: number, n: number): ImageTensor {
  const data = new Float32Array(n * 3 * h * w);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const p = i % (h * w);
    const u = Math.round(128 + 80 * Math.sin(p / 37) + ((s >>> 0) % 40) - 20);
    data[i] = Math.min(255, Math.max(0, u)) / 127.5 - 1;
  }
  return { data, shape: [n, 3, h, w] };
}

const metrics: [string, (a: ImageTensor, b: ImageTensor) => unknown][] = [
  ["l2 RGB", (a, b) => l2(a, b, { colorspace: "RGB" })],
  ["l2 Lab", (a, b) => l2(a, b, { colorspace: "Lab" })],
  ["dssim paper RGB", (a, b) => dssim(a, b, { colorspace: "RGB" })],
  ["dssim paper Lab", (a, b) => dssim(a, b, { colorspace: "Lab" })],
  ["ssim gaussian RGB", (a, b) => ssim(a, b, { colorspace: "RGB", preset: "gaussian" })],
  ["psnr", (a, b) => psnr(a, b)],
];

for (const [h, w, batch] of [[64, 64, 50], [512, 512, 1]]) {
  const a = image(h, w, 1, batch), b = image(h, w, 2, batch);
  for (const [name, f] of metrics) {
    Deno.bench({
      name: `${name} ${h}x${w} batch ${batch}`,
      group: `${h}x${w}`,
      fn: () => void f(a, b),
    });
  }
}
