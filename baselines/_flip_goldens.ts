/**
 * Makes `_testing/metric_goldens/flip.json`: LDR-FLIP golden values from NVIDIA's FLIP tool v1.6 (BSD-3) for the cases of
 * `_test_data.ts` (`FLIP_CASES`). Run it through `_testing/metric_goldens/flip_goldens.sh`, which
 * builds the tool and `flip_dump.cpp` into a temporary folder:
 *
 *     deno run -A baselines/_flip_goldens.ts FLIP_TOOL FLIP_DUMP WORK_DIR
 *
 * (It lives here, beside the cases it shares with `flip_test.ts`, because `_test_data.ts` is
 * private to this folder; it is not published.)
 *
 * Each case's images are written as PNG to WORK_DIR (`flipSourcePng`: RGB, or grey); the unmodified tool prints the mean
 * (`-nerm -v 2`, 6 decimals) and `flip-dump` the whole float32 map. The two must agree, which
 * shows the dump runs the tool's path. Only numbers are stored: the mean, the map's float64 sum,
 * min and max, the means of 4 x 4 blocks, the value at the corners and at 12 seeded positions, and the whole map of images
 * of at most 100 pixels. Our `flipImage` is compared pixel by pixel on stderr, for information.
 *
 * @module
 */
import { FLIP_CASES, flipSourceImage, flipSourcePng } from "./_test_data.ts";
import { flipImage } from "./flip.ts";

const [tool, dump, work] = Deno.args;
if (!work) throw new Error("usage: _flip_goldens.ts FLIP_TOOL FLIP_DUMP WORK_DIR");
await Deno.mkdir(work, { recursive: true });

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")}: ${text}`);
  return text;
}

/** Corners, then 12 positions from a seeded LCG. */
function samplePositions(w: number, h: number, seed: number): [number, number][] {
  const pos: [number, number][] = [[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]];
  let s = seed >>> 0;
  for (let i = 0; i < 12; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const x = s % w;
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    pos.push([x, s % h]);
  }
  return pos;
}

/** Float64 means of the map over a grid of up to 4 x 4 blocks (row-major; edges in the last). */
function blockMeans(map: Float32Array, w: number, h: number): number[] {
  const bw = Math.ceil(w / Math.min(4, w)), bh = Math.ceil(h / Math.min(4, h));
  const out: number[] = [];
  for (let y0 = 0; y0 < h; y0 += bh) {
    for (let x0 = 0; x0 < w; x0 += bw) {
      let s = 0, n = 0;
      for (let y = y0; y < Math.min(h, y0 + bh); y++) {
        for (let x = x0; x < Math.min(w, x0 + bw); x++, n++) s += map[y * w + x];
      }
      out.push(s / n);
    }
  }
  return out;
}

const cases = [];
let worst = 0;
for (const [k, c] of FLIP_CASES.entries()) {
  const ref = await flipSourceImage(c.ref), test = await flipSourceImage(c.test);
  const refPng = `${work}/${c.id}.ref.png`, testPng = `${work}/${c.id}.test.png`;
  await Deno.writeFile(refPng, flipSourcePng(c.ref, ref));
  await Deno.writeFile(testPng, flipSourcePng(c.test, test));
  const ppdArgs = c.ppd === undefined ? [] : ["-ppd", c.ppd];
  const printed = await run(tool, ["-r", refPng, "-t", testPng, "-nerm", "-v", "2", ...ppdArgs]);
  const toolMean = printed.match(/Mean: ([0-9.]+)/)?.[1];
  if (!toolMean) throw new Error(`${c.id}: no mean in the tool's output:\n${printed}`);
  const mapFile = `${work}/${c.id}.f32`;
  const [mean, ppd] = (await run(dump, [refPng, testPng, c.ppd ?? "default", mapFile]))
    .trim().split(" ").map(Number);
  if (mean.toFixed(6) !== toolMean) {
    throw new Error(`${c.id}: flip-dump mean ${mean} disagrees with the tool's ${toolMean}`);
  }
  const bytes = await Deno.readFile(mapFile);
  const map = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const { width: w, height: h } = ref;
  let sum = 0, min = Infinity, max = -Infinity;
  for (const v of map) {
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const ours = flipImage(ref, test, c.ppd === undefined ? {} : { ppd: Number(c.ppd) });
  let dev = 0, differ = 0;
  for (let i = 0; i < map.length; i++) {
    const d = Math.abs(ours.map[i] - map[i]);
    if (d > 0) differ++;
    dev = Math.max(dev, d);
  }
  worst = Math.max(worst, dev);
  console.error(
    `${c.id.padEnd(22)} ${w}x${h} tool ${toolMean} mean ${mean} ours ${ours.mean} ` +
      `(diff ${Math.abs(ours.mean - mean).toExponential(1)}); map: ${differ}/${map.length} ` +
      `pixels differ, max ${dev.toExponential(2)}`,
  );
  cases.push({
    id: c.id,
    ppd: ppd,
    width: w,
    height: h,
    tool_mean: Number(toolMean),
    mean,
    map_sum: sum,
    map_min: min,
    map_max: max,
    blocks: blockMeans(map, w, h),
    samples: samplePositions(w, h, k + 1).map(([x, y]) => [x, y, map[y * w + x]]),
    ...(map.length <= 100 ? { map: Array.from(map) } : {}),
  });
}
console.error(`largest per-pixel deviation of ours: ${worst}`);
const json = {
  about: "LDR-FLIP golden values from NVIDIA's FLIP tool v1.6 (FLIP.h, BSD-3) on the cases of " +
    "baselines/_test_data.ts FLIP_CASES; made by _testing/metric_goldens/flip_goldens.sh. " +
    "tool_mean: what the tool prints (-nerm -v 2); mean: the same float32 mean to 9 digits " +
    "(flip_dump.cpp); map_*: of the float32 error map; blocks: means over a grid of up to 4 x 4 blocks of ceil(w / 4) x ceil(h / 4) pixels, row-major; samples: [x, y, value].",
  cases,
};
// Each numeric array on one line (deno fmt keeps that), arrays of them one per line.
const inline = (v: unknown) => JSON.stringify(v).replaceAll(",", ", ");
const text = JSON.stringify(json, (_k, v) => {
  if (!Array.isArray(v) || v.length === 0) return v;
  if (typeof v[0] === "number") return `\u0000${inline(v)}\u0000`;
  if (Array.isArray(v[0])) return v.map((row) => `\u0000${inline(row)}\u0000`);
  return v;
}, 2).replace(/"\\u0000(.*?)\\u0000"/g, "$1");
await Deno.writeTextFile(
  new URL("../_testing/metric_goldens/flip.json", import.meta.url),
  text + "\n",
);
