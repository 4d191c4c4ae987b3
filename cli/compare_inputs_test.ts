/** `compare --mask` and `compare --resize-to-reference`, end to end through the command line. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { encode } from "fast-png";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { runCli } from "../_internal/test_cli.ts";
import { im2tensor, readImage, type RGBImage } from "../bappsloader/image.ts";
import { readNpy } from "../bappsloader/npy.ts";
import { resizeBicubic } from "../bappsloader/resize.ts";
import { l2 } from "../baselines/l2.ts";
import { LPIPS } from "../lpips/lpips.ts";

const img = (name: string) => testData("images", `${name}.png`);

async function png(
  path: string,
  img: RGBImage | { width: number; height: number; grey: Uint8Array },
) {
  const data = "grey" in img ? img.grey : img.data;
  await Deno.writeFile(
    path,
    encode({
      width: img.width,
      height: img.height,
      data,
      channels: "grey" in img ? 1 : 3,
      depth: 8,
    }),
  );
}

Deno.test({
  ...needsTestData("compare --mask: the mask-weighted mean of the map; errors name the mask"),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const p = (n: string) => join(dir, n);
      const grey = (f: (i: number) => number) => ({
        width: 64,
        height: 64,
        grey: new Uint8Array(64 * 64).map((_, i) => f(i)),
      });
      await png(p("white.png"), grey(() => 255));
      await png(p("top.png"), grey((i) => (i < 32 * 64 ? 255 : 0)));
      await png(p("black.png"), grey(() => 0));
      await png(p("small.png"), { width: 32, height: 32, grey: new Uint8Array(32 * 32).fill(255) });
      const run = async (...extra: string[]) => {
        const r = await runCli(["compare", img("ex_ref"), img("ex_p0"), "--json", ...extra]);
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout);
      };
      const full = await run("--spatial", p("map.npy"));
      const white = await run("--mask", p("white.png"));
      assert.equal(white.mask, p("white.png"));
      assert.equal(white.distance, full.map_mean); // all ones: the map's mean, to the last bit
      const map = (await readNpy(p("map.npy"))).data as Float32Array;
      let sum = 0;
      for (let i = 0; i < 32 * 64; i++) sum += map[i];
      const top = await run("--mask", p("top.png"));
      assert.ok(
        Math.abs(top.distance - sum / (32 * 64)) <= 1e-7,
        `${top.distance} vs ${sum / 2048}`,
      );
      assert.notEqual(top.distance, white.distance);
      const text = await runCli(["compare", img("ex_ref"), img("ex_p0"), "--mask", p("top.png")]);
      assert.equal(
        text.stdout,
        `Distance: ${top.distance.toFixed(6)} (weighted by ${p("top.png")})\n`,
      );

      const faults: [string[], string][] = [
        [
          ["--mask", p("black.png")],
          `lpips compare: --mask ${p("black.png")}: mask is all zero: no pixel to average over\n`,
        ],
        [
          ["--mask", p("small.png")],
          `lpips compare: --mask ${p("small.png")} is 32x32; the images are 64x64\n`,
        ],
        [
          ["--mask", p("white.png"), "--metric", "l2"],
          "lpips compare: --mask needs --metric lpips\n",
        ],
        [
          ["--mask", p("missing.png")],
          `lpips compare: ${p("missing.png")}: cannot read (no such file)\n`,
        ],
      ];
      for (const [extra, stderr] of faults) {
        const r = await runCli(["compare", img("ex_ref"), img("ex_p0"), ...extra]);
        assert.deepEqual([r.code, r.stdout, r.stderr], [1, "", stderr]);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...needsTestData("compare --resize-to-reference: only when asked, said in the result"),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const big = join(dir, "p0_80x48.png");
      const p0 = resizeBicubic(await readImage(img("ex_p0")), 80, 48);
      await png(big, p0);
      const refused = await runCli(["compare", img("ex_ref"), big]);
      assert.equal(refused.code, 1);
      assert.equal(
        refused.stderr,
        `lpips compare: ${img("ex_ref")} (64x64) and ${big} (80x48) differ in shape; compare ` +
          `needs one size: pass --resize-to-reference to resize ${big} to 64x64\n`,
      );
      const r = await runCli(["compare", img("ex_ref"), big, "--resize-to-reference", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.deepEqual(out.resized, { from: [48, 80], to: [64, 64] });
      // The same numbers as the API's resize: "reference" on the file, and as resizing by hand.
      using m = await LPIPS.create({ weightsDir: testData("weights"), quiet: true });
      const api = await m.distance(img("ex_ref"), big, { resize: "reference", perLayer: true });
      assert.equal(out.distance, api.distance[0]);
      const ref = im2tensor(await readImage(img("ex_ref")));
      const byHand = im2tensor(resizeBicubic(p0, 64, 64));
      assert.equal(out.distance, (await m.distance(ref, byHand))[0]);
      const text = await runCli(["compare", img("ex_ref"), big, "--resize-to-reference"]);
      assert.equal(
        text.stdout,
        `Distance: ${out.distance.toFixed(6)}\n(${big} resized from 80x48 to 64x64, bicubic)\n`,
      );
      const base = await runCli([
        "compare",
        img("ex_ref"),
        big,
        "--resize-to-reference",
        "--metric",
        "l2",
        "--json",
      ]);
      assert.equal(base.code, 0, base.stderr);
      const b = JSON.parse(base.stdout);
      assert.deepEqual(b.resized, { from: [48, 80], to: [64, 64] });
      assert.equal(b.distance, l2(ref, byHand)[0]);
      // Images of one size: nothing said.
      const same = await runCli([
        "compare",
        img("ex_ref"),
        img("ex_p0"),
        "--resize-to-reference",
        "--json",
      ]);
      assert.equal(JSON.parse(same.stdout).resized, undefined);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
