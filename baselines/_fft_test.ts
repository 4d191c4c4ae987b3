import assert from "node:assert/strict";
import { fft1, fft2 } from "./_fft.ts";

function naiveDft(re: Float64Array, im: Float64Array): [Float64Array, Float64Array] {
  const n = re.length, oRe = new Float64Array(n), oIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      const a = (-2 * Math.PI * ((j * k) % n)) / n;
      oRe[k] += re[j] * Math.cos(a) - im[j] * Math.sin(a);
      oIm[k] += re[j] * Math.sin(a) + im[j] * Math.cos(a);
    }
  }
  return [oRe, oIm];
}

function seq(n: number, seed: number): Float64Array {
  let s = seed;
  return Float64Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31 - 0.5;
  });
}

Deno.test("fft1 equals the DFT for powers of two and any other length", () => {
  for (
    const n of [1, 2, 3, 4, 5, 7, 8, 12, 16, 17, 31, 32, 37, 64, 96, 100, 127, 177, 192, 255, 1024]
  ) {
    const re = seq(n, n), im = seq(n, n + 1);
    const [wr, wi] = naiveDft(re, im);
    fft1(re, im);
    let err = 0, norm = 0;
    for (let k = 0; k < n; k++) {
      err = Math.max(err, Math.hypot(re[k] - wr[k], im[k] - wi[k]));
      norm = Math.max(norm, Math.hypot(wr[k], wi[k]));
    }
    assert.ok(err <= 1e-13 * Math.max(norm, 1), `n=${n}: error ${err}`);
  }
});

Deno.test("fft2 then its inverse gives the input back; a constant has only a DC term", () => {
  const rows = 6, cols = 10, re = seq(60, 3), im = seq(60, 4);
  const r0 = re.slice(), i0 = im.slice();
  fft2(re, im, rows, cols);
  fft2(re, im, rows, cols, true);
  for (let i = 0; i < 60; i++) {
    assert.ok(Math.abs(re[i] - r0[i]) < 1e-15 && Math.abs(im[i] - i0[i]) < 1e-15, `${i}`);
  }
  const c = new Float64Array(60).fill(2), z = new Float64Array(60);
  fft2(c, z, rows, cols);
  assert.ok(Math.abs(c[0] - 120) < 1e-12);
  assert.ok(c.subarray(1).every((v) => Math.abs(v) < 1e-12) && z.every((v) => Math.abs(v) < 1e-12));
});

Deno.test("fft2 equals the 2-D DFT for mixed-radix and Bluestein sides", () => {
  for (const [rows, cols] of [[12, 37], [59, 8], [9, 10]]) {
    const n = rows * cols, re = seq(n, rows), im = seq(n, cols);
    const wr = new Float64Array(n), wi = new Float64Array(n);
    for (let k = 0; k < rows; k++) {
      for (let l = 0; l < cols; l++) {
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < cols; c++) {
            const a = -2 * Math.PI * (((k * r) % rows) / rows + ((l * c) % cols) / cols);
            const x = re[r * cols + c], y = im[r * cols + c];
            wr[k * cols + l] += x * Math.cos(a) - y * Math.sin(a);
            wi[k * cols + l] += x * Math.sin(a) + y * Math.cos(a);
          }
        }
      }
    }
    fft2(re, im, rows, cols);
    for (let i = 0; i < n; i++) {
      const err = Math.hypot(re[i] - wr[i], im[i] - wi[i]);
      assert.ok(err < 1e-12, `${rows}x${cols} at ${i}: error ${err}`);
    }
  }
});
