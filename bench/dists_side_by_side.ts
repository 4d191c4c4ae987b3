/**
 * Per-pair time of DISTS, ours (`DISTS.score` on decoded images: resize, conversion and the ONNX
 * Runtime graph) beside the official PyTorch code (`prepare_image` on decoded PIL images and the
 * forward), both on 2 threads, at 256x256 and 512x384 (crops of the TID2013 pair I03 of the
 * shared test images; 512x384 with the official resize to 256 px on the shorter side and
 * without). Runs alternate, ours then theirs, so that a busy machine slows both alike; the ratio
 * is of the medians. The VGG16 is the test data's random one (same arithmetic, same time).
 *
 *     deno run -A bench/dists_side_by_side.ts [ROUNDS]
 *
 * @module
 */
import { encode } from "fast-png";
import { readImage, type RGBImage } from "../bappsloader/image.ts";
import { DISTS } from "../lpips/dists.ts";
import { testData } from "../_internal/test_data.ts";

const rounds = Number(Deno.args[0] ?? 5);
const here = new URL(".", import.meta.url).pathname;

function crop(img: RGBImage, w: number, h: number): RGBImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    data.set(img.data.subarray(y * img.width * 3, (y * img.width + w) * 3), y * w * 3);
  }
  return { width: w, height: h, data };
}

const vgg = testData("weights", "vgg16-random-seed0.pth");
const worker = new Deno.Command("/usr/bin/python3", {
  args: [`${here}dists_torch.py`, testData("metric-references", "dists"), vgg],
  stdin: "piped",
  stdout: "piped",
}).spawn();
const chunks = worker.stdout.pipeThrough(new TextDecoderStream())[Symbol.asyncIterator]();
let pending = "";
/** The worker's next line. */
async function nextLine(): Promise<string> {
  while (!pending.includes("\n")) {
    const { value, done } = await chunks.next();
    if (done) throw new Error("the PyTorch worker stopped");
    pending += value;
  }
  const at = pending.indexOf("\n");
  const line = pending.slice(0, at);
  pending = pending.slice(at + 1);
  return line;
}
const writer = worker.stdin.getWriter();
async function theirs(a: string, b: string, resize: boolean): Promise<[number, number]> {
  await writer.write(new TextEncoder().encode(`${a}\t${b}\t${resize ? 1 : 0}\n`));
  const [ms, score] = (await nextLine()).split("\t").map(Number);
  return [ms, score];
}

const ref = await readImage(testData("images", "tid_I03_ref.png"));
const dist = await readImage(testData("images", "tid_I03_dist.png"));
const dir = await Deno.makeTempDir({ prefix: "dists-bench-" });
const models = new Map<boolean, DISTS>();
for (const resize of [true, false]) {
  models.set(
    resize,
    await DISTS.create({ trunkPath: vgg, weightsDir: testData("weights"), threads: 2, resize }),
  );
}
const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
const range = (v: number[]) => `${Math.min(...v).toFixed(0)}-${Math.max(...v).toFixed(0)} ms`;
try {
  for (const [w, h, resize] of [[256, 256, true], [512, 384, true], [512, 384, false]] as const) {
    const a = crop(ref, w, h), b = crop(dist, w, h);
    const files = [`${dir}/ref_${w}.png`, `${dir}/dist_${w}.png`];
    await Deno.writeFile(files[0], encode({ ...a, channels: 3, depth: 8 }));
    await Deno.writeFile(files[1], encode({ ...b, channels: 3, depth: 8 }));
    const d = models.get(resize)!;
    const [warm] = await d.score(a, b); // warm-up: first run of a size
    const [, official] = await theirs(files[0], files[1], resize);
    const ours: number[] = [], torch: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      await d.score(a, b);
      ours.push(performance.now() - t0);
      torch.push((await theirs(files[0], files[1], resize))[0]);
    }
    console.log(
      `${w}x${h}${resize ? "" : " --no-resize"}: ours ${range(ours)}, official PyTorch ` +
        `${range(torch)} (${rounds} runs each; median ratio ours/official ` +
        `${(median(ours) / median(torch)).toFixed(2)}; scores ${warm.toFixed(6)} vs ${
          official.toFixed(6)
        })`,
    );
  }
} finally {
  for (const d of models.values()) await d.dispose();
  await writer.close();
  await worker.status;
  await Deno.remove(dir, { recursive: true });
}
