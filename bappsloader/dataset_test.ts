import assert from "node:assert/strict";
import { join } from "node:path";
import { encode } from "fast-png";
import { needsTestData, testData } from "../_internal/test_data.ts";
import {
  defaultDecodeWorkers,
  jndBatches,
  loadDatasetImage,
  readJudgement,
  type TwoAFCBatch,
  twoAFCBatches,
} from "./dataset.ts";
import { readImage, toTensorNormalize } from "./image.ts";
import { listJND, listTwoAFC, type TwoAFCItem } from "./layout.ts";
import { npyScalar, readNpy, writeNpy } from "./npy.ts";
import { resizeShorterSide } from "./resize.ts";

Deno.test({
  ...needsTestData("2AFC batches of bapps-mini: shapes, order, float32 judgements"),
  fn: async () => {
    const list = await listTwoAFC(testData("bapps-mini"), "val/traditional");
    const sizes: number[] = [];
    let seen = 0;
    for await (const b of twoAFCBatches(list, { batchSize: 50 })) {
      const n = b.items.length;
      sizes.push(n);
      assert.equal(b.start, seen);
      for (const t of [b.ref, b.p0, b.p1]) {
        assert.deepEqual(t.shape, [n, 3, 64, 64]);
        assert.equal(t.data.length, n * 3 * 64 * 64);
        assert.ok(t.data.every((v) => v >= -1 && v <= 1));
      }
      for (let i = 0; i < n; i++) {
        const it = b.items[i];
        assert.equal(it.index, seen + i);
        const g = npyScalar(await readNpy(it.judge));
        assert.equal(b.judge[i], Math.fround(g)); // 0.6 -> 0.6000000238418579
      }
      // Spot-check one image of the batch against the single-image path.
      const k = n - 1;
      const single = await loadDatasetImage(b.items[k].p1);
      assert.deepEqual(b.p1.data.subarray(k * 3 * 4096, (k + 1) * 3 * 4096), single.data);
      seen += n;
    }
    assert.deepEqual(sizes, [50, 50, 20]);
  },
});

Deno.test({
  ...needsTestData("bapps-mini quirks: 252x252 items and RGBA items load as 64x64 RGB"),
  fn: async () => {
    const root = testData("bapps-mini");
    const quirks: [string, "2afc" | "jnd", number[]][] = [
      ["val/traditional", "2afc", [37, 88]],
      ["train/traditional", "2afc", [211, 150]],
      ["val/cnn", "2afc", [12, 73]],
      ["val/cnn", "jnd", [51]],
      ["val/traditional", "jnd", [9]],
    ];
    for (const [subset, mode, idx] of quirks) {
      if (mode === "2afc") {
        const list = await listTwoAFC(root, subset);
        const items = idx.map((i) => list.items[i]);
        for await (const b of twoAFCBatches(items, { batchSize: 2 })) {
          assert.deepEqual(b.ref.shape, [items.length, 3, 64, 64]);
          assert.deepEqual(b.items.map((it) => it.index), idx);
        }
      } else {
        const list = await listJND(root, subset);
        const items = idx.map((i) => list.items[i]);
        for await (const b of jndBatches(items)) assert.deepEqual(b.p1.shape, [1, 3, 64, 64]);
      }
    }
    // A 252x252 image goes through the generic 252 -> 64 resample (not left at 63 or 252).
    const p = testData("bapps-mini", "2afc/val/traditional/ref/000037.png");
    const img = await readImage(p);
    assert.deepEqual([img.width, img.height], [252, 252]);
    const t = await loadDatasetImage(p);
    assert.deepEqual(t.shape, [1, 3, 64, 64]);
    assert.deepEqual(t.data, toTensorNormalize(resizeShorterSide(img, 64)).data);
    // The RGBA item (alpha 255 everywhere) equals its colour channels.
    const rgba = testData("bapps-mini", "2afc/val/cnn/p0/000012.png");
    assert.equal((await Deno.readFile(rgba))[25], 6); // PNG colour type 6 = RGBA
    assert.deepEqual((await loadDatasetImage(rgba)).shape, [1, 3, 64, 64]);
  },
});

