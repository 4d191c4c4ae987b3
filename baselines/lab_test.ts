import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { im2tensor, readImage } from "../bappsloader/image.ts";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { rgb2lab, srgbToLab, tensor2tensorlab } from "./lab.ts";

// scikit-image 0.19.3 `rgb2lab` on a uint8 array, printed with repr() by /usr/bin/python3
// (Debian bookworm, numpy 1.24.2):
//   px = np.array([[[255,0,0],[0,255,0],[0,0,255],[255,255,255],[0,0,0],[128,128,128],
//                   [1,2,3],[10,200,30]]], np.uint8); print(rgb2lab(px))
const SKIMAGE_UINT8: [number[], number[]][] = [
  [[255, 0, 0], [53.2405879437449, 80.0923082256922, 67.2027510444287]],
  [[0, 255, 0], [87.73509948831895, -86.18302974439501, 83.17970317538452]],
  [[0, 0, 255], [32.29567256501351, 79.18559091176556, -107.85730020669489]],
  [[255, 255, 255], [100.0, -0.0024549378620508655, 0.004653421154054982]],
  [[0, 0, 0], [0, 0, 0]],
  [[128, 128, 128], [53.58501345216902, -0.0014726455530578164, 0.0027914514965754478]],
  [[1, 2, 3], [0.5098250675092544, -0.12249030481624457, -0.4704960765506305]],
  [[10, 200, 30], [70.5001319946117, -70.51383107333552, 64.94083996261953]],
];

// Math.pow / Math.cbrt in V8 and NumPy's libm (and its FMA matmul) may differ in the last bit,
// so float64 agreement is to a few ulps (measured: at most 2.3e-13 absolute over all 2^24
// colours); after the reference's float32 cast, all but 5 of the 2^24 colours are bit-identical.
const F64_TOL = 1e-12;

Deno.test("rgb2lab matches scikit-image on primaries, greys and dark colours", () => {
  const data = new Uint8Array(SKIMAGE_UINT8.flatMap(([rgb]) => rgb));
  const lab = rgb2lab({ width: SKIMAGE_UINT8.length, height: 1, data });
  SKIMAGE_UINT8.forEach(([rgb, want], p) => {
    for (let c = 0; c < 3; c++) {
      assert.ok(Math.abs(lab[3 * p + c] - want[c]) <= F64_TOL, `${rgb} channel ${c}`);
    }
  });
});

Deno.test("srgbToLab takes [0, 1] floats like scikit-image", () => {
  // print(list(rgb2lab(np.array([[[0.25, 0.5, 0.75]]]))[0, 0]))
  const want = [52.01801158233661, 0.09063119248725604, -39.35936971864056];
  const got = srgbToLab(0.25, 0.5, 0.75);
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(got[c] - want[c]) <= F64_TOL);
  // Identical to the uint8 path at u / 255 up to the ulp of `u * (1/255)` vs `u / 255`.
  const u8 = rgb2lab({ width: 1, height: 1, data: new Uint8Array([10, 200, 30]) });
  const fl = srgbToLab(10 / 255, 200 / 255, 30 / 255);
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(u8[c] - fl[c]) <= F64_TOL);
  assert.throws(() => srgbToLab(NaN, 0, 0), RangeError);
});

Deno.test("Lab is exact where it must be: black, the grey axis, the L of white", () => {
  assert.deepEqual(srgbToLab(0, 0, 0), [0, 0, 0]);
  // L = 116 cbrt(Y) - 16 with Y = 1 exactly for white (the matrix rows for Y sum to 1).
  assert.equal(srgbToLab(1, 1, 1)[0], 100);
  // Lightness is monotone in the grey level.
  let prev = -1;
  for (let u = 0; u < 256; u++) {
    const [l] = srgbToLab(u / 255, u / 255, u / 255);
    assert.ok(l > prev, `L(${u})`);
    prev = l;
  }
});

Deno.test("tensor2tensorlab: NCHW float32, one conversion per batch item", () => {
  const data = new Float32Array([1, 1, 1, -1, -1, -1]); // two 1x1 images: white (pixel 255), black
  const lab = tensor2tensorlab({ data, shape: [2, 3, 1, 1] });
  assert.deepEqual(lab.shape, [2, 3, 1, 1]);
  const white = SKIMAGE_UINT8[3][1];
  assert.deepEqual([...lab.data], [...white.map(Math.fround), 0, 0, 0]);
  assert.throws(
    () => tensor2tensorlab({ data: new Float32Array([0, Infinity, 0]), shape: [1, 3, 1, 1] }),
    (e: Error) => e instanceof RangeError && /Infinity/.test(e.message),
  );
});

// sha256 of `rgb2lab(u).astype(np.float32).tobytes()` (H x W x 3, C order), scikit-image 0.19.3:
//   /usr/bin/python3 -c "import numpy as np, hashlib; from PIL import Image;
//     from skimage.color import rgb2lab; u = np.asarray(Image.open(PATH).convert('RGB'));
//     print(hashlib.sha256(rgb2lab(u).astype(np.float32).tobytes()).hexdigest())"
const LAB_F32_SHA256: Record<string, string> = {
  "ex_ref.png": "84fa818975817d772d19b110648f4fe61ae5f1280ee3c15dff7bac8e5923dc8d",
  "ex_p1.png": "d983e174ff7b9fad5add84549b29e9a736d080e0f5f02a453b5884cd7a186694",
  "tid_I03_ref.png": "cb81961ed01a332b03ffd96ef477d774fed96243dd673f0d1b3bcb46c16a97a9",
  "tid_I19_dist.png": "1650dbd4affe4a785915cdd5d9e7c805e231b039cd285d503d31e5cf3282b0b5",
};

Deno.test(
  needsTestData("rgb2lab cast to float32 is bit-identical to scikit-image on the test images"),
  async () => {
    for (const [name, want] of Object.entries(LAB_F32_SHA256)) {
      const img = await readImage(testData("images", name));
      const lab = Float32Array.from(rgb2lab(img));
      const got = createHash("sha256").update(new Uint8Array(lab.buffer)).digest("hex");
      assert.equal(got, want, name);
      // The same numbers, planar, through the reference's tensor path with quantize "round".
      const planar = tensor2tensorlab(im2tensor(img), { quantize: "round" }).data;
      const plane = img.width * img.height;
      for (let p = 0; p < plane; p += 97) {
        for (let c = 0; c < 3; c++) assert.equal(planar[c * plane + p], lab[3 * p + c]);
      }
    }
  },
);

Deno.test("rgb2lab rejects a buffer of the wrong size", () => {
  assert.throws(
    () => rgb2lab({ width: 2, height: 2, data: new Uint8Array(11) }),
    (e: Error) => e instanceof RangeError && /needs 12 bytes, got 11/.test(e.message),
  );
});
