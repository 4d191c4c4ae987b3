import assert from "node:assert/strict";
import { decode } from "fast-png";
import { im2tensor } from "../bappsloader/image.ts";
import { JUPYTER_DISPLAY } from "./display.ts";
import { picture } from "./picture.ts";

Deno.test("picture: the image as a PNG at screen size, its own pixels, and a text line", () => {
  const rgb = { width: 2, height: 1, data: Uint8Array.of(10, 20, 30, 200, 100, 0) };
  const b = picture(im2tensor(rgb), { size: 8, name: "x" })[JUPYTER_DISPLAY]();
  assert.equal(b["text/plain"], "[image x, 2x1]");
  const png = decode(Uint8Array.fromBase64(b["image/png"] as string));
  assert.deepEqual([png.width, png.height], [8, 4]); // grown by 4, pixels as squares
  assert.deepEqual([...png.data.subarray(0, 3)], [10, 20, 30]);
  assert.deepEqual([...png.data.subarray(7 * 3, 8 * 3)], [200, 100, 0]);
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
