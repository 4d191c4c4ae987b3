import assert from "node:assert/strict";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { LPIPS, type LPIPSOptions } from "./lpips.ts";
import { type ImageTensor, loadImage, stack } from "../bappsloader/image.ts";

/**
 * Determinism: the same inputs give bit-identical distances and maps across runs, across batch
 * sizes and batch positions, on the onnx engine and on TF.js's cpu and wasm backends.
 */

const image = (name: string) => loadImage(testData("images", `${name}.png`));

/** Bitwise equality of float32 arrays (`assert.deepEqual` would also accept -0 vs 0 mismatches). */
function sameBits(got: Float32Array, want: Float32Array, what: string) {
  assert.equal(got.length, want.length, what);
  const g = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length);
  const i = g.findIndex((v, j) => v !== w[j]);
  assert.equal(i, -1, `${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
}

/** Everything one model computes for the fixed pairs, single and batched. */
async function outputs(m: LPIPS, [ref, p0, p1]: ImageTensor[]) {
  const pairs: [ImageTensor, ImageTensor][] = [[ref, p0], [ref, p1], [p1, p0]];
  const single = [];
  for (const [a, b] of pairs) {
    single.push(await m.distance(a, b, { spatial: true, perLayer: true }));
  }
  const scalars = [];
  for (const [a, b] of pairs) scalars.push(await m.distance(a, b, { perLayer: true }));
  const a = stack(pairs.map((p) => p[0])), b = stack(pairs.map((p) => p[1]));
  const batch = await m.distance(a, b, { spatial: true, perLayer: true });
  const batchScalar = await m.distance(a, b, { perLayer: true });
  const repeated = await m.distance(stack([ref, ref, ref, ref]), stack([p0, p0, p0, p0]));
  return { single, scalars, batch, batchScalar, repeated };
}

async function checkDeterminism(opts: LPIPSOptions, what: string) {
  const create = () => LPIPS.create({ ...opts, weightsDir: testData("weights"), quiet: true });
  const imgs = await Promise.all(["ex_ref", "ex_p0", "ex_p1"].map(image));
  const m = await create();
  let first, second, fresh;
  try {
    first = await outputs(m, imgs);
    second = await outputs(m, imgs);
  } finally {
    m.dispose();
  }
  const m2 = await create();
  try {
    fresh = await outputs(m2, imgs);
  } finally {
    m2.dispose();
  }
  const n = 64 * 64;
  const { single, scalars, batch, batchScalar, repeated } = first;
  single.forEach((s, i) => {
    const at = `${what} pair ${i}`;
    sameBits(batch.distance.subarray(i, i + 1), s.distance, `${at}: map mean, batch vs single`);
    sameBits(batch.map!.data.subarray(i * n, (i + 1) * n), s.map!.data, `${at}: map`);
    s.layerMaps!.forEach((l, k) =>
      sameBits(batch.layerMaps![k].data.subarray(i * n, (i + 1) * n), l.data, `${at} layer ${k}`)
    );
    sameBits(batchScalar.distance.subarray(i, i + 1), scalars[i].distance, `${at}: distance`);
    scalars[i].layers!.forEach((l, k) =>
      sameBits(batchScalar.layers![k].subarray(i, i + 1), l, `${at}: layer ${k} term`)
    );
  });
  for (let i = 0; i < 4; i++) {
    sameBits(repeated.subarray(i, i + 1), scalars[0].distance, `${what}: repeated pair, item ${i}`);
  }
  for (const [run, name] of [[second, "second run"], [fresh, "fresh model"]] as const) {
    sameBits(run.batch.map!.data, batch.map!.data, `${what}: ${name}, maps`);
    sameBits(run.batchScalar.distance, batchScalar.distance, `${what}: ${name}, distances`);
    sameBits(run.repeated, repeated, `${what}: ${name}, repeated pair`);
  }
  // The pairs differ, so equal bits above are not equal constants.
  assert.notEqual(scalars[0].distance[0], scalars[1].distance[0]);
  return scalars.map((s) => s.distance[0]);
}

Deno.test({
  ...needsTestData("deterministic: onnx engine, across runs, batch sizes and thread counts"),
  fn: async () => {
    const d = await checkDeterminism({ engine: "onnx" }, "onnx");
    const one = await checkDeterminism({ engine: "onnx", threads: 1 }, "onnx, 1 thread");
    sameBits(new Float32Array(one), new Float32Array(d), "onnx: 1 thread vs default threads");
  },
});

for (const backend of ["wasm", "cpu"] as const) {
  Deno.test({
    ...needsTestData(`deterministic: tfjs ${backend}, across runs and batch sizes`),
    fn: async () => {
      await checkDeterminism({ engine: "tfjs", backend }, `tfjs ${backend}`);
    },
  });
}
