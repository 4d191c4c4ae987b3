import assert from "node:assert/strict";
import { im2tensor, loadImage, type RGBImage } from "../bappsloader/image.ts";
import { l2 } from "../baselines/l2.ts";
import { dssim, ssim } from "../baselines/ssim.ts";
import { psnr } from "../baselines/psnr.ts";
import { flipMap } from "../baselines/flip.ts";
import { gmsdMap } from "../baselines/gmsd.ts";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { measure } from "./measure.ts";
import { findMetric, METRICS } from "./registry.ts";
import { metricTensor, tensorRgbImage } from "./images.ts";

const img = (name: string) => testData("images", name);

/** A 176x176 image of deterministic noise (MS-SSIM's smallest size). */
function noise(seed: number, size = 176): RGBImage {
  let s = seed;
  const data = new Uint8Array(size * size * 3).map(() => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s >>> 23;
  });
  return { width: size, height: size, data };
}

Deno.test("tensorRgbImage undoes im2tensor; metricTensor takes files, images and tensors", async () => {
  const a = noise(1, 9);
  const t = im2tensor(a);
  assert.deepEqual(tensorRgbImage(t, 0), a);
  assert.equal(await metricTensor(t), t);
  assert.deepEqual(await metricTensor(a), t);
  assert.throws(
    () => tensorRgbImage({ data: new Float32Array(4), shape: [1, 1, 2, 2] }, 0),
    /expected 3 channels \(RGB\), got 1/,
  );
});

Deno.test(
  needsTestData("measure: each classical metric's score is its baseline's value"),
  async () => {
    const [ref, p0] = await Promise.all([
      loadImage(img("ex_ref.png")),
      loadImage(img("ex_p0.png")),
    ]);
    const names = ["l2", "ssim", "psnr", "fsim", "fsimc", "gmsd", "flip"];
    const rows = await measure(names, img("ex_ref.png"), img("ex_p0.png"));
    const by = Object.fromEntries(rows.map((r) => [r.metric, r]));
    assert.deepEqual(rows.map((r) => r.metric), names);
    assert.equal(by.l2.scores[0], l2(ref, p0, { colorspace: "Lab" })[0]);
    assert.equal(by.l2.setting, "Lab");
    assert.equal(by.ssim.scores[0], ssim(ref, p0, { colorspace: "Lab" })[0]);
    // The distance of ssim is the reference's DSSIM, to the bit once stored as float32.
    assert.equal(Math.fround(by.ssim.distances[0]), dssim(ref, p0, { colorspace: "Lab" })[0]);
    assert.equal(by.psnr.scores[0], psnr(ref, p0)[0]);
    assert.equal(by.gmsd.scores[0].toFixed(6), "0.198284");
    assert.equal(by.fsim.scores[0].toFixed(4), "0.6475");
    assert.equal(by.fsimc.scores[0].toFixed(4), "0.6452");
    assert.equal(by.flip.scores[0].toFixed(6), "0.353771");
    for (const r of rows) {
      assert.equal(r.lowerIsBetter, findMetric(r.metric).lowerIsBetter);
      assert.equal(r.distances[0], findMetric(r.metric).toDistance(r.scores[0]));
    }
  },
);

Deno.test(
  needsTestData("measure: TID2013 I03 as the authors print it (FSIMc 0.6890, GMSD 0.2203)"),
  async () => {
    const rows = await measure(
      ["fsimc", "gmsd", "ms_ssim"],
      img("tid_I03_ref.png"),
      img("tid_I03_dist.png"),
    );
    assert.deepEqual(rows.map((r) => r.scores[0].toFixed(4)), ["0.6890", "0.2203", "0.6700"]);
    assert.deepEqual(rows.map((r) => r.title), ["FSIMc", "GMSD", "MS-SSIM"]);
  },
);

Deno.test("every metric: identical images score their best, distance 0", async () => {
  const a = noise(7);
  // LPIPS and DISTS load weights: their own tests below.
  for (const info of METRICS.filter((m) => m.name !== "lpips" && m.name !== "dists")) {
    const [r] = await measure([info], a, a);
    assert.equal(r.distances[0], 0, info.name);
    assert.equal(r.scores[0], info.name === "psnr" ? Infinity : info.lowerIsBetter ? 0 : 1);
  }
});

