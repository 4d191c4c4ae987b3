import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { LPIPS } from "../lpips/lpips.ts";
import { compareImages } from "./comparison.ts";
import { rankImages } from "./ranking.ts";
import { picture } from "./picture.ts";
import { JUPYTER_DISPLAY } from "./display.ts";
import { loadImage } from "../bappsloader/image.ts";

const url = (name: string) => pathToFileURL(testData("images", name));
const path = (name: string) => testData("images", name);

Deno.test({
  ...needsTestData("compareImages and rankImages take file: URLs as they take paths"),
  fn: async () => {
    using m = await LPIPS.create({ weightsDir: testData("weights"), quiet: true });
    const byPath = await compareImages(m, path("ex_ref.png"), path("ex_p0.png"));
    const byUrl = await compareImages(m, url("ex_ref.png"), url("ex_p0.png"));
    assert.deepEqual(byUrl.names, ["ex_ref.png", "ex_p0.png"]);
    assert.equal(byUrl.distance, byPath.distance);
    assert.deepEqual(byUrl.map!.data, byPath.map!.data);

    const r = await rankImages(m, url("ex_ref.png"), [
      url("ex_p0.png"),
      path("ex_p1.png"),
      url("missing.png"),
    ]);
    assert.equal(r.referenceName, "ex_ref.png");
    assert.deepEqual(r.ranked.map((x) => x.name), ["ex_p1.png", "ex_p0.png"]);
    assert.equal(r.ranked[1].distance, byPath.distance);
    assert.deepEqual(r.skipped, [{ name: "missing.png", reason: "cannot read (no such file)" }]);
  },
});

Deno.test({
  ...needsTestData("picture takes a path or file: URL (a promise), named by its file name"),
  fn: async () => {
    const bundle = (d: unknown) =>
      (d as { [JUPYTER_DISPLAY](): Record<string, string> })[JUPYTER_DISPLAY]();
    const want = bundle(picture(await loadImage(path("ex_p0.png")), { name: "ex_p0.png" }));
    assert.deepEqual(bundle(await picture(path("ex_p0.png"))), want);
    assert.deepEqual(bundle(await picture(url("ex_p0.png"))), want);
    assert.equal(
      bundle(await picture(url("ex_p0.png"), { name: "p0" }))["text/plain"],
      "[image p0, 64x64]",
    );
    await assert.rejects(
      picture(path("missing.png")),
      /missing\.png: cannot read \(no such file\)/,
    );
  },
});
