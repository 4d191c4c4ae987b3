/**
 * The fault-and-abuse suite of the API: what users pass to `LPIPS.distance` and the baselines
 * (`l2`, `ssim`, `dssim`, `psnr`, `flip`) instead of NCHW float32 in [-1, 1]: NaN and infinities,
 * [0, 255] data, the wrong rank, NHWC, mismatched shapes, too few values. Each must throw at once,
 * with a one-line message that says what is wrong (and, where it can tell, what was probably
 * passed).
 * `lpips/lpips_test.ts` holds the metric's own cases; these add the ones it lacks and run the
 * same inputs through every metric.
 *
 * @module
 */
import assert from "node:assert/strict";
import { LPIPS } from "../lpips/lpips.ts";
import { InputError } from "../lpips/validate.ts";
import { needsTestData, testData } from "../_internal/test_data.ts";
import type { ImageTensor } from "../bappsloader/image.ts";
import { l2 } from "../baselines/l2.ts";
import { dssim, ssim } from "../baselines/ssim.ts";
import { psnr } from "../baselines/psnr.ts";
import { flip, flipMap } from "../baselines/flip.ts";

type Shape = ImageTensor["shape"];

/** A smooth image-like pattern in [-1, 1] of `shape` (any rank), or `fill` everywhere. */
function tensor(shape: number[], fill?: number): ImageTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n).map((_, i) => fill ?? Math.sin(i * 0.37) * 0.9);
  return { data, shape: shape as Shape };
}

function withValue(t: ImageTensor, at: number, v: number): ImageTensor {
  const data = t.data.slice();
  data[at] = v;
  return { data, shape: t.shape };
}

function scaled(t: ImageTensor, f: (v: number) => number): ImageTensor {
  return { data: t.data.map(f), shape: t.shape };
}

