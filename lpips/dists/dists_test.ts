/**
 * DISTS against the official PyTorch code's numbers (_testing/metric_goldens/dists_goldens.json,
 * with the random VGG16 of the test data; tolerance: docs/algorithm.md §13), its input forms and
 * every error path.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { needsTestData, testData } from "../../_internal/test_data.ts";
import { sha256Hex } from "../../_internal/http_download.ts";
import { type ImageTensor, readImage, type RGBImage, toTensor01 } from "../../bappsloader/image.ts";
import { buildSource, GOLDEN_CASES } from "../../_testing/metric_goldens/cases.ts";
import { readPthFile, toFloat32, writePth } from "../pth/pth.ts";
import { InputError } from "../validate.ts";
import { WeightsError } from "../weights.ts";
import { DISTS } from "./dists.ts";
import { DISTS_WEIGHTS_FILE, loadDistsWeights } from "./dists_weights.ts";
import { l2PooledSize, l2PoolWindow } from "./dists_graph.ts";

/**
 * docs/algorithm.md §13: every value is within 1e-6 of the official code run in float64, and
 * within 2e-6 of the official code as published (float32) wherever that float32 value is itself
 * within 2e-6 of its float64 one.
 */
const TOLERANCE_F64 = 1e-6;
const TOLERANCE = 2e-6;
/** The cases where the official float32 arithmetic is off its float64 value by more than 2e-6. */
const ILL_CONDITIONED = ["crop_2x2", "crop_3x5", "constant_equal", "constant_vs_constant"];

interface Golden {
  name: string;
  size: [number, number];
  resize: number;
  no_resize: number;
  resize_f64: number;
  no_resize_f64: number;
}

const goldens: Golden[] = JSON.parse(
  await Deno.readTextFile(
    new URL("../../_testing/metric_goldens/dists_goldens.json", import.meta.url),
  ),
).cases;

const trunkPath = () => testData("weights", "vgg16-random-seed0.pth");
const open = (opts: { resize?: boolean } = {}) =>
  DISTS.create({ trunkPath: trunkPath(), weightsDir: testData("weights"), threads: 2, ...opts });

async function withDists(
  opts: { resize?: boolean },
  body: (d: DISTS) => Promise<void>,
): Promise<void> {
  const d = await open(opts);
  try {
    await body(d);
  } finally {
    await d.dispose();
  }
}

Deno.test("the L2 pool's window and output size", () => {
  const w = l2PoolWindow();
  assert.deepEqual([...w], [1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => v / 16));
  assert.deepEqual([1, 2, 3, 4, 5, 64, 65].map(l2PooledSize), [1, 1, 2, 2, 3, 32, 33]);
});

Deno.test("the golden cases cover the official script's cases", () => {
  assert.deepEqual(goldens.map((g) => g.name), GOLDEN_CASES.map((c) => c.name));
  for (const name of ["tid_I03", "ex_p0", "crop_1x1", "grey_I03", "identical_I04"]) {
    assert.ok(goldens.some((g) => g.name === name), name);
  }
});

Deno.test("the official float32 values stray from float64 only on the documented cases", () => {
  const stray = goldens.filter((g) =>
    Math.abs(g.resize - g.resize_f64) > TOLERANCE ||
    Math.abs(g.no_resize - g.no_resize_f64) > TOLERANCE
  );
  assert.deepEqual(stray.map((g) => g.name), ILL_CONDITIONED);
});

for (const resize of [true, false]) {
  Deno.test(
    needsTestData(`DISTS equals the official code on every golden case (resize ${resize})`),
    async () => {
      await withDists({ resize }, async (d) => {
        const cache = new Map<string, Promise<RGBImage>>();
        let worst = 0, worst64 = 0;
        for (const c of GOLDEN_CASES) {
          const g = goldens.find((x) => x.name === c.name)!;
          const [a, b] = await Promise.all([buildSource(c.ref, cache), buildSource(c.dist, cache)]);
          const [got] = await d.score(a, b);
          const [want, want64] = resize ? [g.resize, g.resize_f64] : [g.no_resize, g.no_resize_f64];
          const dev64 = Math.abs(got - want64);
          worst64 = Math.max(worst64, dev64);
          assert.ok(dev64 <= TOLERANCE_F64, `${c.name}: ${got} vs official float64 ${want64}`);
          if (ILL_CONDITIONED.includes(c.name)) continue;
          const dev = Math.abs(got - want);
          worst = Math.max(worst, dev);
          assert.ok(dev <= TOLERANCE, `${c.name}: ${got} vs official ${want} (|d| = ${dev})`);
        }
        console.log(
          `largest deviation (resize ${resize}): ${worst.toExponential(2)} from the official ` +
            `code, ${worst64.toExponential(2)} from it in float64`,
        );
      });
    },
  );
}

