import assert from "node:assert/strict";
import type { ImageTensor } from "../bappsloader/image.ts";
import { needsTestData } from "../_internal/test_data.ts";
import { baselineCases, imagePair, loadInput, relErr } from "./_test_data.ts";
import { dssim, ssim, SSIM_PRESETS, ssimMap, structuralSimilarity } from "./ssim.ts";

/** docs/algorithm.md §10: 1e-6 relative for baselines. */
const REL = 1e-6;

type Shape = [number, number, number, number];

/** Seeded integers 0..255 (xorshift32). */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) % 256;
  }
  return out;
}

/** The script-path tensor (`u / 127.5 - 1`) of planar uint8 data. */
function toTensor(u: Uint8Array, shape: Shape): ImageTensor {
  return { data: Float32Array.from(u, (v) => v / 127.5 - 1), shape };
}

/**
 * SSIM by definition, for checking: every window visited pixel by pixel with 2-D weights, means
 * and (co)variances formed directly, no running sums. Slow; small images only.
 */
function bruteForceSsim(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  h: number,
  w: number,
  weights2d: number[][],
  sample: boolean,
  range: number,
): number {
  const k = weights2d.length;
  const np = k * k;
  const cn = sample ? np / (np - 1) : 1;
  const c1 = (0.01 * range) ** 2, c2 = (0.03 * range) ** 2;
  let total = 0;
  for (let i = 0; i + k <= h; i++) {
    for (let j = 0; j + k <= w; j++) {
      let ux = 0, uy = 0;
      for (let a = 0; a < k; a++) {
        for (let b = 0; b < k; b++) {
          ux += weights2d[a][b] * x[(i + a) * w + j + b];
          uy += weights2d[a][b] * y[(i + a) * w + j + b];
        }
      }
      let vx = 0, vy = 0, vxy = 0;
      for (let a = 0; a < k; a++) {
        for (let b = 0; b < k; b++) {
          const dx = x[(i + a) * w + j + b] - ux, dy = y[(i + a) * w + j + b] - uy;
          vx += weights2d[a][b] * dx * dx;
          vy += weights2d[a][b] * dy * dy;
          vxy += weights2d[a][b] * dx * dy;
        }
      }
      vx *= cn;
      vy *= cn;
      vxy *= cn;
      total += ((2 * ux * uy + c1) * (2 * vxy + c2)) /
        ((ux * ux + uy * uy + c1) * (vx + vy + c2));
    }
  }
  return total / ((h - k + 1) * (w - k + 1));
}

function uniform2d(k: number): number[][] {
  return Array.from({ length: k }, () => new Array(k).fill(1 / (k * k)));
}

function gaussian2d(sigma: number, radius: number): number[][] {
  const g = Array.from(
    { length: 2 * radius + 1 },
    (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma ** 2)),
  );
  const s = g.reduce((p, q) => p + q);
  return g.map((a) => g.map((b) => (a / s) * (b / s)));
}

Deno.test(needsTestData("dssim matches every golden case of the reference"), async () => {
  const cases = await baselineCases("dssim");
  assert.equal(cases.length, 44);
  let worst = 0, worstSsim = 0;
  for (const c of cases) {
    const a = await loadInput(c.inputs.in0, c.config.batch_item);
    const b = await loadInput(c.inputs.in1, c.config.batch_item);
    const colorspace = c.config.colorspace;
    const got = dssim(a, b, { colorspace })[0];
    const err = relErr(got, c.expected.value);
    assert.ok(err <= REL, `${c.id}: got ${got}, want ${c.expected.value} (rel ${err})`);
    // The float64 SSIM before the reference's float32 cast: same algorithm, so far tighter.
    const s = ssim(a, b, { colorspace })[0];
    const errSsim = relErr(s, c.expected.ssim_f64!);
    assert.ok(errSsim <= 1e-11, `${c.id}: ssim ${s} vs ${c.expected.ssim_f64} (rel ${errSsim})`);
    worst = Math.max(worst, err);
    worstSsim = Math.max(worstSsim, errSsim);
  }
  // Measured: dssim bit-identical (0) in float32; ssim float64 within 1.8e-13.
  console.log(
    `dssim: worst relative deviation ${worst.toExponential(2)} (float32), ` +
      `ssim float64 ${worstSsim.toExponential(2)}, over 44 golden cases`,
  );
});

