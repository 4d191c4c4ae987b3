import assert from "node:assert/strict";
import { jndMAP, stableArgsort, vocAP } from "./jnd.ts";

Deno.test("JND test vector of docs/algorithm.md §4.2: mAP 0.882716049382716", () => {
  const ds = [0.05, 0.4, 0.1, 0.8, 0.2, 0.6], sames = [1, 0, 2 / 3, 1 / 3, 1, 0];
  assert.ok(Math.abs(jndMAP(ds, sames) - 0.882716049382716) < 1e-15);
  // Order of the input does not matter, only the ranking by distance.
  const perm = [5, 3, 1, 0, 4, 2];
  assert.ok(
    Math.abs(jndMAP(perm.map((i) => ds[i]), perm.map((i) => sames[i])) - 0.882716049382716) < 1e-15,
  );
});

Deno.test("JND: the reference's un-flattened bug would give 1.0 on the vector; we do not", () => {
  // The buggy reference ranks nothing and repeats sames[0]; sames[0] = 1 gives AP 1.
  const buggy = jndMAP([0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]);
  assert.equal(buggy, 1);
  assert.notEqual(jndMAP([0.05, 0.4, 0.1, 0.8, 0.2, 0.6], [1, 0, 2 / 3, 1 / 3, 1, 0]), 1);
});

Deno.test("JND: perfect and worst rankings, no positives, stable ties", () => {
  assert.equal(jndMAP([0.1, 0.2, 0.3, 0.4], [1, 1, 0, 0]), 1);
  // Worst: positives last. Precision at recall 0.5 = 1/3, at recall 1 = 2/4.
  assert.ok(Math.abs(jndMAP([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1]) - (0.5 * 0.5 + 0.5 * 0.5)) < 1e-15);
  assert.ok(Number.isNaN(jndMAP([0.1, 0.2], [0, 0])));
  // Ties keep item order (stable): the same distances, the positive first or last.
  assert.equal(jndMAP([0.5, 0.5], [1, 0]), 1);
  assert.equal(jndMAP([0.5, 0.5], [0, 1]), 0.5);
  assert.deepEqual([...stableArgsort([3, 1, 2, 1, NaN, 0])], [5, 1, 3, 2, 0, 4]);
  assert.throws(() => jndMAP([1], [1, 0]), RangeError);
});

Deno.test("VOC AP: monotone precision envelope, area over recall changes", () => {
  assert.equal(vocAP([0.5, 1], [1, 0.5]), 0.75);
  // Envelope: precision 0.2 at recall 0.5 is lifted to the later 0.6.
  assert.ok(Math.abs(vocAP([0.5, 0.5, 1], [1, 0.2, 0.6]) - (0.5 * 1 + 0.5 * 0.6)) < 1e-15);
  assert.equal(vocAP([], []), 0);
});