Deno.test(needsTestData("files, RGB images, tensors and grey batches agree"), async () => {
  await withDists({}, async (d) => {
    const golden = (name: string) => goldens.find((g) => g.name === name)!;
    const ref = testData("images", "ex_ref.png"), p0 = testData("images", "ex_p0.png");
    const [fromFiles] = await d.score(ref, p0);
    assert.ok(Math.abs(fromFiles - golden("ex_p0").resize) <= TOLERANCE);
    const [a, b] = await Promise.all([readImage(ref), readImage(p0)]);
    assert.equal((await d.score(a, b))[0], fromFiles);
    assert.equal((await d.score(toTensor01(a), toTensor01(b)))[0], fromFiles);
    // A batch of one against a batch of two: one score per image of the batch.
    const t1 = toTensor01(b), t2 = toTensor01(await readImage(testData("images", "ex_p1.png")));
    const both: ImageTensor = {
      data: new Float32Array([...t1.data, ...t2.data]),
      shape: [2, 3, 64, 64],
    };
    const pair = await d.score(toTensor01(a), both);
    assert.equal(pair.length, 2);
    assert.equal(pair[0], fromFiles);
    assert.ok(Math.abs(pair[1] - golden("ex_p1").resize) <= TOLERANCE);
  });
});

Deno.test(needsTestData("a grey batch (one channel) is repeated into RGB"), async () => {
  const c = GOLDEN_CASES.find((x) => x.name === "grey_I03")!;
  const grey = async (src: typeof c.ref): Promise<ImageTensor> => {
    const rgb = toTensor01(await buildSource(src));
    const [, , h, w] = rgb.shape;
    return { data: rgb.data.slice(h * w, 2 * h * w), shape: [1, 1, h, w] };
  };
  await withDists({ resize: false }, async (d) => {
    const [g] = await d.score(await grey(c.ref), await grey(c.dist));
    const want = goldens.find((x) => x.name === "grey_I03")!.no_resize;
    assert.ok(Math.abs(g - want) <= TOLERANCE, `${g} vs ${want}`);
  });
});

Deno.test(needsTestData("the resize applies to 8-bit inputs over 256 px only"), async () => {
  await withDists({}, async (d) => {
    const g = goldens.find((x) => x.name === "tid_I03")!;
    const ref = testData("images", "tid_I03_ref.png"),
      dist = testData("images", "tid_I03_dist.png");
    const [file] = await d.score(ref, dist);
    assert.ok(Math.abs(file - g.resize) <= TOLERANCE);
    // Float batches are taken as given, as the official model's forward takes them.
    const [a, b] = await Promise.all([readImage(ref), readImage(dist)]);
    const [tensor] = await d.score(toTensor01(a), toTensor01(b));
    assert.ok(Math.abs(tensor - g.no_resize) <= TOLERANCE);
    assert.ok(Math.abs(g.resize - g.no_resize) > 100 * TOLERANCE, "the two paths differ");
  });
});

Deno.test(needsTestData("DISTS's input errors are one line each"), async () => {
  await withDists({}, async (d) => {
    const small = { width: 4, height: 3, data: new Uint8Array(36) };
    const other = { width: 3, height: 4, data: new Uint8Array(36) };
    await assert.rejects(
      () => d.score(small, other),
      (e) => e instanceof InputError && /input 0 is 4x3 and input 1 is 3x4/.test(e.message),
    );
    // Over 256 px both shrink: sizes are compared after the resize.
    const wide = { width: 600, height: 300, data: new Uint8Array(600 * 300 * 3) };
    const square = { width: 300, height: 300, data: new Uint8Array(300 * 300 * 3) };
    await assert.rejects(
      () => d.score(wide, square),
      /input 0 is 512x256 and input 1 is 256x256 \(WxH, after the resize to 256 px\)/,
    );
    const outOfRange: ImageTensor = { data: new Float32Array(12).fill(2), shape: [1, 3, 2, 2] };
    await assert.rejects(() => d.score(outOfRange, outOfRange), InputError);
    const empty: ImageTensor = { data: new Float32Array(0), shape: [1, 3, 0, 2] };
    await assert.rejects(() => d.score(empty, empty), /images of 0 px/);
    await assert.rejects(() => d.score(testData("images", "nope.png"), small));
  });
  const d = await open();
  await d.dispose();
  await assert.rejects(
    () =>
      d.score({ width: 1, height: 1, data: new Uint8Array(3) }, {
        width: 1,
        height: 1,
        data: new Uint8Array(3),
      }),
    /after dispose/,
  );
});