Deno.test({
  ...needsTestData("JND batches of bapps-mini: two subsets in one list, float32 'same' values"),
  fn: async () => {
    const list = await listJND(testData("bapps-mini"), ["val/traditional", "val/cnn"]);
    const same: number[] = [];
    for await (const b of jndBatches(list, { batchSize: 64, concurrency: 3 })) {
      assert.deepEqual(b.p0.shape, [b.items.length, 3, 64, 64]);
      same.push(...b.same);
    }
    assert.equal(same.length, 240);
    const thirds = [0, 1 / 3, 2 / 3, 1].map(Math.fround);
    assert.ok(same.every((v) => thirds.includes(v)));
  },
});

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bapps_dataset_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const png = (w: number, h: number, v = 100) =>
  encode({ width: w, height: h, channels: 3, depth: 8, data: new Uint8Array(w * h * 3).fill(v) });

Deno.test("judgements: any dtype and one-element shape; errors name the file", async () => {
  await withTempDir(async (dir) => {
    const cases: [Uint8Array, number][] = [
      [writeNpy(new Float64Array([0.6]), [1]), Math.fround(0.6)],
      [writeNpy(new Float32Array([0.25]), [1, 1, 1]), 0.25],
      [writeNpy(new Float64Array([1 / 3]), []), Math.fround(1 / 3)],
      [writeNpy(new Uint8Array([1]), [1], { bool: true }), 1],
      [writeNpy(new Int32Array([0]), [1]), 0],
    ];
    for (const [i, [bytes, want]] of cases.entries()) {
      await Deno.writeFile(join(dir, `${i}.npy`), bytes);
      assert.equal(await readJudgement(join(dir, `${i}.npy`)), want);
    }
    await Deno.writeFile(join(dir, "two.npy"), writeNpy(new Float64Array([0.2, 0.4]), [2]));
    await assert.rejects(
      readJudgement(join(dir, "two.npy")),
      /two\.npy: expected exactly one element/,
    );
    await Deno.writeFile(join(dir, "nan.npy"), writeNpy(new Float64Array([NaN]), [1]));
    await assert.rejects(
      readJudgement(join(dir, "nan.npy")),
      /nan\.npy: judgement is not a finite/,
    );
  });
});

Deno.test("judgements outside [0, 1] are refused, naming the file and the value", async () => {
  await withTempDir(async (dir) => {
    for (const [i, v] of [500, 1.5, -0.5, -40, 1.0000001].entries()) {
      const path = join(dir, `${i}.npy`);
      await Deno.writeFile(path, writeNpy(new Float64Array([v]), [1]));
      await assert.rejects(readJudgement(path), {
        name: "NpyError",
        message: `${path}: judgement ${v} is outside [0, 1] (a fraction of the judges)`,
      });
    }
    for (const v of [0, 1, 0.5]) {
      await Deno.writeFile(join(dir, "ok.npy"), writeNpy(new Float64Array([v]), [1]));
      assert.equal(await readJudgement(join(dir, "ok.npy")), v);
    }
  });
});

