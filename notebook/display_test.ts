import assert from "node:assert/strict";
import { display, type Displayable, JUPYTER_DISPLAY, show } from "./display.ts";

/** Runs `f` with console.log captured; returns what it printed. */
async function printed(f: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.map(String).join(" "));
  try {
    await f();
  } finally {
    console.log = log;
  }
  return lines;
}

Deno.test("display: the kernel's symbol returns the bundle", () => {
  assert.equal(JUPYTER_DISPLAY, Symbol.for("Jupyter.display"));
  const bundle = { "text/plain": "hi", "text/markdown": "**hi**" };
  assert.equal(display(bundle)[JUPYTER_DISPLAY](), bundle);
});

Deno.test("display: console.log and Deno.inspect print the text/plain line, not the picture", () => {
  const d = display({ "text/plain": "[image ex_ref.png, 64x64]", "image/png": "iVBORw0KGgo=" });
  assert.equal(Deno.inspect(d), "[image ex_ref.png, 64x64]");
  assert.ok(!Deno.inspect([d]).includes("iVBOR"));
});

Deno.test("display: a bundle that is not an object, or has no text/plain, is refused", () => {
  assert.throws(() => display([] as unknown as Record<string, unknown>), /must be an object/);
  assert.throws(() => display(null as unknown as Record<string, unknown>), /must be an object/);
  assert.throws(() => display({ "text/html": "<b>x</b>" }), /needs a "text\/plain" string/);
});

Deno.test("show: outside a kernel it prints each item's text/plain, in order", async () => {
  const lines = await printed(() =>
    show(display({ "text/plain": "one" }), display({ "text/plain": "two", "text/html": "2" }))
  );
  assert.deepEqual(lines, ["one", "two"]);
});

Deno.test("show: something that is not displayable is an error before anything is shown", async () => {
  const lines = await printed(async () => {
    await assert.rejects(
      () => show(display({ "text/plain": "one" }), { x: 1 } as unknown as Displayable),
      /show: item 2 is not displayable/,
    );
  });
  assert.deepEqual(lines, []);
});
