import assert from "node:assert/strict";
import { rgb2gray } from "./gray.ts";

Deno.test("rgb2gray rounds MATLAB's weighted sum half away from zero", () => {
  // (0, 49, 138) is 44.4999954 with MATLAB's weights (Octave's six-decimal weights give 44.500005).
  const img = {
    width: 4,
    height: 1,
    data: new Uint8Array([255, 0, 0, 0, 49, 138, 255, 255, 255, 10, 20, 30]),
  };
  // 76.2287, 44.49999, 255, 0.298936*10 + 0.587043*20 + 0.114021*30 = 18.1326
  assert.deepEqual(rgb2gray(img), { width: 4, height: 1, data: new Uint8Array([76, 44, 255, 18]) });
});

Deno.test("rgb2gray keeps grey pixels", () => {
  const data = new Uint8Array(256 * 3);
  for (let v = 0; v < 256; v++) data.fill(v, 3 * v, 3 * v + 3);
  assert.deepEqual(
    rgb2gray({ width: 256, height: 1, data }).data,
    Uint8Array.from(data.filter((_, i) => i % 3 === 0)),
  );
});

Deno.test("rgb2gray rejects a malformed image in one line", () => {
  assert.throws(
    () => rgb2gray({ width: 2, height: 2, data: new Uint8Array(11) }),
    /^RangeError: rgb2gray: img has 11 bytes but 2x2 RGB needs 12$/,
  );
  assert.throws(
    () => rgb2gray({ width: 0, height: 2, data: new Uint8Array(0) }),
    /rgb2gray: img has width 0, expected a whole number >= 1/,
  );
  assert.throws(
    () => rgb2gray({ width: 1, height: 1, data: [1, 2, 3] as unknown as Uint8Array }),
    /rgb2gray: img.data must be a Uint8Array of R, G, B bytes, got Array/,
  );
});