Deno.test("MS-SSIM under 176 px, sizes that differ, a bad colour space: one-line errors", async () => {
  const small = noise(1, 64);
  await assert.rejects(
    () => measure(["msssim"], small, small),
    /msssim: the images are 64x64; MS-SSIM's 5 scales need a short side of at least 176 px/,
  );
  await assert.rejects(() => measure(["gmsd"], noise(1, 8), noise(2, 9)), /differ/);
  await assert.rejects(
    () => measure(["l2"], small, small, { colorspace: "XYZ" as "Lab" }),
    /l2: colorspace must be Lab or RGB, got "XYZ"/,
  );
});

Deno.test("maps: FLIP's error map and GMSD's quality map, as the baselines give them", async () => {
  const a = noise(3, 20), b = noise(4, 20);
  const ta = im2tensor(a), tb = im2tensor(b);
  const flip = await findMetric("flip").create();
  const fm = await flip.map!(ta, tb);
  assert.deepEqual(fm.data, flipMap(ta, tb).map.data);
  assert.equal(fm.kind, "distance");
  const gmsd = await findMetric("gmsd").create();
  const gm = await gmsd.map!(ta, tb);
  const want = gmsdMap(a, b);
  assert.deepEqual([gm.width, gm.height, gm.kind], [want.width, want.height, "similarity"]);
  assert.deepEqual(gm.data, Float32Array.from(want.map));
  const fsim = await findMetric("fsimc").create();
  assert.equal((await fsim.map!(ta, tb)).kind, "similarity");
  for (const m of METRICS) {
    assert.equal(m.hasMap, ["lpips", "fsim", "fsimc", "gmsd", "flip"].includes(m.name));
  }
  for (const m of [flip, gmsd, fsim]) m.dispose();
});

Deno.test(
  needsTestData("lpips: the registry's LPIPS is LPIPS.distance, map included"),
  async () => {
    const { LPIPS } = await import("../lpips/lpips.ts");
    const lpips = { weightsDir: testData("weights"), quiet: true };
    const [ref, p0] = await Promise.all([
      loadImage(img("ex_ref.png")),
      loadImage(img("ex_p0.png")),
    ]);
    const direct = await LPIPS.create(lpips);
    const m = await findMetric("lpips").create({ weightsDir: lpips.weightsDir, quiet: true });
    try {
      assert.equal(m.setting, "alex, v0.1");
      assert.deepEqual(await m.scores(ref, p0), Float64Array.from(await direct.distance(ref, p0)));
      const map = await m.map!(ref, p0);
      const want = await direct.distance(ref, p0, { spatial: true });
      assert.deepEqual([map.width, map.height, map.kind], [64, 64, "distance"]);
      assert.deepEqual(map.data, want.map!.data);
    } finally {
      m.dispose();
      direct.dispose();
    }
  },
);

Deno.test(
  needsTestData("dists: the official code's value through the registry; identical images ~0"),
  async () => {
    // The random-weight VGG16 of the test data stands in for ImageNet's (it checks the arithmetic);
    // the official DISTS_pt.py gives 0.0395989 for ex_ref vs ex_p0 with it.
    const options = {
      weightsDir: testData("weights"),
      trunkPath: testData("weights", "vgg16-random-seed0.pth"),
      quiet: true,
    };
    const [r] = await measure(["dists"], img("ex_ref.png"), img("ex_p0.png"), options);
    assert.ok(Math.abs(r.scores[0] - 0.0395989) <= 1e-6, `DISTS ${r.scores[0]}`);
    assert.equal(r.distances[0], r.scores[0]);
    assert.equal(r.lowerIsBetter, true);
    const [same] = await measure(["dists"], img("ex_ref.png"), img("ex_ref.png"), options);
    assert.ok(same.scores[0] >= 0 && same.scores[0] < 1e-6, `DISTS(x, x) ${same.scores[0]}`);
  },
);
