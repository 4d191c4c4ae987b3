import assert from "node:assert/strict";
import { decode } from "fast-png";
import { im2tensor } from "../bappsloader/image.ts";
import { JUPYTER_DISPLAY } from "./display.ts";
import { picture } from "./picture.ts";

Deno.test("picture: the image as a PNG at screen size, its own pixels, and a text line", () => {
  const rgb = { width: 2, height: 1, data: Uint8Array.of(10, 20, 30, 200, 100, 0) };
  const b = picture(im2tensor(rgb), { size: 8 })[JUPYTER_DISPLAY]();
  assert.equal(b["text/plain"], "[image, 2x1]");
  const png = decode(Uint8Array.fromBase64(b["image/png"] as string));
  assert.deepEqual([png.width, png.height], [8, 4]); // grown by 4, pixels as squares
  assert.deepEqual([...png.data.subarray(0, 3)], [10, 20, 30]);
  assert.deepEqual([...png.data.subarray(7 * 3, 8 * 3)], [200, 100, 0]);
});

Deno.test("picture: with a name, the PNG says the name and the size under the image", () => {
  const rgb = { width: 2, height: 1, data: Uint8Array.of(10, 20, 30, 200, 100, 0) };
  const b = picture(im2tensor(rgb), { size: 64, name: "ex_ref.png" })[JUPYTER_DISPLAY]();
  assert.equal(b["text/plain"], "[image ex_ref.png, 2x1]");
  const png = decode(Uint8Array.fromBase64(b["image/png"] as string));
  assert.equal(png.channels, 3);
  // The image, grown by 32 to 64x32, centred in a column of 128 px with a 12 px margin.
  assert.deepEqual([png.width, png.height > 32 + 2 * 16], [128 + 24, true]);
  const px = (
    x: number,
    y: number,
  ) => [...png.data.subarray((y * png.width + x) * 3, (y * png.width + x + 1) * 3)];
  assert.deepEqual(px(12 + 32, 12), [10, 20, 30]);
  assert.deepEqual(px(12 + 32 + 63, 12 + 31), [200, 100, 0]);
  // The two caption lines under it carry ink.
  let ink = 0;
  for (let i = (12 + 32 + 4) * png.width; i < png.data.length / 3; i++) {
    if (png.data[3 * i] < 128) ink++;
  }
  assert.ok(ink > 50, `${ink} dark pixels under the image`);
});

Deno.test("picture: a bad size, index or tensor is a one-line error", () => {
  const t = im2tensor({ width: 1, height: 1, data: Uint8Array.of(1, 2, 3) });
  assert.throws(() => picture(t, { size: 0 }), /picture: size must be a whole number/);
  assert.throws(() => picture(t, { index: 1 }), /picture: index 1 is outside the batch of 1/);
  assert.throws(
    () => picture({ data: new Float32Array(2), shape: [1, 3, 1, 1] }),
    /picture: .*has 2 values but shape \[1,3,1,1\] needs 3/,
  );
});