Deno.test(
  needsTestData("dssim reproduces the docs/algorithm.md §2 baseline table and issue #26"),
  async () => {
    // [pair, path, DSSIM RGB, DSSIM Lab], docs/algorithm.md §2: (1 - SSIM) / 2 in float64, 9 digits.
    const table: [string, "A" | "B", number, number][] = [
      ["ex_p0.png", "A", 0.261782155, 0.243387215],
      ["ex_p1.png", "A", 0.343683811, 0.338429030],
      ["ex_p0.png", "B", 0.261827177, 0.243321612],
      ["ex_p1.png", "B", 0.343587212, 0.338122239],
    ];
    for (const [p, path, rgb, lab] of table) {
      const [a, b] = await imagePair("ex_ref.png", p, path);
      const dRgb = (1 - ssim(a, b, { colorspace: "RGB" })[0]) / 2;
      const dLab = (1 - ssim(a, b, { colorspace: "Lab" })[0]) / 2;
      assert.ok(Math.abs(dRgb - rgb) <= 5e-10, `${p} ${path} RGB: ${dRgb} vs ${rgb}`);
      assert.ok(Math.abs(dLab - lab) <= 5e-10, `${p} ${path} Lab: ${dLab} vs ${lab}`);
      assert.ok(relErr(dssim(a, b, { colorspace: "RGB" })[0], rgb) <= REL);
    }
    // Issue #26: test_network.py with the SSIM model printed (0.262, 0.344).
    const [ref, p0] = await imagePair("ex_ref.png", "ex_p0.png", "A");
    const [, p1] = await imagePair("ex_ref.png", "ex_p1.png", "A");
    const batch = dssim(
      { data: new Float32Array([...ref.data, ...ref.data]), shape: [2, 3, 64, 64] },
      { data: new Float32Array([...p0.data, ...p1.data]), shape: [2, 3, 64, 64] },
      { colorspace: "RGB" },
    );
    assert.deepEqual([...batch].map((v) => v.toFixed(3)), ["0.262", "0.344"]);
  },
);

// scikit-image 0.19.3 (Debian bookworm python3-skimage, numpy 1.24.2, scipy 1.10.1), by
// /usr/bin/python3 on the decoded 8-bit images (Pillow, RGB):
//   ssim(x.astype(np.float64), y.astype(np.float64), data_range=255, channel_axis=-1,
//        gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
//   ssim(rgb2lab(x).astype(np.float32).astype(np.float64), <same for y>, data_range=100,
//        channel_axis=-1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
// [image a, image b, RGB, Lab]
const SKIMAGE_GAUSSIAN: [string, string, number, number][] = [
  ["ex_ref.png", "ex_p0.png", 0.4367461468196881, 0.4790586491320515],
  ["ex_ref.png", "ex_p1.png", 0.29590314665406076, 0.325101008923711],
  ["tid_I08_ref.png", "tid_I08_dist.png", 0.9674282565375902, 0.9643561407555841],
];

Deno.test(needsTestData("gaussian preset matches scikit-image's Wang et al. SSIM"), async () => {
  let worst = 0;
  for (const [x, y, rgb, lab] of SKIMAGE_GAUSSIAN) {
    // Both of the reference's tensor paths: the preset rounds, recovering the stored pixels.
    for (const path of ["A", "B"] as const) {
      const [a, b] = await imagePair(x, y, path);
      const gotRgb = ssim(a, b, { preset: "gaussian", colorspace: "RGB" })[0];
      const gotLab = ssim(a, b, { preset: "gaussian", colorspace: "Lab" })[0];
      for (const [got, want, cs] of [[gotRgb, rgb, "RGB"], [gotLab, lab, "Lab"]] as const) {
        const err = relErr(got, want);
        assert.ok(err <= REL, `${x} vs ${y} (${path}, ${cs}): ${got} vs ${want} (rel ${err})`);
        worst = Math.max(worst, err);
      }
    }
  }
  console.log(`gaussian ssim: worst relative deviation vs scikit-image ${worst.toExponential(2)}`);
});

