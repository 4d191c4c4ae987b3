/**
 * Per-image time of LDR-FLIP, ours (`flipImage`, decoded images in, map and mean out) beside
 * NVIDIA's FLIP tool v1.6 (its own "Evaluation time", which also excludes decoding), at 256x256
 * and 512x384 (crops of the TID2013 pair I03 of the shared test images). Runs alternate, A then
 * B, so that a busy machine slows both alike.
 *
 *     deno run -A bench/flip_side_by_side.ts [FLIP_TOOL] [ROUNDS]
 *
 * FLIP_TOOL: the tool built by `../shared/metric-references/flip/build.sh` (g++ -O2 -fopenmp);
 * without it only ours is timed. The tool uses every core through OpenMP (OMP_NUM_THREADS to
 * change that); ours runs on one thread.
 *
 * @module
 */
import { encode } from "fast-png";
import { readImage, type RGBImage } from "../bappsloader/image.ts";
import { flipImage } from "../baselines/flip.ts";
import { testData } from "../_internal/test_data.ts";

const [tool, roundsArg] = Deno.args;
const rounds = Number(roundsArg ?? 5);

function crop(img: RGBImage, w: number, h: number): RGBImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    data.set(img.data.subarray(y * img.width * 3, (y * img.width + w) * 3), y * w * 3);
  }
  return { width: w, height: h, data };
}

const ref = await readImage(testData("images", "tid_I03_ref.png"));
const dist = await readImage(testData("images", "tid_I03_dist.png"));
const dir = await Deno.makeTempDir({ prefix: "flip-bench-" });
try {
  for (const [w, h] of [[256, 256], [512, 384]]) {
    const a = crop(ref, w, h), b = crop(dist, w, h);
    const files = [`${dir}/ref_${w}.png`, `${dir}/test_${w}.png`];
    await Deno.writeFile(files[0], encode({ ...a, channels: 3, depth: 8 }));
    await Deno.writeFile(files[1], encode({ ...b, channels: 3, depth: 8 }));
    flipImage(a, b); // warm-up (JIT)
    const ours: number[] = [], theirs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      flipImage(a, b);
      ours.push(performance.now() - t0);
      if (tool) {
        const out = await new Deno.Command(tool, {
          args: ["-r", files[0], "-t", files[1], "-nerm", "-v", "2"],
          stdout: "piped",
        }).output();
        const s = new TextDecoder().decode(out.stdout).match(/Evaluation time: ([0-9.]+)/);
        if (!s) throw new Error(`no evaluation time from ${tool}`);
        theirs.push(Number(s[1]) * 1000);
      }
    }
    const range = (v: number[]) =>
      v.length ? `${Math.min(...v).toFixed(0)}-${Math.max(...v).toFixed(0)} ms` : "-";
    console.log(`${w}x${h}: ours ${range(ours)}, FLIP tool ${range(theirs)} (${rounds} runs each)`);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
