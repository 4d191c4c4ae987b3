import assert from "node:assert/strict";
import { JUPYTER_DISPLAY } from "./display.ts";
import { imageTrace, logAxis, plot, PLOTLY_MIME, PLOTLY_VERSION } from "./plot.ts";

Deno.test("plot: the plotly bundle names the figure, keeps the layout, adds HTML and text", () => {
  const b = plot("speed", [{ type: "bar", y: [1] }], { title: { text: "T" }, meta: { k: 1 } })
    [JUPYTER_DISPLAY]();
  const fig = b[PLOTLY_MIME] as { data: unknown[]; layout: Record<string, unknown> };
  assert.deepEqual(fig.data, [{ type: "bar", y: [1] }]);
  assert.deepEqual(fig.layout.meta, { k: 1, figure: "speed" });
  assert.deepEqual(fig.layout.title, { text: "T" });
  assert.equal(b["text/plain"], "[plotly figure speed]");
  const html = b["text/html"] as string;
  assert.match(html, /Plotly\.newPlot/);
  // The fallback's plotly.js is the version deno.json pins, from the same npm package.
  assert.ok(
    html.includes(
      `https://cdn.jsdelivr.net/npm/plotly.js-dist-min@${PLOTLY_VERSION}/plotly.min.js`,
    ),
  );
  assert.ok(!/cdn\.plot\.ly|plotly-2\./.test(html));
  // A "</script>" inside the data cannot end the script early.
  const tricky = plot("x", [{ name: "</script><b>" }])[JUPYTER_DISPLAY]()["text/html"] as string;
  assert.ok(!tricky.includes("</script><b>"));
});

Deno.test("plot: a missing name or non-array data is a one-line error", () => {
  assert.throws(() => plot("", []), /plot: the first argument is the figure's name/);
  assert.throws(() => plot("f", {} as unknown as []), /plot\("f"\): data must be an array/);
});

Deno.test("logAxis: 1-2-5 ticks within a factor 1.6 of the values, written in full", () => {
  const axis = logAxis("pairs/s", [40, 300, -1, Infinity]);
  assert.equal(axis.type, "log");
  assert.deepEqual(axis.tickvals, [50, 100, 200]);
  assert.deepEqual(axis.ticktext, (axis.tickvals as number[]).map(String));
  assert.equal(logAxis("none", []).tickvals, undefined);
});

Deno.test("imageTrace: pixels of the chosen batch item, in 0..255; bad input is an error", () => {
  const data = new Float32Array(2 * 3 * 1 * 2);
  data.set([-1, 1, 0, 0, 1, -1], 6); // item 1: R = [-1, 1], G = [0, 0], B = [1, -1]
  const t = imageTrace({ data, shape: [2, 3, 1, 2] }, 1, { name: "x" });
  assert.deepEqual(t.z, [[[0, 128, 255], [255, 128, 0]]]);
  assert.equal(t.name, "x");
  assert.throws(() => imageTrace({ data, shape: [2, 3, 1, 2] }, 2), /index 2 is outside/);
  assert.throws(
    () => imageTrace({ data: new Float32Array(4), shape: [1, 1, 2, 2] }),
    /needs 3 channels, got 1/,
  );
});

Deno.test("PLOTLY_VERSION is the plotly.js-dist-min that deno.json pins", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.equal(config.imports["plotly.js-dist-min"], `npm:plotly.js-dist-min@${PLOTLY_VERSION}`);
});

Deno.test("plot: console.log prints the figure's line, not its data", () => {
  assert.equal(
    Deno.inspect(plot("speed", [{ type: "bar", y: [1, 2, 3] }])),
    "[plotly figure speed]",
  );
});
