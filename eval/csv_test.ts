import assert from "node:assert/strict";
import { jndCsv, parsePerItemCsv, twoAFCCsv, writePerItemCsv } from "./csv.ts";

Deno.test("per-item CSV: reference layout, float32 values round-trip exactly", () => {
  const d0 = new Float32Array([0.02406437322497368, 1e-8]);
  const d1 = new Float32Array([0.10131677985191345, 3]);
  const judge = new Float32Array([0.2, 0]);
  const text = twoAFCCsv({ d0, d1, judge });
  assert.equal(
    text.split("\n").slice(0, 2).join("\n"),
    "index,d0,d1,judge\n0,0.02406437322497368,0.10131677985191345,0.20000000298023224",
  );
  const back = parsePerItemCsv(text);
  assert.deepEqual(Float32Array.from(back.d0 as Float64Array), d0);
  assert.deepEqual(Float32Array.from(back.judge as Float64Array), judge);
  assert.deepEqual([...(back.index as Float64Array)], [0, 1]);
});

Deno.test("per-item CSV: paths are quoted when needed; JND layout; NaN", async () => {
  const text = jndCsv({
    d: [0.5, NaN],
    same: [1 / 3, 0],
    paths: [{ p0: "a,b.png", p1: 'q"uote.png' }, { p0: "x.png", p1: "y.png" }],
  });
  assert.ok(
    text.startsWith('index,d,same,p0,p1\n0,0.5,0.3333333333333333,"a,b.png","q""uote.png"\n'),
  );
  const back = parsePerItemCsv(text);
  assert.deepEqual(back.p0, ["a,b.png", "x.png"]);
  assert.deepEqual(back.p1, ['q"uote.png', "y.png"]);
  assert.ok(Number.isNaN((back.d as Float64Array)[1]));
  assert.throws(() => jndCsv({ d: [1], same: [] }), RangeError);
  assert.throws(() => parsePerItemCsv("a,b\n1\n"), SyntaxError);
  const dir = await Deno.makeTempDir();
  try {
    await writePerItemCsv(`${dir}/x.csv`, { d0: [1], d1: [2], judge: [0] });
    assert.equal(await Deno.readTextFile(`${dir}/x.csv`), "index,d0,d1,judge\n0,1,2,0\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