/** [name, bad input (paired with a good one of the usual shape), message pattern]. */
function faults(h: number, w: number): [string, ImageTensor, RegExp][] {
  const ok = tensor([1, 3, h, w]);
  return [
    ["NaN", withValue(ok, 5, NaN), /NaN/],
    ["+Infinity", withValue(ok, 9, Infinity), /infinit|Infinity/],
    ["-Infinity", withValue(ok, 9, -Infinity), /infinit|Infinity/],
    ["[0, 255] data", scaled(ok, (v) => Math.round((v + 1) * 127.5)), /looks like \[0, 255\]/],
    ["[-255, 255] data", scaled(ok, (v) => v * 255), /expected \[-1, 1\]/],
    ["NHWC as NCHW", tensor([1, h, w, 3]), /NHWC/],
    ["4 channels", tensor([1, 4, h, w]), /4 channels/],
    [
      "rank 3 (no batch axis)",
      tensor([3, h, w]),
      /\[3,\d+,\d+\].*(NCHW|\[n, 3)|(NCHW|\[n, 3).*\[3,\d+,\d+\]/i,
    ],
    ["rank 5", tensor([1, 1, 3, h, w]), /NCHW|\[n, 3/i],
    ["too few values", { data: new Float32Array(7), shape: [1, 3, h, w] }, /7 values/],
    ["other size", tensor([1, 3, h, w + 2]), /differ/],
  ];
}

function assertOneLine(e: Error, label: string): void {
  assert.equal(e.message.split("\n").length, 1, `${label}: ${e.message}`);
  // LPIPS_FAULTS_REPORT=1 prints each case's message (for the fault table of the docs).
  if (Deno.env.get("LPIPS_FAULTS_REPORT")) console.log(`FAULT\t${label}\t${e.name}: ${e.message}`);
}

Deno.test({
  ...needsTestData("LPIPS.distance: every malformed input is an InputError of one line"),
  fn: async () => {
    const m = await LPIPS.create({ weightsDir: testData("weights"), quiet: true });
    try {
      const ok = tensor([1, 3, 64, 64]);
      for (const [label, bad, message] of faults(64, 64)) {
        for (const [a, b] of [[ok, bad], [bad, ok]]) {
          await assert.rejects(m.distance(a, b), (e: Error) => {
            assert.ok(e instanceof InputError, `${label}: ${e}`);
            assert.match(e.message, message, label);
            assertOneLine(e, label);
            return true;
          });
        }
      }
      // [0, 1] data passed without `normalize` lies inside [-1, 1]: it cannot be told apart from
      // a dark image and is scored as such (README: pass `normalize: true` for [0, 1] data).
      const [d] = await m.distance(scaled(ok, (v) => (v + 1) / 2), ok);
      assert.ok(Number.isFinite(d) && d > 0);
      // ... whereas [-1, 1] data under `normalize: true` is caught.
      await assert.rejects(m.distance(ok, ok, { normalize: true }), /drop normalize/);
    } finally {
      m.dispose();
    }
  },
});

Deno.test({
  ...needsTestData(
    "LPIPS.distance: null, empty batches, NaN sizes and mismatches name what was passed",
  ),
  fn: async () => {
    const m = await LPIPS.create({ weightsDir: testData("weights"), quiet: true });
    try {
      const ok = tensor([1, 3, 64, 64]);
      const expected = "expected an image path or file: URL, { data: Float32Array, shape: " +
        "[N, 3, H, W] }, a TF.js Tensor4D or an RGB image";
      const cases: [string, unknown, unknown, string][] = [
        ["null", null, ok, `input 0 is null; ${expected}`],
        ["undefined as b", ok, undefined, `input 1 is undefined; ${expected}`],
        [
          "empty batch [0, 3, 64, 64]",
          ok,
          tensor([0, 3, 64, 64]),
          "input 1 is an empty batch (shape [0,3,64,64]): nothing to compare",
        ],
        [
          "NaN in a shape",
          { data: new Float32Array(3), shape: [1, 3, NaN, 64] },
          ok,
          "input 0 has shape [1,3,NaN,64]: its sizes must be whole numbers >= 0, axis 2 is NaN",
        ],
        [
          "2 channels",
          ok,
          tensor([1, 2, 64, 64]),
          "input 1 has 2 channels; expected 3 (RGB, NCHW layout) or 1 (grey)",
        ],
        [
          "batches of 2 and 3",
          tensor([2, 3, 64, 64]),
          tensor([3, 3, 64, 64]),
          "inputs differ in batch size: 2 vs 3 (a batch of 1 is compared with each image of the " +
          "other; otherwise the batches pair up image by image)",
        ],
        [
          "different sizes",
          ok,
          tensor([1, 3, 64, 66]),
          "inputs differ in size: input 0 is 64x64 and input 1 is 66x64 (WxH); pass resize: " +
          '"reference" to resize input 1 to 64x64 (Pillow\'s bicubic)',
        ],
      ];
      for (const [label, a, b, message] of cases) {
        await assert.rejects(m.distance(a as ImageTensor, b as ImageTensor), (e: Error) => {
          assert.ok(e instanceof InputError, `${label}: ${e}`);
          assert.equal(e.message, message, label);
          assertOneLine(e, label);
          return true;
        });
      }
    } finally {
      m.dispose();
    }
  },
});

Deno.test("l2: the docs/faults.md rows of null, NaN sizes, channels, batches and empty batches", () => {
  const ok = tensor([1, 3, 16, 16]);
  const cases: [string, unknown, unknown, string][] = [
    ["null", null, ok, "l2: a must be an ImageTensor { data, shape }, got null"],
    [
      "NaN in a shape",
      { data: new Float32Array(3), shape: [1, 3, NaN, 16] },
      ok,
      "l2: a has height NaN, expected a whole number >= 1",
    ],
    [
      "2 channels",
      ok,
      tensor([1, 2, 16, 16]),
      "l2: b has 2 channels (shape [1,2,16,16]); RGB tensors need 3",
    ],
    [
      "1 channel",
      ok,
      tensor([1, 1, 16, 16]),
      "l2: b has 1 channels (shape [1,1,16,16]); RGB tensors need 3",
    ],
    [
      "batches of 2 and 3",
      tensor([2, 3, 16, 16]),
      tensor([3, 3, 16, 16]),
      "l2: shapes differ: a is [2,3,16,16], b is [3,3,16,16]",
    ],
  ];
  for (const [label, a, b, message] of cases) {
    assert.throws(() => l2(a as ImageTensor, b as ImageTensor), (e: Error) => {
      assert.equal(e.message, message, label);
      assertOneLine(e, `l2, ${label}`);
      return true;
    });
  }
  const empty = tensor([0, 3, 16, 16]);
  assert.deepEqual(l2(empty, empty), new Float32Array(0));
});

Deno.test("l2, ssim, dssim, psnr, flip: every malformed input is a one-line Type/RangeError", () => {
  const metrics: [string, (a: ImageTensor, b: ImageTensor) => unknown][] = [
    ["l2 Lab", (a, b) => l2(a, b)],
    ["l2 RGB", (a, b) => l2(a, b, { colorspace: "RGB" })],
    ["ssim", (a, b) => ssim(a, b)],
    ["dssim RGB", (a, b) => dssim(a, b, { colorspace: "RGB" })],
    ["psnr", (a, b) => psnr(a, b)],
    ["flip", (a, b) => flip(a, b)],
    ["flipMap", (a, b) => flipMap(a, b, { ppd: 30 })],
  ];
  const ok = tensor([1, 3, 16, 16]);
  for (const [name, metric] of metrics) {
    for (const [label, bad, message] of faults(16, 16)) {
      for (const [a, b] of [[ok, bad], [bad, ok]]) {
        assert.throws(() => metric(a, b), (e: Error) => {
          assert.ok(e instanceof RangeError || e instanceof TypeError, `${name}, ${label}: ${e}`);
          assert.match(e.message, message, `${name}, ${label}`);
          assert.ok(e.message.startsWith(name.split(" ")[0]), `${name} names itself: ${e.message}`);
          assertOneLine(e, `${name}, ${label}`);
          return true;
        });
      }
    }
  }
});
