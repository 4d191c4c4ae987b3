import assert from "node:assert/strict";
import { join } from "node:path";
import { encode } from "fast-png";
import { saveNpy } from "../bappsloader/npy.ts";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { METRICS } from "../metrics/registry.ts";
import { evaluate } from "./runner.ts";

/**
 * Every registered metric but LPIPS (runner_test.ts covers it), MS-SSIM (too small here) and
 * DISTS (it loads weights: its own test below).
 */
const CLASSICAL = METRICS.filter((m) => !["lpips", "msssim", "dists"].includes(m.name));

/** A 64x64 texture, plus noise of amplitude `noise` drawn from `seed`. */
function texture(noise: number, seed: number): Uint8Array {
  let s = seed;
  const data = new Uint8Array(64 * 64 * 3);
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const p = Math.floor(i / 3), x = p % 64, y = Math.floor(p / 64);
    const base = 128 + 60 * Math.sin(x / 3 + (i % 3)) * Math.cos(y / 5);
    data[i] = Math.max(0, Math.min(255, Math.round(base + noise * ((s >>> 16) / 32768 - 1))));
  }
  return data;
}

/**
 * A BAPPS root where the humans always pick the slightly noisy image over the very noisy one
 * (2AFC judge 0) and call the slightly noisy pair "same" (JND): a metric read in its direction
 * scores 1 on both; read against it, 0.
 */
async function obviousRoot(dir: string): Promise<void> {
  const png = (data: Uint8Array) => encode({ width: 64, height: 64, data, channels: 3, depth: 8 });
  const put = async (parts: string[], bytes: Uint8Array | number) => {
    const path = join(dir, ...parts);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    if (typeof bytes === "number") await saveNpy(path, Float32Array.of(bytes), [1]);
    else await Deno.writeFile(path, bytes);
  };
  for (let i = 0; i < 6; i++) {
    const n = `00000${i}`;
    const ref = png(texture(0, i)),
      near = png(texture(6, 100 + i)),
      far = png(texture(90, 200 + i));
    const at = ["2afc", "val", "obvious"];
    await put([...at, "ref", `${n}.png`], ref);
    await put([...at, "p0", `${n}.png`], i % 2 ? far : near);
    await put([...at, "p1", `${n}.png`], i % 2 ? near : far);
    await put([...at, "judge", `${n}.npy`], i % 2); // the near image is preferred
    const jnd = ["jnd", "val", "obvious"];
    await put([...jnd, "p0", `${n}.png`], ref);
    await put([...jnd, "p1", `${n}.png`], i % 2 ? far : near);
    await put([...jnd, "same", `${n}.npy`], i % 2 ? 0 : 1);
  }
}

Deno.test("eval --model: every metric is read in its direction (2AFC 1, JND mAP 1)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await obviousRoot(dir);
    for (const m of CLASSICAL) {
      for (const mode of ["2afc", "jnd"] as const) {
        const r = await evaluate({
          root: dir,
          mode,
          datasets: ["val/obvious"],
          model: m.aliases[0] ?? m.name,
          bootstrap: 0,
          workers: 0,
        });
        assert.equal(r.model, m.name);
        assert.deepEqual([r.results[0].n, r.results[0].score], [6, 1], `${m.name} ${mode}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  ...needsTestData("eval --model NAME on bapps-mini: 2AFC and JND for each metric"),
  fn: async () => {
    const root = testData("bapps-mini");
    for (const m of CLASSICAL) {
      for (const mode of ["2afc", "jnd"] as const) {
        const r = await evaluate({
          root,
          mode,
          datasets: ["val/traditional"],
          model: m.name,
          batchSize: 40,
          bootstrap: 0,
          workers: 0,
        });
        const d = r.results[0];
        assert.equal(r.model, m.name);
        assert.equal(r.colorspace, m.name === "l2" || m.name === "ssim" ? "Lab" : null);
        assert.ok(d.n > 0 && d.score > 0.5 && d.score <= 1, `${m.name} ${mode}: ${d.score}`);
        const items = d.items;
        const all = "d0" in items ? [...items.d0, ...items.d1] : [...items.d];
        assert.ok(all.every((v) => v >= 0 && Number.isFinite(v)), m.name);
      }
    }
  },
});

Deno.test({
  ...needsTestData("eval --model msssim on BAPPS's 64x64 patches: MS-SSIM's one-line error"),
  fn: async () => {
    for (const mode of ["2afc", "jnd"] as const) {
      await assert.rejects(
        () =>
          evaluate({
            root: testData("bapps-mini"),
            mode,
            datasets: ["val/traditional"],
            model: "ms_ssim",
            bootstrap: 0,
            workers: 0,
          }),
        (e: Error) =>
          e instanceof RangeError && !e.message.includes("\n") &&
          e.message === "msssim: the images are 64x64; MS-SSIM's 5 scales need a short side of " +
              "at least 176 px (the 11x11 window at 1/16 scale)",
      );
    }
  },
});

Deno.test("eval: an unknown model names every valid one", async () => {
  await assert.rejects(
    () => evaluate({ root: ".", model: "vif" }),
    /^RangeError: unknown model "vif" \(expected lpips, baseline, l2, ssim, psnr, msssim, fsim, fsimc, gmsd, flip, dists\)$/,
  );
});

Deno.test({
  ...needsTestData("eval --model dists on bapps-mini: 2AFC and JND, every distance finite"),
  fn: async () => {
    for (const mode of ["2afc", "jnd"] as const) {
      const r = await evaluate({
        root: testData("bapps-mini"),
        mode,
        datasets: ["val/traditional"],
        model: "dists",
        weightsDir: testData("weights"),
        // Random weights stand in for ImageNet's VGG16 here: the scores check the plumbing only.
        trunkPath: testData("weights", "vgg16-random-seed0.pth"),
        batchSize: 40,
        bootstrap: 0,
        workers: 0,
        quiet: true,
      });
      const d = r.results[0];
      assert.equal(r.model, "dists");
      assert.ok(d.n > 0 && d.score >= 0 && d.score <= 1, `${mode}: ${d.score}`);
      const all = "d0" in d.items ? [...d.items.d0, ...d.items.d1] : [...d.items.d];
      assert.ok(all.every((v) => v >= 0 && v < 1 && Number.isFinite(v)), mode);
    }
  },
});
