/**
 * Makes `dists_goldens.json`: builds every case of `cases.ts` from the shared images, writes the
 * inputs as PNGs to a temporary folder (never committed) and runs the official DISTS PyTorch code
 * on them through `dists_goldens.py`, with the random VGG16 of the test data (it checks the
 * arithmetic; the published scores need the ImageNet weights). Command:
 *
 *     deno run --allow-all _testing/metric_goldens/make_dists_goldens.ts
 *
 * @module
 */
import { encode } from "fast-png";
import { join } from "node:path";
import { testData } from "../../_internal/test_data.ts";
import type { RGBImage } from "../../bappsloader/image.ts";
import { buildSource, GOLDEN_CASES } from "./cases.ts";

const here = new URL(".", import.meta.url).pathname;
const tmp = await Deno.makeTempDir({ prefix: "dists_goldens_" });
const cache = new Map<string, Promise<RGBImage>>();
const lines: string[] = [];
for (const c of GOLDEN_CASES) {
  const files = [];
  for (const [kind, src] of [["ref", c.ref], ["dist", c.dist]] as const) {
    const img = await buildSource(src, cache);
    const path = join(tmp, `${c.name}_${kind}.png`);
    await Deno.writeFile(
      path,
      encode({ width: img.width, height: img.height, data: img.data, channels: 3 }),
    );
    files.push(path);
  }
  lines.push([c.name, ...files].join("\t"));
}
const list = join(tmp, "list.txt");
await Deno.writeTextFile(list, lines.join("\n") + "\n");
const out = await new Deno.Command("/usr/bin/python3", {
  args: [
    join(here, "dists_goldens.py"),
    testData("metric-references", "dists"),
    testData("weights", "vgg16-random-seed0.pth"),
    list,
  ],
  stdout: "piped",
  stderr: "inherit",
}).output();
if (!out.success) throw new Error(`dists_goldens.py failed (exit ${out.code})`);
const results = new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.startsWith("{"))
  .map((l) => JSON.parse(l));
if (results.length !== GOLDEN_CASES.length) {
  throw new Error(`dists_goldens.py printed ${results.length} results for ${GOLDEN_CASES.length}`);
}
const versions = new TextDecoder().decode(
  (await new Deno.Command("/usr/bin/python3", {
    args: [
      "-c",
      "import torch, torchvision, PIL; print(torch.__version__, torchvision.__version__, PIL.__version__)",
    ],
    stdout: "piped",
  }).output()).stdout,
).trim().split(" ");
const json = {
  about: "The official DISTS (DISTS_pytorch/DISTS_pt.py of dingkeyan93/DISTS at 1267d8c, its " +
    "weights.pt) on the cases of cases.ts with the random VGG16 weights/vgg16-random-seed0.pth, " +
    `torch ${versions[0]}, torchvision ${versions[1]}, Pillow ${
      versions[2]
    }, 2 threads; "resize": ` +
    'with prepare_image\'s resize, "no_resize": without; "*_f64": the same code in float64 ' +
    "(model.double()); made by: deno run --allow-all " +
    "_testing/metric_goldens/make_dists_goldens.ts",
  cases: results,
};
await Deno.writeTextFile(join(here, "dists_goldens.json"), JSON.stringify(json, null, 2) + "\n");
await Deno.remove(tmp, { recursive: true });
console.log(`dists_goldens.json: ${results.length} cases`);
