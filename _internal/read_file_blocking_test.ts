// Its own file: useBlockingReads changes this thread's reads for good (each test file runs in its
// own isolate).
import assert from "node:assert/strict";
import { readRegularFile, useBlockingReads } from "./read_file.ts";

/** Whether a read settles on microtasks alone, before the event loop turns to poll any I/O. */
async function settlesWithoutEventLoop(path: string): Promise<boolean> {
  let done = false;
  const read = readRegularFile(path).then((bytes) => {
    assert.deepEqual(bytes, new Uint8Array([1, 2, 3]));
    done = true;
  });
  for (let i = 0; i < 1000 && !done; i++) await null;
  const settled = done;
  await read;
  return settled;
}

Deno.test("useBlockingReads: this thread's later reads block instead of awaiting other threads", async () => {
  const path = await Deno.makeTempFile({ prefix: "read_file_blocking_test_" });
  try {
    await Deno.writeFile(path, new Uint8Array([1, 2, 3]));
    assert.equal(await settlesWithoutEventLoop(path), false);
    useBlockingReads();
    assert.equal(await settlesWithoutEventLoop(path), true);
  } finally {
    await Deno.remove(path);
  }
});