Deno.test("ssim of identical images is exactly 1 and the metric is symmetric", () => {
  const shape: Shape = [2, 3, 23, 17];
  const a = toTensor(randomBytes(2 * 3 * 23 * 17, 3), shape);
  const b = toTensor(randomBytes(2 * 3 * 23 * 17, 4), shape);
  for (const preset of ["paper", "gaussian"] as const) {
    for (const colorspace of ["RGB", "Lab"] as const) {
      const o = { preset, colorspace };
      assert.deepEqual([...ssim(a, a, o)], [1, 1]);
      assert.deepEqual([...dssim(a, a, o)], [0, 0]);
      assert.deepEqual([...ssim(a, b, o)], [...ssim(b, a, o)]);
    }
  }
});

Deno.test("ssim equals the definition computed window by window", () => {
  const h = 19, w = 23;
  const x = randomBytes(h * w, 11);
  // y: a blurred, shifted, noisy version of x, so that SSIM is far from 0 and from 1.
  const y = new Float64Array(h * w);
  for (let i = 0; i < h * w; i++) y[i] = 0.6 * x[i] + 0.3 * x[(i + 1) % (h * w)] + (i % 7) * 3;
  const checks: [string, Parameters<typeof structuralSimilarity>[3], number[][], boolean][] = [
    ["paper", { dataRange: 255 }, uniform2d(7), true],
    ["uniform 5", { dataRange: 255, winSize: 5, sampleCovariance: false }, uniform2d(5), false],
    ["gaussian", { dataRange: 255, preset: "gaussian" }, gaussian2d(1.5, 5), false],
    ["gaussian sigma 1", { dataRange: 255, preset: "gaussian", sigma: 1 }, gaussian2d(1, 4), false],
  ];
  for (const [name, opts, weights, sample] of checks) {
    const got = structuralSimilarity(x, y, [1, 1, h, w], opts).ssim[0];
    const want = bruteForceSsim(x, y, h, w, weights, sample, 255);
    assert.ok(want > 0.2 && want < 0.95, `${name}: ${want}`);
    assert.ok(relErr(got, want) <= 1e-12, `${name}: ${got} vs ${want}`);
  }
});

Deno.test("ssim is unchanged when both images are flipped or transposed", () => {
  const h = 21, w = 30;
  const shape: Shape = [1, 3, h, w];
  const u = randomBytes(3 * h * w, 5);
  const v = u.map((p, i) => (p + ((i * 31) % 97)) % 256);
  const remap = (src: Uint8Array, f: (i: number, j: number) => number, hh: number, ww: number) => {
    const out = new Uint8Array(src.length);
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < hh; i++) {
        for (let j = 0; j < ww; j++) out[c * hh * ww + i * ww + j] = src[c * h * w + f(i, j)];
      }
    }
    return out;
  };
  const flips: [string, (i: number, j: number) => number, Shape][] = [
    ["horizontal", (i, j) => i * w + (w - 1 - j), shape],
    ["vertical", (i, j) => (h - 1 - i) * w + j, shape],
    ["transpose", (i, j) => j * w + i, [1, 3, w, h]],
  ];
  for (const preset of ["paper", "gaussian"] as const) {
    for (const colorspace of ["RGB", "Lab"] as const) {
      const o = { preset, colorspace };
      const base = ssim(toTensor(u, shape), toTensor(v, shape), o)[0];
      assert.ok(base > 0.05 && base < 0.95);
      for (const [name, f, s] of flips) {
        const hh = s[2], ww = s[3];
        const got = ssim(toTensor(remap(u, f, hh, ww), s), toTensor(remap(v, f, hh, ww), s), o)[0];
        assert.ok(relErr(got, base) <= 1e-12, `${preset} ${colorspace} ${name}: ${got} vs ${base}`);
      }
      // A flip of one image only does change it (the test above cannot pass by accident).
      const one = ssim(toTensor(remap(u, flips[0][1], h, w), shape), toTensor(v, shape), o)[0];
      assert.ok(Math.abs(one - base) > 1e-3);
    }
  }
});

