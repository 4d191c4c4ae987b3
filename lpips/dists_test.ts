/**
 * DISTS's input forms, its error paths and its weight files; its values against the official
 * code are _testing/metric_goldens/dists_goldens_test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { sha256Hex } from "../_internal/http_download.ts";
import { type ImageTensor, readImage, toTensor01 } from "../bappsloader/image.ts";
import { readPthFile, toFloat32, writePth } from "./pth/pth.ts";
import { InputError } from "./validate.ts";
import { WeightsError } from "./weights.ts";
import { DISTS } from "./dists.ts";
import { DISTS_WEIGHTS_FILE, loadDistsWeights } from "./weight_files.ts";
import { l2PooledSize, l2PoolWindow } from "./dists_graph.ts";

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

Deno.test(needsTestData("files, RGB images, tensors, batches and grey agree"), async () => {
  await withDists({}, async (d) => {
    const ref = testData("images", "ex_ref.png"), p0 = testData("images", "ex_p0.png");
    const [fromFiles] = await d.score(ref, p0);
    const [a, b] = await Promise.all([readImage(ref), readImage(p0)]);
    assert.equal((await d.score(a, b))[0], fromFiles);
    assert.equal((await d.score(toTensor01(a), toTensor01(b)))[0], fromFiles);
    // A batch of one against a batch of two: one score per image of the batch, each as alone.
    const p1 = toTensor01(await readImage(testData("images", "ex_p1.png")));
    const [alone] = await d.score(toTensor01(a), p1);
    const both: ImageTensor = {
      data: new Float32Array([...toTensor01(b).data, ...p1.data]),
      shape: [2, 3, 64, 64],
    };
    assert.deepEqual([...await d.score(toTensor01(a), both)], [fromFiles, alone]);
    // One channel is repeated into RGB.
    const green = (t: ImageTensor): ImageTensor => {
      const plane = t.data.slice(64 * 64, 2 * 64 * 64);
      return { data: plane, shape: [1, 1, 64, 64] };
    };
    const rgbGreen = (t: ImageTensor): ImageTensor => {
      const plane = green(t).data;
      return { data: new Float32Array([...plane, ...plane, ...plane]), shape: [1, 3, 64, 64] };
    };
    const ta = toTensor01(a), tb = toTensor01(b);
    assert.equal(
      (await d.score(green(ta), green(tb)))[0],
      (await d.score(rgbGreen(ta), rgbGreen(tb)))[0],
    );
    // Identical images: 0 up to float32 rounding in the trunk.
    assert.ok(Math.abs((await d.score(ref, ref))[0]) < 1e-6);
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
    const zeros = new Map(
      ["alpha", "beta"].map((k) => [k, { shape: [1, 1475, 1, 1], data: new Float32Array(1475) }]),
    );
    await Deno.writeFile(custom, writePth(zeros));
    await assert.rejects(
      () => loadDistsWeights({ trunkPath: trunkPath(), weightsPath: custom }),
      { name: "WeightsError", message: `${custom}: alpha and beta are all zero` },
    );
    const extra = new Map(zeros).set("gamma", { shape: [1], data: new Float32Array(1) });
    await Deno.writeFile(custom, writePth(extra));
    await assert.rejects(
      () => loadDistsWeights({ trunkPath: trunkPath(), weightsPath: custom }),
      { name: "WeightsError", message: `${custom}: unexpected tensor gamma` },
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
