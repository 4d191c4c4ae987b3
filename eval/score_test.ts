import assert from "node:assert/strict";
import { scoreDataset } from "./score.ts";

const boot = { resamples: 0, seed: 0 };
const twoAFC = (d0: number[], d1: number[], judge: number[]) => ({
  d0: Float32Array.from(d0),
  d1: Float32Array.from(d1),
  judge: Float32Array.from(judge),
  paths: d0.map((_, i) => ({ ref: `r${i}`, p0: `a${i}`, p1: `b${i}`, judge: `j${i}.npy` })),
});
const jnd = (d: number[], same: number[]) => ({
  d: Float32Array.from(d),
  same: Float32Array.from(same),
  paths: d.map((_, i) => ({ p0: `a${i}`, p1: `b${i}`, same: `s${i}.npy` })),
});

Deno.test("scoreDataset: distances that are negative, infinite or NaN are refused, naming the item", () => {
  for (
    const [bad, shown] of [[-0.7219, "-0.7218999862670898"], [Infinity, "Infinity"], [NaN, "NaN"]]
  ) {
    assert.throws(
      () => scoreDataset(twoAFC([0.1, bad as number], [0.2, 0.3], [0, 1]), boot, { name: "val/x" }),
      {
        name: "RangeError",
        message: `val/x: item 1 (a1): distance d0 = ${shown}; distances must be finite and >= 0`,
      },
    );
    assert.throws(() => scoreDataset(jnd([bad as number], [1]), boot), {
      message: `dataset: item 0 (b0): distance d = ${shown}; distances must be finite and >= 0`,
    });
  }
  assert.throws(() => scoreDataset(twoAFC([0.1], [Infinity], [0]), boot, { name: "v" }), {
    message: "v: item 0 (b0): distance d1 = Infinity; distances must be finite and >= 0",
  });
});

Deno.test("scoreDataset: judgements outside [0, 1] are refused, naming the item", () => {
  assert.throws(() => scoreDataset(twoAFC([0.1], [0.2], [500]), boot, { name: "v" }), {
    message: "v: item 0 (j0.npy): judge = 500 is outside [0, 1]",
  });
  assert.throws(() => scoreDataset(jnd([0.1, 0.2], [1, -40]), boot, { name: "v" }), {
    message: "v: item 1 (s1.npy): same = -40 is outside [0, 1]",
  });
  assert.equal(scoreDataset(twoAFC([0.1], [0.2], [1]), boot).score, 0);
});

Deno.test("scoreDataset: a JND set with no 'same' has no mAP and says why; a shard of one may", () => {
  const none = jnd([0.1, 0.2, 0.3], [0, 0, 0]);
  assert.throws(() => scoreDataset(none, { resamples: 100, seed: 0 }, { name: "val/x" }), {
    name: "RangeError",
    message: 'val/x: the JND mAP is undefined: no pair was judged "same" (all 3 same values are ' +
      "0, so precision is 0/0 at every rank)",
  });
  // One shard of a set is scored again whole when merged: it may hold no "same" pair.
  assert.ok(Number.isNaN(scoreDataset(none, boot, { partial: true }).score));
  assert.equal(scoreDataset(jnd([0.1, 0.2], [1, 0]), boot).score, 1);
});
