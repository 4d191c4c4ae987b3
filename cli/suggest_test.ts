import assert from "node:assert/strict";
import { closest, editDistance } from "./suggest.ts";

Deno.test("editDistance: insertions, deletions, substitutions and neighbour swaps cost 1", () => {
  assert.equal(editDistance("", ""), 0);
  assert.equal(editDistance("json", "json"), 0);
  assert.equal(editDistance("jsn", "json"), 1);
  assert.equal(editDistance("jsonn", "json"), 1);
  assert.equal(editDistance("jsox", "json"), 1);
  assert.equal(editDistance("comapre", "compare"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("ca", "abc"), 3); // the swap counts once: OSA, not Damerau
});

Deno.test("closest: near names, unique prefixes, nothing when far or ambiguous", () => {
  const options = ["json", "net", "version", "batch-size", "bootstrap", "all-pairs", "out"];
  assert.equal(closest("jsn", options), "json");
  assert.equal(closest("JSON", options), "json");
  assert.equal(closest("batchsize", options), "batch-size");
  assert.equal(closest("batch_size", options), "batch-size");
  assert.equal(closest("bootsrtap", options), "bootstrap");
  assert.equal(closest("all", options), "all-pairs");
  assert.equal(closest("bogus", options), undefined);
  assert.equal(closest("x", options), undefined);
  assert.equal(closest("", options), undefined);
  assert.equal(closest("b", ["batch-size", "bootstrap"]), undefined, "ambiguous prefix");
  assert.equal(closest("comapre", ["compare", "dirs", "allpairs"]), "compare");
  assert.equal(closest("evl", ["compare", "eval", "merge"]), "eval");
});
