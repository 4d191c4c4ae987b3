import assert from "node:assert/strict";
import { join } from "node:path";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { runCli } from "../_internal/test_cli.ts";
import { lpipsCases } from "../lpips/conformance.ts";
import { listImages } from "./_images.ts";

const formats = (name: string) => testData("images", "formats", name);

Deno.test({
  ...needsTestData("compare reads BMP and TIFF: Pillow's ex_ref pixels give the PNG's distance"),
  fn: async () => {
    const e = (await lpipsCases()).find((c) => c.id === "lpips.ex_p0.alex.v0.1.lin.scalar")!;
    const want = (e.expected.distance ?? e.expected.map_mean)![0];
    const p0 = testData("images", "ex_p0.png");
    for (const ref of ["ex_ref.bmp", "ex_ref_lzw.tif"]) {
      const r = await runCli(["compare", formats(ref), p0, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const d = JSON.parse(r.stdout).distance;
      assert.ok(Math.abs(d - want) < 1e-5, `${ref}: ${d}, the PNG gives ${want}`);
    }
    const same = await runCli(["compare", formats("ex_ref.bmp"), formats("ex_ref.tif"), "--json"]);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(JSON.parse(same.stdout).distance, 0);
  },
});

Deno.test({
  ...needsTestData("compare on a BMP without --allow-ffi: one line naming the flags"),
  fn: async () => {
    const bmp = formats("ex_ref.bmp");
    const r = await runCli(["compare", bmp, bmp], {
      permissions: ["--allow-read", "--allow-env", "--allow-write", "--allow-sys"],
    });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      `lpips compare: ${bmp}: BMP images need the native decoder (@napi-rs/image): ` +
        "run deno with --allow-ffi\n",
    );
  },
});

Deno.test("dirs and allpairs list every readable format, in any case, and nothing else", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const images = ["a.bmp", "b.TIF", "c.tiff", "d.webp", "e.GIF", "f.png", "g.JPG", "h.jpeg"];
    for (const name of [...images, "notes.txt", "x.npy", "y.ppm"]) {
      await Deno.writeFile(join(dir, name), new Uint8Array(1));
    }
    await Deno.mkdir(join(dir, "folder.png"));
    assert.deepEqual(await listImages(dir), images);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
