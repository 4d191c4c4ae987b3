/**
 * Makes `goldens.json`: builds every case of `cases.ts` from the shared images, writes the inputs
 * as PNGs to a temporary folder (never committed) and runs the authors' MATLAB code on them in
 * Octave through `goldens.m`. See README.md here for the command.
 *
 * @module
 */
import { encode } from "fast-png";
import { join } from "node:path";
import { testData } from "../../_internal/test_data.ts";
import type { RGBImage } from "../../bappsloader/image.ts";
import { buildSource, GOLDEN_CASES } from "./cases.ts";

const here = new URL(".", import.meta.url).pathname;
const tmp = await Deno.makeTempDir({ prefix: "metric_goldens_" });
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
const refs = testData("metric-references", "octave");
const out = await new Deno.Command("octave", {
  args: ["-q", "--no-gui", "--path", refs, join(here, "goldens.m"), list],
  stdout: "piped",
  stderr: "inherit",
}).output();
if (!out.success) throw new Error(`octave failed (exit ${out.code})`);
const results = new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.startsWith("{"))
  .map((l) => JSON.parse(l));
if (results.length !== GOLDEN_CASES.length) {
  throw new Error(`octave printed ${results.length} results for ${GOLDEN_CASES.length} cases`);
}
const version = new TextDecoder().decode(
  (await new Deno.Command("octave", { args: ["--version"], stdout: "piped" }).output()).stdout,
).split("\n")[0];
// Octave's timings are context for the docs, not golden values: printed, not stored.
for (const r of results) {
  const t = r.octave_seconds;
  console.log(`${r.name}: Octave ${t.fsim} s FSIM, ${t.gmsd} s GMSD, ${t.msssim} s MS-SSIM`);
  delete r.octave_seconds;
}
const json = {
  about: "The authors' MATLAB code (metric-references/octave) on the cases of cases.ts, in " +
    `${version} with octave-image; made by: deno run --allow-all _testing/metric_goldens/make_goldens.ts`,
  cases: results,
};
await Deno.writeTextFile(join(here, "goldens.json"), JSON.stringify(json, null, 2) + "\n");
await Deno.remove(tmp, { recursive: true });
console.log(`goldens.json: ${results.length} cases`);
