import assert from "node:assert/strict";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { arch, linTensorSpec, minInputSize, NET_NAMES, tapSizes, trunkTensorSpec } from "./arch.ts";

Deno.test("tap sizes at 64x64 and channel counts follow docs/algorithm.md §1.2", () => {
  assert.deepEqual(tapSizes(arch("alex"), 64), [15, 7, 3, 3, 3]);
  assert.deepEqual(tapSizes(arch("squeeze"), 64), [31, 15, 7, 3, 3, 3, 3]);
  assert.deepEqual(tapSizes(arch("vgg"), 64), [64, 32, 16, 8, 4]);
  assert.deepEqual(arch("alex").channels, [64, 192, 384, 256, 256]);
  assert.deepEqual(arch("squeeze").channels, [64, 128, 256, 384, 384, 512, 512]);
  assert.deepEqual(arch("vgg").channels, [64, 128, 256, 512, 512]);
});

Deno.test("minimum input sizes: alex 31 px; one pixel less loses a tap", () => {
  assert.equal(minInputSize(arch("alex")), 31);
  for (const net of NET_NAMES) {
    const a = arch(net);
    const m = minInputSize(a);
    assert.ok(tapSizes(a, m).every((s) => s >= 1), net);
    assert.ok(tapSizes(a, m - 1).some((s) => s < 1), net);
  }
  assert.throws(() => arch("resnet" as never), /unknown net "resnet"/);
});

Deno.test({
  ...needsTestData("trunk and head tensor specs name exactly the tensors of the shared files"),
  fn: async () => {
    const rows = (await Deno.readTextFile(testData("weights", "tensors.tsv"))).trim().split("\n")
      .slice(1).map((l) => l.split("\t"));
    const specOf = (file: string) =>
      rows.filter((r) => r[0] === file).map((r) => ({
        key: r[1],
        shape: r[2] === "" ? [] : r[2].split("x").map(Number),
      }));
    assert.deepEqual(trunkTensorSpec(arch("alex")), specOf("alexnet-owt-7be5be79.pth"));
    assert.deepEqual(trunkTensorSpec(arch("squeeze")), specOf("squeezenet1_1-b8a52dc0.pth"));
    assert.deepEqual(trunkTensorSpec(arch("vgg")), specOf("vgg16-random-seed0.pth"));
    for (const net of NET_NAMES) {
      for (const v of ["0.0", "0.1"]) {
        assert.deepEqual(linTensorSpec(arch(net)), specOf(`lpips/v${v}/${net}.pth`));
      }
    }
  },
});