Deno.test("loader errors name the bad file; different sizes in one batch are refused", async () => {
  await withTempDir(async (root) => {
    const sub = join(root, "2afc", "val", "x");
    for (const r of ["ref", "p0", "p1", "judge"]) {
      await Deno.mkdir(join(sub, r), { recursive: true });
    }
    for (let i = 0; i < 4; i++) {
      const s = String(i).padStart(6, "0");
      for (const r of ["ref", "p0", "p1"]) {
        await Deno.writeFile(join(sub, r, `${s}.png`), png(128, 128));
      }
      await Deno.writeFile(join(sub, "judge", `${s}.npy`), writeNpy(new Float64Array([0.4]), [1]));
    }
    let list = await listTwoAFC(root, "val/x");
    const all = [];
    for await (const b of twoAFCBatches(list, { batchSize: 3 })) all.push(b);
    assert.deepEqual(all.map((b) => b.ref.shape), [[3, 3, 64, 64], [1, 3, 64, 64]]);
    assert.ok(
      all[0].ref.data.every((v) =>
        v === Math.fround(Math.fround(Math.fround(100 / 255) - 0.5) / 0.5)
      ),
    );

    // A corrupt image in the second batch: the first batch still arrives, then the error.
    await Deno.writeFile(join(sub, "p1", "000003.png"), png(128, 128).slice(0, 60));
    const got: number[] = [];
    await assert.rejects(async () => {
      for await (const b of twoAFCBatches(list, { batchSize: 3 })) got.push(b.start);
    }, /p1[\\/]000003\.png: corrupt or truncated image/);
    assert.deepEqual(got, [0]);
    // Stopping before the broken batch (which was prefetched) raises nothing.
    for await (const b of twoAFCBatches(list, { batchSize: 3 })) {
      assert.equal(b.start, 0);
      break;
    }
    await new Promise((r) => setTimeout(r, 50)); // let the prefetch settle: no unhandled rejection

    // Different sizes within a batch (non-square image -> 64x128) are refused by name.
    await Deno.writeFile(join(sub, "p1", "000003.png"), png(128, 256));
    list = await listTwoAFC(root, "val/x");
    await assert.rejects(async () => {
      for await (const _ of twoAFCBatches(list, { batchSize: 4 })) { /* consume */ }
    }, /000003\.png: resized to 64x128, but .*000000\.png to 64x64/);
    // With batch size 1 it loads, with the torchvision output size.
    const sizes: number[][] = [];
    for await (const b of twoAFCBatches(list.items.slice(3), { batchSize: 1, prefetch: false })) {
      sizes.push(b.p1.shape);
    }
    assert.deepEqual(sizes, [[1, 3, 128, 64]]);

    await Deno.writeFile(join(sub, "judge", "000001.npy"), new TextEncoder().encode("garbage!!!!"));
    await assert.rejects(async () => {
      for await (const _ of twoAFCBatches(list.items.slice(0, 2))) { /* consume */ }
    }, /judge[\\/]000001\.npy: not a \.npy file/);
  });
});

Deno.test("batch options are validated; an empty list yields nothing", async () => {
  const items: TwoAFCItem[] = [];
  const none = [];
  for await (const b of twoAFCBatches(items)) none.push(b);
  assert.equal(none.length, 0);
  await assert.rejects(twoAFCBatches(items, { batchSize: 0 }).next(), RangeError);
  await assert.rejects(twoAFCBatches(items, { concurrency: 1.5 }).next(), RangeError);
});

Deno.test({
  ...needsTestData("decode workers give the same batches; their errors name the file"),
  fn: async () => {
    const list = await listTwoAFC(testData("bapps-mini"), "val/traditional");
    const items = list.items.slice(30, 45); // includes the 252x252 item 37
    const plain: TwoAFCBatch[] = [];
    for await (const b of twoAFCBatches(items, { batchSize: 6 })) plain.push(b);
    const pooled: TwoAFCBatch[] = [];
    for await (const b of twoAFCBatches(items, { batchSize: 6, workers: 2 })) pooled.push(b);
    assert.equal(pooled.length, 3);
    pooled.forEach((b, i) => {
      assert.deepEqual(b.ref, plain[i].ref);
      assert.deepEqual(b.p0, plain[i].p0);
      assert.deepEqual(b.p1, plain[i].p1);
      assert.deepEqual(b.judge, plain[i].judge);
    });
    // Stopping early closes the pool (the test's resource sanitizer checks nothing leaks).
    for await (const _ of twoAFCBatches(items, { batchSize: 2, workers: 2 })) break;
    await withTempDir(async (dir) => {
      const bad = join(dir, "bad.png");
      await Deno.writeFile(bad, png(8, 8).slice(0, 30));
      const broken = [{ ...items[0], p0: bad }];
      await assert.rejects(async () => {
        for await (const _ of twoAFCBatches(broken, { workers: 1 })) { /* consume */ }
      }, (e: Error) => {
        assert.equal(e.name, "ImageDecodeError");
        assert.match(e.message, /bad\.png: corrupt or truncated image/);
        return true;
      });
    });
  },
});

Deno.test("defaultDecodeWorkers: none for two batches or fewer, else half the cores", () => {
  assert.equal(defaultDecodeWorkers(100, 50), 0);
  assert.equal(
    defaultDecodeWorkers(101, 50),
    Math.max(1, Math.floor(navigator.hardwareConcurrency / 2)),
  );
});
