// Its own file: useBlockingReads changes this thread's reads for good (each test file runs in its
// own isolate).
import assert from "node:assert/strict";
import { readRegularFile, useBlockingReads } from "./read_file.ts";

/** Runs `fn` with Deno's asynchronous file calls replaced by ones that throw. */
async function withoutAsyncFileCalls<T>(fn: () => Promise<T>): Promise<T> {
  const targets: [Record<string, unknown>, string[]][] = [
    [Deno as unknown as Record<string, unknown>, ["stat", "open", "readFile"]],
    [Deno.FsFile.prototype as unknown as Record<string, unknown>, ["stat", "read", "seek"]],
  ];
  const saved = targets.map(([o, names]) => names.map((n) => o[n]));
  for (const [o, names] of targets) {
    for (const n of names) {
      o[n] = () => {
        throw new Error(`asynchronous ${n} called`);
      };
    }
  }
  try {
    return await fn();
  } finally {
    targets.forEach(([o, names], i) => names.forEach((n, j) => o[n] = saved[i][j]));
  }
}

Deno.test("useBlockingReads: this thread's later reads make blocking calls only", async () => {
  const path = await Deno.makeTempFile({ prefix: "read_file_blocking_test_" });
  try {
    await Deno.writeFile(path, new Uint8Array([1, 2, 3]));
    await assert.rejects(
      withoutAsyncFileCalls(() => readRegularFile(path)),
      /asynchronous stat called/,
    );
    useBlockingReads();
    const bytes = await withoutAsyncFileCalls(() => readRegularFile(path));
    assert.deepEqual(bytes, new Uint8Array([1, 2, 3]));
    // A head check and a second read (seek back to the start) block too.
    const big = new Uint8Array(70_000).map((_, i) => i % 251);
    await Deno.writeFile(path, big);
    const read = await withoutAsyncFileCalls(() => readRegularFile(path, { checkHead: () => {} }));
    assert.deepEqual(read, big);
  } finally {
    await Deno.remove(path);
  }
});
