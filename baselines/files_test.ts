import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { ImageDecodeError, loadImage } from "../bappsloader/image.ts";
import { l2 } from "./l2.ts";
import { psnr } from "./psnr.ts";
import { dssim, ssim, ssimMap } from "./ssim.ts";

Deno.test({
  ...needsTestData("baselines take image files (paths, file: URLs) and give the tensors' values"),
  fn: async () => {
    const refPath = testData("images", "ex_ref.png");
    const p0Url = pathToFileURL(testData("images", "ex_p0.png"));
    const [ref, p0] = await Promise.all([loadImage(refPath), loadImage(p0Url)]);
    for (const [a, b] of [[refPath, p0Url], [ref, p0Url], [refPath, p0]] as const) {
      assert.deepEqual(await l2(a, b), l2(ref, p0));
      assert.deepEqual(await l2(a, b, { colorspace: "RGB" }), l2(ref, p0, { colorspace: "RGB" }));
      assert.deepEqual(await ssim(a, b), ssim(ref, p0));
      assert.deepEqual(
        await ssimMap(a, b, { colorspace: "RGB" }),
        ssimMap(ref, p0, { colorspace: "RGB" }),
      );
      assert.deepEqual(await dssim(a, b), dssim(ref, p0));
      assert.deepEqual(await psnr(a, b), psnr(ref, p0));
    }
    // Tensors alone stay synchronous; a file makes a promise.
    assert.ok(l2(ref, p0) instanceof Float32Array);
    assert.ok(l2(refPath, p0) instanceof Promise);
    // The published DSSIM of ex_p0 (issue #26 of the reference: 0.262).
    assert.equal((await dssim(refPath, p0Url, { colorspace: "RGB" }))[0].toFixed(3), "0.262");
    await assert.rejects(l2(refPath, "no/such.png"), (e: Error) => {
      assert.ok(e instanceof ImageDecodeError);
      assert.equal(e.message, "no/such.png: cannot read (no such file)");
      return true;
    });
  },
});
