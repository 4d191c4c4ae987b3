/**
 * LPIPS throughput per engine: `deno task bench bench/lpips_bench.ts` (add `--filter alex` etc.).
 * One case = one `distance()` call on a batch of pairs (LPIPS v0.1, calibrated); pairs/s = batch
 * size / time per iteration. Engines: `onnx` (ONNX Runtime, all cores) and `tfjs` on its `wasm`
 * backend (one thread in Deno). Sizes: 64x64 (batch 1 and 50), 256x256 and 1024x1024 (batch 1);
 * VGG at 1024x1024 on ONNX only (TF.js wasm takes minutes per pass). For ratios against PyTorch
 * run `deno task bench:torch`.
 *
 * Weights: `LPIPS_WEIGHTS_DIR`, else the test data's `weights/`; without the official VGG file the
 * test data's random-weight VGG stands in (same speed).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { ImageTensor } from "../bappsloader/image.ts";
import { LPIPS } from "../lpips/lpips.ts";
import { arch, type NetName } from "../lpips/arch.ts";

const weightsDir = Deno.env.get("LPIPS_WEIGHTS_DIR") ??
  join(Deno.env.get("LPIPS_TEST_DATA") ?? "../shared", "weights");

function trunkPath(net: NetName): string {
  const official = join(weightsDir, arch(net).trunkFile);
  return existsSync(official) || net !== "vgg"
    ? official
    : join(weightsDir, "vgg16-random-seed0.pth");
}

/** Deterministic [-1, 1] images from integer pixel values. */
function images(n: number, size: number, seed: number): ImageTensor {
  const data = new Float32Array(n * 3 * size * size);
  let s = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < data.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    data[i] = Math.fround(((s >>> 0) % 256) / 127.5 - 1);
  }
  return { data, shape: [n, 3, size, size] };
}

const sizes: [number, number][] = [[64, 1], [64, 50], [256, 1], [1024, 1]];

for (const net of ["alex", "squeeze", "vgg"] as const) {
  for (const engine of ["onnx", "tfjs"] as const) {
    const m = await LPIPS.create({
      net,
      engine,
      weightsDir,
      trunkPath: trunkPath(net),
      quiet: true,
    });
    for (const [size, batch] of sizes) {
      if (net === "vgg" && size === 1024 && engine === "tfjs") continue;
      const a = images(batch, size, 1), b = images(batch, size, 2);
      const big = size * size * batch * (net === "vgg" ? 8 : 1) >= 1024 * 1024;
      Deno.bench({
        name: `${net} ${size}x${size} b${batch} ${engine === "tfjs" ? "tfjs-wasm" : engine}`,
        group: `${net} ${size}x${size} b${batch}`,
        baseline: engine === "onnx",
        // Large cases: a few iterations are enough (each takes seconds).
        ...(big ? { n: 3, warmup: 1 } : {}),
        async fn() {
          await m.distance(a, b);
        },
      });
    }
  }
}
