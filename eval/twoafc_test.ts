import assert from "node:assert/strict";
import { score2AFC, twoAFCItemScores } from "./twoafc.ts";

Deno.test("2AFC test vector of docs/algorithm.md §4.1 scores 0.725", () => {
  const d0 = [0.1, 0.5, 0.3, 0.2], d1 = [0.2, 0.4, 0.3, 0.9], g = [0, 0.6, 1, 0.2];
  assert.deepEqual([...twoAFCItemScores(d0, d1, g)], [1, 0.6, 0.5, 0.8]);
  assert.ok(Math.abs(score2AFC(d0, d1, g) - 0.725) < 1e-15);
});

Deno.test("2AFC: exact ties give 0.5 whatever the judgement; typed arrays work", () => {
  const d = new Float32Array([0.3, 0.3]);
  assert.equal(score2AFC(d, d, new Float32Array([0, 1])), 0.5);
  assert.equal(score2AFC([1], [2], [Math.fround(0.6)]), 1 - Math.fround(0.6));
  assert.ok(Number.isNaN(score2AFC([], [], [])));
  assert.throws(() => score2AFC([1], [1, 2], [0]), RangeError);
});
