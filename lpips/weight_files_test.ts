import assert from "node:assert/strict";
import { join } from "node:path";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { arch, trunkTensorSpec } from "./arch.ts";
import {
  loadCheckpointTrunk,
  loadDistsWeights,
  loadLinWeights,
  loadTrunkWeights,
} from "./weight_files.ts";
import { LPIPS } from "./lpips.ts";
import { loadImage } from "../bappsloader/image.ts";
import { readPth, toFloat32, writePth } from "./pth/pth.ts";

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
  ...needsTestData("heads that could make a distance negative or infinite are refused at load"),
  fn: async () => {
    const heads = readPth(await Deno.readFile(headFile()));
    const changed = (f: (w: number, i: number) => number) =>
      writePth(
        new Map([...heads].map(([k, t]) => [k, { shape: t.shape, data: toFloat32(t).map(f) }])),
      );
    const dir = await Deno.makeTempDir();
    try {
      const neg = join(dir, "neg.pth"), huge = join(dir, "huge.pth"), ok = join(dir, "ok.pth");
      await Deno.writeFile(neg, changed((w, i) => i === 3 ? -0.5 : w));
      await Deno.writeFile(huge, changed(() => 3e38));
      await assert.rejects(loadLinWeights(alex, "0.1", { path: neg }), {
        name: "WeightsError",
        message:
          `${neg}: tensor lin0.model.1.weight has a negative weight (-0.5) at flat index 3; ` +
          "LPIPS heads are >= 0, so that distances are >= 0",
      });
      await assert.rejects(loadLinWeights(alex, "0.1", { path: huge }), {
        name: "WeightsError",
        message: `${huge}: head weights too large (a distance could reach 6.00e+39, over ` +
          "float32's largest value 3.40e+38)",
      });
      // 0 and large-but-bounded weights are fine (4 * 5 layers * 1e37 < 3.4e38).
      await Deno.writeFile(ok, changed((w, i) => i === 0 ? 0 : i === 1 ? 1e37 : w));
      assert.equal((await loadLinWeights(alex, "0.1", { path: ok })).size, 5);
      // A folder as the head file: one line naming it.
      await assert.rejects(loadLinWeights(alex, "0.1", { path: dir }), {
        message: `lpips/v0.1/alex.pth: the given path ${dir} is not a file`,
      });
      await assert.rejects(LPIPS.create({ linPath: dir, weightsDir: testData("weights") }), {
        message: `${dir}: cannot read (it is a folder, not a file)`,
      });
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

Deno.test({
  ...needsTestData("a tune/scratch checkpoint as linPath brings its own trunk (net.slice keys)"),
  fn: async () => {
    const trunk = await loadTrunkWeights(alex, { weightsDir: testData("weights") });
    const heads = readPth(await Deno.readFile(headFile()));
    const state = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, t] of heads) state.set(k, { shape: t.shape, data: toFloat32(t) });
    const spec = new Map(trunkTensorSpec(alex).map((e) => [e.key, e.shape]));
    for (const [k, data] of trunk) {
      const j = Number(k.split(".")[1]);
      const slice = alex.taps.findIndex((t) => j <= t) + 1;
      // A "tuned" trunk: every weight halved, so the distance must change.
      const scaled = k.endsWith("weight") ? data.map((v) => v / 2) : data;
      state.set(`net.slice${slice}.${k.slice("features.".length)}`, {
        shape: spec.get(k)!,
        data: scaled,
      });
    }
    const dir = await Deno.makeTempDir();
    try {
      const ckpt = join(dir, "latest_net_.pth");
      await Deno.writeFile(ckpt, writePth(state));
      const loaded = await loadCheckpointTrunk(alex, ckpt);
      assert.deepEqual(
        loaded!.get("features.0.weight"),
        trunk.get("features.0.weight")!.map((v) => v / 2),
      );
      assert.equal(await loadCheckpointTrunk(alex, headFile()), undefined);
      const opts = { weightsDir: dir, quiet: true, engine: "tfjs" as const };
      const tuned = await LPIPS.create({ ...opts, linPath: ckpt }); // no trunk file in dir: not needed
      const stock = await LPIPS.create({
        ...opts,
        weightsDir: testData("weights"),
        linPath: headFile(),
      });
      try {
        const [a, b] = await Promise.all(
          ["ex_ref", "ex_p0"].map((n) => loadImage(testData("images", `${n}.png`))),
        );
        const [dt] = await tuned.distance(a, b);
        const [ds] = await stock.distance(a, b);
        assert.ok(Math.abs(dt - ds) > 1e-3, `tuned ${dt} vs stock ${ds}`);
      } finally {
        tuned.dispose();
        stock.dispose();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...needsTestData("every loader refuses a pickle with a forbidden global and a corrupt file"),
  fn: async () => {
    // PROTO 2, GLOBAL os.system, EMPTY_TUPLE, REDUCE, STOP: torch.load would run it.
    const evil = new Uint8Array([0x80, 2, ...new TextEncoder().encode("cos\nsystem\n)R.")]);
    const good = writePth(new Map([["w", { shape: [2], data: Float32Array.of(1, 2) }]]));
    const corrupt = good.slice(0, good.length - 30);
    const dir = await Deno.makeTempDir();
    try {
      const trunk = join(dir, alex.trunkFile);
      await Deno.writeFile(trunk, evil);
      const badHead = join(dir, "head.pth");
      await Deno.writeFile(badHead, corrupt);
      await Deno.mkdir(join(dir, "dists"));
      await Deno.writeFile(join(dir, "dists", "weights.pt"), evil);
      const forbidden = (path: string) => ({
        name: "PthError",
        message: new RegExp(`^${RegExp.escape(path)}: refuses to load global os\\.system`),
      });
      // Found by name in a weights folder, or given as a path: the same reader refuses it.
      await assert.rejects(loadTrunkWeights(alex, { weightsDir: dir }), forbidden(trunk));
      await assert.rejects(loadTrunkWeights(alex, { path: trunk }), forbidden(trunk));
      await assert.rejects(
        loadDistsWeights({
          trunkPath: testData("weights", "vgg16-random-seed0.pth"),
          weightsDir: dir,
        }),
        forbidden(join(dir, "dists", "weights.pt")),
      );
      await assert.rejects(
        loadLinWeights(alex, "0.1", { path: badHead }),
        { name: "PthError", message: new RegExp(`^${RegExp.escape(badHead)}: `) },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
