import assert from "node:assert/strict";
import { decode } from "fast-png";
import {
  fitPath,
  fitText,
  formatScale,
  layoutFigure,
  mapFigure,
  mapFigurePng,
  niceTicks,
  type Raster,
  svgToPng,
  textWidth,
  viridisRaster,
} from "./figure.ts";
import { viridis } from "./heatmap.ts";

function noise(width: number, height: number, seed = 1): Raster {
  let s = seed;
  const data = Uint8Array.from({ length: width * height * 3 }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s >>> 24;
  });
  return { width, height, data };
}

/** The RGB of pixel (x, y) of a decoded PNG (RGB or RGBA). */
function pixel(png: ReturnType<typeof decode>, x: number, y: number): number[] {
  const i = (y * png.width + x) * png.channels;
  return [...png.data.subarray(i, i + 3)];
}

/** Whether any pixel in the rectangle differs from white. */
function inked(png: ReturnType<typeof decode>, x0: number, y0: number, x1: number, y1: number) {
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) if (pixel(png, x, y).some((v) => v < 200)) return true;
  }
  return false;
}

Deno.test("niceTicks: round steps from 0 up to the scale, about 40 px apart", () => {
  assert.deepEqual(niceTicks(0.72, 256), [0, 0.2, 0.4, 0.6]);
  assert.deepEqual(niceTicks(1, 200), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0.006, 96), [0, 0.005]);
  assert.deepEqual(niceTicks(0.006, 320), [0, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006]);
  assert.deepEqual(niceTicks(1.05, 64), [0]); // the bar's top is labelled 1.05 anyway
  assert.deepEqual(niceTicks(0, 256), [0]);
  assert.deepEqual(niceTicks(NaN, 256), [0]);
});

Deno.test("formatScale: three significant digits, an exponent only for tiny or huge values", () => {
  assert.equal(formatScale(1.048380), "1.05");
  assert.equal(formatScale(0.0063712), "0.00637");
  assert.equal(formatScale(0.5), "0.5");
  assert.equal(formatScale(0), "0");
  assert.equal(formatScale(2.5e-6), "2.50e-6");
});

Deno.test("fitText: a long name is shortened in the middle, keeping its extension", () => {
  const name = "a_rather_long_file_name_from_the_camera_0042.png";
  const short = fitText(name, 120, 12);
  assert.ok(short.length < name.length && short.includes("…"), short);
  assert.ok(short.startsWith("a_rat") && short.endsWith(".png"), short);
  assert.ok(textWidth(short, 12) <= 120);
  assert.equal(fitText("ex_ref.png", 120, 12), "ex_ref.png");
  // Characters the font lacks are written as "?" (never an empty box).
  assert.equal(fitText("图.png", 120, 12), "?.png");
});

Deno.test("fitPath: leading folders give way first, then the middle of the name", () => {
  assert.equal(fitPath("images/ex_ref.png", 200, 12), "images/ex_ref.png");
  assert.equal(fitPath("test/images/formats/ex_ref_q75.jpg", 160, 12), "…/formats/ex_ref_q75.jpg");
  assert.equal(fitPath("test/images/formats/ex_ref_q75.jpg", 110, 12), "…/ex_ref_q75.jpg");
  const tight = fitPath("test/images/formats/ex_ref_q75_444.jpg", 60, 12);
  assert.ok(!tight.includes("/") && tight.endsWith("jpg") && textWidth(tight, 12) <= 60, tight);
});

Deno.test("layoutFigure: the SVG says every word; the PNG has the pictures pixel for pixel", () => {
  const a = noise(96, 128), b = noise(96, 128, 2);
  const fig = layoutFigure({
    title: "LPIPS (alex, v0.1) = 0.721881",
    subtitle: ["ex_ref.png vs ex_p0.png"],
    rows: [{
      cells: [{ image: a, caption: ["ex_ref.png"] }, { image: b, caption: ["ex_p0.png"] }],
    }],
    colourBar: { scale: 1.05, label: "per-pixel distance" },
    notes: ["not ranked: x.png: 8x8"],
  });
  for (
    const words of [
      "LPIPS (alex, v0.1) = 0.721881",
      "ex_ref.png vs ex_p0.png",
      "ex_ref.png",
      "ex_p0.png",
      "per-pixel distance",
      "not ranked: x.png: 8x8",
      "0",
      "0.5",
      "1.05",
    ]
  ) {
    assert.ok(fig.svg.includes(`aria-label="${words}"`), words);
  }
  // 1 would sit 6 px under the top label 1.05: it gives way.
  assert.deepEqual(fig.ticks.map((t) => t.label), ["0", "0.5", "1.05"]);
  const png = decode(svgToPng(fig.svg));
  assert.deepEqual([png.width, png.height], [fig.width, fig.height]);
  // Both pictures are drawn exactly, at whole-pixel places.
  for (const [k, r] of [a, b].entries()) {
    const at = fig.cells[0][k]!;
    assert.deepEqual([at.width, at.height], [96, 128]);
    for (const [x, y] of [[0, 0], [95, 0], [17, 29], [95, 127]]) {
      const i = (y * 96 + x) * 3;
      assert.deepEqual(pixel(png, at.x + x, at.y + y), [...r.data.subarray(i, i + 3)]);
    }
  }
  // Text is drawn: the title line and the captions under the pictures carry ink.
  const cell = fig.cells[0][0]!;
  assert.ok(inked(png, 12, 12, 200, 30), "the title");
  assert.ok(inked(png, cell.x, cell.y + cell.height + 2, cell.x + 96, cell.y + cell.height + 18));
  // The bar: the colour at each tick is viridis of tick / scale.
  const bar = fig.bar!;
  for (const t of fig.ticks) {
    const y = Math.min(bar.y + bar.height - 1, Math.max(bar.y, t.y));
    const want = viridis(t.value / 1.05);
    const got = pixel(png, bar.x + bar.width / 2, y);
    assert.ok(got.every((v, c) => Math.abs(v - want[c]) <= 4), `${t.label}: ${got} vs ${want}`);
  }
});