Deno.test("ssim: analytic value for two flat images", () => {
  // Flat images: zero variances, so S = (2 m n + C1) / (m^2 + n^2 + C1) at every window.
  const shape: Shape = [1, 3, 12, 12];
  const flat = (u: number) => toTensor(new Uint8Array(3 * 144).fill(u), shape);
  const c1 = (0.01 * 255) ** 2;
  const want = (2 * 150 * 200 + c1) / (150 ** 2 + 200 ** 2 + c1);
  // Uniform means are exact for flat windows; Gaussian taps sum to 1 only within rounding.
  for (const [preset, tol] of [["paper", 1e-15], ["gaussian", 1e-12]] as const) {
    const got = ssim(flat(150), flat(200), { preset, colorspace: "RGB" })[0];
    assert.ok(relErr(got, want) <= tol, `${preset}: ${got} vs ${want}`);
  }
  // A constant offset keeps contrast and structure: with y = x + d, S = luminance term only.
  const x = randomBytes(144, 9).map((p) => p % 100);
  const y = x.map((p) => p + 50);
  const r = structuralSimilarity(x, y, [1, 1, 12, 12], { dataRange: 255, full: true });
  const uniform = (d: Uint8Array, i: number, j: number) => {
    let s = 0;
    for (let a = 0; a < 7; a++) for (let b = 0; b < 7; b++) s += d[(i + a) * 12 + j + b];
    return s / 49;
  };
  for (let i = 0; i < 6; i++) {
    for (let j = 0; j < 6; j++) {
      const mx = uniform(x, i, j), my = uniform(y, i, j);
      const lum = (2 * mx * my + c1) / (mx * mx + my * my + c1);
      assert.ok(relErr(r.map!.data[i * 6 + j], lum) <= 1e-12);
    }
  }
});

Deno.test("ssimMap: shape, per-channel means and agreement with ssim", () => {
  const shape: Shape = [2, 3, 20, 16];
  const a = toTensor(randomBytes(2 * 3 * 320, 21), shape);
  const b = toTensor(
    randomBytes(2 * 3 * 320, 22).map((p, i) => (p + a.data[i] * 100) & 255),
    shape,
  );
  for (const preset of ["paper", "gaussian"] as const) {
    const k = preset === "paper" ? 7 : 11;
    const r = ssimMap(a, b, { preset, colorspace: "Lab" });
    const oh = 20 - k + 1, ow = 16 - k + 1;
    assert.deepEqual(r.map!.shape, [2, 3, oh, ow]);
    assert.equal(r.map!.data.length, 2 * 3 * oh * ow);
    assert.deepEqual([...r.ssim], [...ssim(a, b, { preset, colorspace: "Lab" })]);
    for (let p = 0; p < 6; p++) {
      let s = 0;
      for (let q = p * oh * ow; q < (p + 1) * oh * ow; q++) {
        assert.ok(r.map!.data[q] >= -1 && r.map!.data[q] <= 1);
        s += r.map!.data[q];
      }
      assert.ok(relErr(s / (oh * ow), r.perChannel[p]) <= 1e-12);
    }
    for (let i = 0; i < 2; i++) {
      const mean = (r.perChannel[3 * i] + r.perChannel[3 * i + 1] + r.perChannel[3 * i + 2]) / 3;
      assert.equal(r.ssim[i], mean);
    }
  }
});

Deno.test("ssim: a batch gives the same values as its items one by one", () => {
  const shape: Shape = [3, 3, 16, 16];
  const per = 3 * 256;
  const a = toTensor(randomBytes(3 * per, 31), shape);
  const b = toTensor(randomBytes(3 * per, 32), shape);
  for (const preset of ["paper", "gaussian"] as const) {
    const batch = ssim(a, b, { preset, colorspace: "RGB" });
    for (let i = 0; i < 3; i++) {
      const one = (t: ImageTensor) => ({
        data: t.data.slice(i * per, (i + 1) * per),
        shape: [1, 3, 16, 16] as Shape,
      });
      assert.equal(batch[i], ssim(one(a), one(b), { preset, colorspace: "RGB" })[0]);
    }
  }
});

