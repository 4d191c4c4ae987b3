import assert from "node:assert/strict";
import { join } from "node:path";
import { needsTestData, testData } from "./_test_data.ts";
import { arch } from "./arch.ts";
import { loadLinWeights, loadTrunkWeights } from "./load_weights.ts";
import { readPth, toFloat32, writePth } from "./pth.ts";

const alex = arch("alex");
const headFile = () => testData("weights", "lpips", "v0.1", "alex.pth");

Deno.test({
  ...needsTestData(
    "a reference training checkpoint (lins.* duplicates, trunk, scaling) gives its heads",
  ),
  fn: async () => {
    const heads = readPth(await Deno.readFile(headFile()));
    const state = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, t] of heads) {
      const v = { shape: t.shape, data: toFloat32(t) };
      state.set(k, v);
      state.set(k.replace(/^lin(\d+)/, "lins.$1"), v);
    }
    state.set("scaling_layer.shift", {
      shape: [1, 3, 1, 1],
      data: new Float32Array([-0.03, -0.088, -0.188]),
    });
    state.set("net.slice1.0.weight", { shape: [64, 3, 11, 11], data: new Float32Array(64 * 363) });
    const dir = await Deno.makeTempDir();
    try {
      const ckpt = join(dir, "latest_net_.pth");
      await Deno.writeFile(ckpt, writePth(state));
      const got = await loadLinWeights(alex, "0.1", { path: ckpt });
      assert.deepEqual([...got.keys()], [...heads.keys()]);
      for (const [k, t] of heads) assert.deepEqual(got.get(k), toFloat32(t));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...needsTestData(
    "heads saved without dropout (lin{k}.model.0.weight) are an error, not silently random",
  ),
  fn: async () => {
    const heads = readPth(await Deno.readFile(headFile()));
    const renamed = new Map(
      [...heads].map((
        [k, t],
      ) => [k.replace(".model.1.", ".model.0."), { shape: t.shape, data: toFloat32(t) }]),
    );
    const dir = await Deno.makeTempDir();
    try {
      const file = join(dir, "heads.pth");
      await Deno.writeFile(file, writePth(renamed));
      await assert.rejects(
        loadLinWeights(alex, "0.1", { path: file }),
        /lin0\.model\.1\.weight is missing/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...needsTestData(
    "trunk files with or without the features. prefix load; a wrong trunk is refused",
  ),
  fn: async () => {
    const full = await loadTrunkWeights(alex, { weightsDir: testData("weights") });
    const raw = readPth(await Deno.readFile(testData("weights", alex.trunkFile)));
    const bare = new Map(
      [...raw].map((
        [k, t],
      ) => [k.replace(/^features\./, ""), { shape: t.shape, data: toFloat32(t) }]),
    );
    const dir = await Deno.makeTempDir();
    try {
      const file = join(dir, "alex_features.pth");
      await Deno.writeFile(file, writePth(bare));
      const got = await loadTrunkWeights(alex, { path: file });
      assert.deepEqual(got.get("features.0.weight"), full.get("features.0.weight"));
      await assert.rejects(
        loadTrunkWeights(arch("squeeze"), { path: testData("weights", alex.trunkFile) }),
        /features\.0\.weight has shape \[64, 3, 11, 11\], expected \[64, 3, 3, 3\]/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