Deno.test("DISTS's option errors", async () => {
  await assert.rejects(
    // @ts-expect-error: not an engine DISTS runs on
    () => DISTS.create({ engine: "tfjs" }),
    /DISTS runs on the onnx engine only/,
  );
  await assert.rejects(() => DISTS.create({ threads: 0 }), /threads must be a whole number/);
  // @ts-expect-error: not a boolean
  await assert.rejects(() => DISTS.create({ resize: "yes" }), /resize must be true or false/);
});

Deno.test(needsTestData("alpha/beta: found, pinned and checked"), async () => {
  const dir = await Deno.makeTempDir({ prefix: "dists_weights_" });
  try {
    // A weights folder without dists/weights.pt: an error naming the path, no download.
    await assert.rejects(
      () => loadDistsWeights({ trunkPath: trunkPath(), weightsDir: dir }),
      (e) =>
        e instanceof WeightsError &&
        e.message.includes(`dists/weights.pt not found: ${join(dir, "dists", "weights.pt")}`),
    );
    const official = await readPthFile(testData("weights", "dists", "weights.pt"));
    const tensors = new Map(
      [...official].map(([k, t]) => [k, { shape: t.shape, data: toFloat32(t) }]),
    );
    // The official name with other values: refused by the per-tensor pin.
    const changed = new Map(tensors);
    const alpha = tensors.get("alpha")!.data.slice();
    alpha[7] *= 1.5;
    changed.set("alpha", { shape: tensors.get("alpha")!.shape, data: alpha });
    await Deno.mkdir(join(dir, "dists"));
    await Deno.writeFile(join(dir, "dists", "weights.pt"), writePth(changed));
    await assert.rejects(
      () => loadDistsWeights({ trunkPath: trunkPath(), weightsDir: dir }),
      /tensor alpha does not match the official weights: sha256/,
    );
    // An explicit file is not pinned, but must be non-negative and of the right shapes.
    const custom = join(dir, "custom.pt");
    await Deno.writeFile(custom, writePth(changed));
    const w = await loadDistsWeights({ trunkPath: trunkPath(), weightsPath: custom });
    assert.equal(w.alpha[7], alpha[7]);
    alpha[3] = -1;
    await Deno.writeFile(custom, writePth(changed));
    await assert.rejects(
      () => loadDistsWeights({ trunkPath: trunkPath(), weightsPath: custom }),
      /tensor alpha has a negative weight \(-1\) at flat index 3/,
    );
    const short = new Map([["alpha", { shape: [1, 3, 1, 1], data: new Float32Array(3) }]]);
    await Deno.writeFile(custom, writePth(short));
    await assert.rejects(
      () => loadDistsWeights({ trunkPath: trunkPath(), weightsPath: custom }),
      /tensor alpha has shape \[1, 3, 1, 1\], expected \[1, 1475, 1, 1\]/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(needsTestData("alpha/beta download: official URL, full sha256"), async () => {
  const bytes = await Deno.readFile(testData("weights", "dists", "weights.pt"));
  assert.equal(await sha256Hex(bytes), DISTS_WEIGHTS_FILE.sha256);
  assert.equal(bytes.length, DISTS_WEIGHTS_FILE.size);
  const cache = await Deno.makeTempDir({ prefix: "dists_cache_" });
  try {
    const asked: string[] = [];
    const serve = (body: Uint8Array) => (url: string | URL | Request) => {
      asked.push(String(url));
      return Promise.resolve(new Response(body.slice()));
    };
    const bad = bytes.slice();
    bad[bytes.length - 20] ^= 1;
    await assert.rejects(
      () =>
        loadDistsWeights({
          trunkPath: trunkPath(),
          cacheDir: cache,
          env: {},
          quiet: true,
          fetch: serve(bad) as typeof fetch,
        }),
      (e) => e instanceof WeightsError && /sha256/i.test(e.message),
    );
    assert.deepEqual(asked, [
      "https://raw.githubusercontent.com/dingkeyan93/DISTS/" +
      "1267d8cb626c98706db3697422701c56a85ebf2e/DISTS_pytorch/weights.pt",
    ]);
    const w = await loadDistsWeights({
      trunkPath: trunkPath(),
      cacheDir: cache,
      env: {},
      quiet: true,
      fetch: serve(bytes) as typeof fetch,
    });
    assert.equal(w.alpha.length, 1475);
    assert.equal(
      await sha256Hex(await Deno.readFile(join(cache, "dists", "weights.pt"))),
      DISTS_WEIGHTS_FILE.sha256,
    );
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});