Deno.test("layoutFigure: a title wider than the pictures widens the figure up to 640 px", () => {
  const title = "LPIPS (alex, v0.1): 16 images against a_reference_with_a_long_name.png";
  const fig = layoutFigure({ title, rows: [{ cells: [{ image: noise(8, 8) }] }] });
  assert.ok(fig.width >= textWidth(title, 15, true), `${fig.width}`);
  const huge = layoutFigure({ title: title.repeat(5), rows: [] });
  assert.equal(huge.width, 640 + 24);
  assert.ok(huge.svg.includes("…"));
});

Deno.test("mapFigurePng: small maps grow by a whole factor, large ones keep their size", () => {
  const small = Float32Array.from({ length: 64 * 64 }, (_, i) => i / 4096);
  const text = { title: "LPIPS (alex, v0.1) = 0.5", subtitle: ["a vs b"], caption: ["map"] };
  const a = decode(mapFigurePng(small, 64, 64, 1, text));
  const big = new Float32Array(512 * 384).fill(0.25);
  const b = decode(mapFigurePng(big, 512, 384, 0.5, text));
  assert.ok(a.width > 256 && a.width < 512 && a.height > 256, `${a.width}x${a.height}`);
  assert.ok(b.width > 512 && b.height > 384, `${b.width}x${b.height}`);
  // 0.25 of a 0.5 scale is the middle colour, at the map's centre.
  const got = pixel(b, 12 + 256, b.height / 2);
  const want = viridis(0.5);
  assert.ok(got.every((v, c) => Math.abs(v - want[c]) <= 1), `${got} vs ${want}`);
});

Deno.test("mapFigurePng: a map over 2048 px a side is drawn at 2048, and the caption says so", () => {
  const map = new Float32Array(4096 * 64).fill(0.5);
  const text = { title: "t", subtitle: [], caption: ["map"] };
  const png = decode(mapFigurePng(map, 4096, 64, 1, text));
  assert.ok(png.width > 2048 && png.width < 2048 + 200, `${png.width}`);
  const fig = mapFigure(map, 4096, 64, 1, text);
  assert.deepEqual([fig.cells[0][0]!.width, fig.cells[0][0]!.height], [2048, 32]);
  assert.ok(fig.svg.includes('aria-label="drawn at 2048x32 (means of the pixels each covers)"'));
});

Deno.test("viridisRaster: 0 to the scale, larger values saturate, a wrong length is an error", () => {
  const r = viridisRaster([0, 0.5, 1, 3], 4, 1, 1);
  assert.deepEqual([...r.data.subarray(0, 3)], viridis(0));
  assert.deepEqual([...r.data.subarray(6, 9)], viridis(1));
  assert.deepEqual([...r.data.subarray(9, 12)], viridis(1));
  assert.throws(() => viridisRaster([0, 1], 3, 1, 1), /a map of 2 values over 3 pixels/);
});

Deno.test("layoutFigure: of several colour bar labels, the first that fits along the bar", () => {
  const long = "gradient magnitude similarity (1/2 scale)";
  const label = [long, "GMSD similarity"];
  const figure = (height: number) =>
    layoutFigure({
      title: "",
      rows: [{ cells: [{ image: noise(64, height) }] }],
      colourBar: { scale: 1, label },
    }).svg;
  assert.ok(textWidth(long, 12) + 8 > 128 && textWidth(long, 12) + 8 <= 300);
  const short = figure(128), tall = figure(300);
  assert.ok(short.includes('aria-label="GMSD similarity"') && !short.includes(long));
  assert.ok(tall.includes(`aria-label="${long}"`) && !tall.includes('"GMSD similarity"'));
  // None fits a bar of 96 px: no label, as for a single label too long.
  const none = layoutFigure({
    title: "",
    rows: [{ cells: [{ image: noise(8, 8) }] }],
    colourBar: { scale: 1, label: [long, "a label far too long for it"] },
  }).svg;
  assert.ok(!none.includes(long) && !none.includes("far too long"));
});