Deno.test("ssim: presets, options and the input types of structuralSimilarity", () => {
  assert.equal(SSIM_PRESETS.paper.winSize, 7);
  assert.equal(SSIM_PRESETS.gaussian.sigma, 1.5);
  const x = randomBytes(400, 41), y = randomBytes(400, 42);
  const shape: Shape = [1, 1, 20, 20];
  const r8 = structuralSimilarity(x, y, shape, { dataRange: 255 }).ssim[0];
  const r32 = structuralSimilarity(Float32Array.from(x), Float32Array.from(y), shape, {
    dataRange: 255,
  }).ssim[0];
  assert.equal(r8, r32);
  // SSIM is invariant to scaling the values together with the data range.
  const r1 = structuralSimilarity(
    Float64Array.from(x, (v) => v / 255),
    Float64Array.from(y, (v) => v / 255),
    shape,
    { dataRange: 1 },
  ).ssim[0];
  assert.ok(relErr(r1, r8) <= 1e-12);
  // Explicit options equal to a preset give the preset.
  const explicit = structuralSimilarity(x, y, shape, {
    dataRange: 255,
    gaussianWeights: true,
    sigma: 1.5,
    truncate: 3.5,
    sampleCovariance: false,
    winSize: 11,
  }).ssim[0];
  assert.equal(
    explicit,
    structuralSimilarity(x, y, shape, { dataRange: 255, preset: "gaussian" }).ssim[0],
  );
  // The paper preset truncates by default; the gaussian preset rounds; both can be overridden.
  const t = toTensor(randomBytes(3 * 400, 43), [1, 3, 20, 20]);
  const u = toTensor(randomBytes(3 * 400, 44), [1, 3, 20, 20]);
  const paper = ssim(t, u, { colorspace: "RGB" })[0];
  assert.equal(ssim(t, u, { colorspace: "RGB", quantize: "truncate" })[0], paper);
  assert.notEqual(ssim(t, u, { colorspace: "RGB", quantize: "round" })[0], paper);
  assert.equal(ssim(t, u)[0], ssim(t, u, { colorspace: "Lab" })[0]);
});

Deno.test("ssim: clear errors for bad inputs and options", () => {
  const t = (shape: Shape, fill = 0) => ({
    data: new Float32Array(shape.reduce((p, q) => p * q)).fill(fill),
    shape,
  });
  const ok = t([1, 3, 12, 12]);
  const cases: [() => unknown, new (...args: never[]) => Error, RegExp][] = [
    [() => ssim(ok, t([1, 3, 12, 13])), RangeError, /shapes differ/],
    [() => ssim(t([1, 4, 12, 12]), t([1, 4, 12, 12])), RangeError, /4 channels/],
    [() => ssim(ok, t([1, 3, 12, 12], NaN)), RangeError, /b has NaN/],
    [() => dssim(t([1, 3, 12, 12], Infinity), ok), RangeError, /a has Infinity/],
    [() => ssim(t([1, 3, 6, 12]), t([1, 3, 6, 12])), RangeError, /12x6 .* smaller than the 7x7/],
    [
      () => ssim(t([1, 3, 10, 12]), t([1, 3, 10, 12]), { preset: "gaussian" }),
      RangeError,
      /12x10 .* smaller than the 11x11/,
    ],
    [() => ssim(ok, ok, { winSize: 6 }), RangeError, /winSize must be an odd/],
    [() => ssim(ok, ok, { preset: "gaussian", winSize: 7 }), RangeError, /contradicts/],
    [() => ssim(ok, ok, { preset: "fast" as "paper" }), RangeError, /preset must be/],
    [() => ssim(ok, ok, { dataRange: -1 }), RangeError, /dataRange must be/],
    [() => ssim(ok, ok, { k2: NaN }), RangeError, /k2 must be/],
    [() => ssim(ok, ok, { preset: "gaussian", sigma: 0 }), RangeError, /sigma must be/],
    [() => ssim(ok, ok, { colorspace: "rgb" as "RGB" }), RangeError, /colorspace must be/],
    [
      () =>
        structuralSimilarity(new Float64Array(4), new Float64Array(4), [1, 1, 2, 2], {} as never),
      RangeError,
      /smaller than the 7x7|dataRange/,
    ],
    [
      () =>
        structuralSimilarity(new Float64Array(5), new Float64Array(4), [1, 1, 2, 2], {
          dataRange: 1,
        }),
      RangeError,
      /x has 5 values but shape \[1,1,2,2\] needs 4/,
    ],
    [
      () =>
        structuralSimilarity([1, 2] as unknown as Float64Array, new Float64Array(2), [1, 1, 1, 2], {
          dataRange: 1,
        }),
      TypeError,
      /x must be a Float64Array/,
    ],
  ];
  for (const [f, type, msg] of cases) {
    assert.throws(f, (e: Error) => e instanceof type && msg.test(e.message), String(msg));
  }
});
