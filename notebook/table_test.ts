import assert from "node:assert/strict";
import { JUPYTER_DISPLAY } from "./display.ts";
import { formatNumber, table } from "./table.ts";

Deno.test("table: HTML with escaped cells and a caption; aligned text", () => {
  const b = table(["name", "d"], [["a<b>&", 0.123456], ["c", 12]], { caption: "x & y" })
    [JUPYTER_DISPLAY]();
  assert.equal(
    b["text/html"],
    "<table><caption>x &amp; y</caption><thead><tr><th>name</th><th>d</th></tr></thead><tbody>" +
      "<tr><td>a&lt;b&gt;&amp;</td><td>0.1235</td></tr><tr><td>c</td><td>12</td></tr></tbody></table>",
  );
  assert.equal(b["text/plain"], "x & y\nname   d\na<b>&  0.1235\nc      12");
});

Deno.test("table: a row of the wrong length or an empty header is a one-line error", () => {
  assert.throws(() => table(["a", "b"], [["x", 1], ["y"]]), /row 2 has 1 cells, the header has 2/);
  assert.throws(() => table([], []), /header must be a non-empty array/);
  assert.throws(() => table(["a"], [5 as unknown as string[]]), /row 1 has number/);
});

Deno.test("formatNumber: integers in full, other numbers to four decimals", () => {
  assert.equal(formatNumber(1200), "1200");
  assert.equal(formatNumber(0.72188), "0.7219");
  assert.equal(formatNumber(NaN), "NaN");
});
