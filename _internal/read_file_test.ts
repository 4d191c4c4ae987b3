import assert from "node:assert/strict";
import { join } from "node:path";
import { readFailure } from "./fs_errors.ts";
import {
  InputFileError,
  readRegularFile,
  type ReadRegularFileOptions,
  statRegularFile,
} from "./read_file.ts";

/** Runs `fn` on a fresh temporary folder, removed afterwards. */
async function inTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "read_file_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Refused at once, with `message`: a one-line clause for `path: cannot read (...)`. */
async function refused(
  path: string,
  message: string,
  opts: ReadRegularFileOptions,
): Promise<void> {
  const t0 = performance.now();
  const e = await readRegularFile(path, opts).then(() => undefined, (e) => e);
  assert.ok(e instanceof InputFileError, `${path}: ${e}`);
  assert.equal(e.message, message);
  assert.equal(readFailure(e), message);
  assert.ok(performance.now() - t0 < 1000, `${path} took ${performance.now() - t0} ms`);
}

// Each case twice: with asynchronous calls (the default) and with blocking ones.
for (const blocking of [false, true]) {
  const how = blocking ? " (blocking)" : "";
  Deno.test(`readRegularFile${how}: a regular file is read whole; a short head check sees its start`, async () => {
    await inTemp(async (dir) => {
      const path = join(dir, "a.bin");
      await Deno.writeFile(path, new Uint8Array([1, 2, 3, 4, 5]));
      assert.deepEqual(await readRegularFile(path, { blocking }), new Uint8Array([1, 2, 3, 4, 5]));
      assert.equal(await statRegularFile(path), 5);
      let seen: number[] = [];
      const bytes = await readRegularFile(path, {
        blocking,
        headBytes: 2,
        checkHead: (head, size) => {
          seen = [...head, size];
        },
      });
      assert.deepEqual(seen, [1, 2, 5]);
      assert.equal(bytes.length, 5);
      // A head check may ask for fewer bytes (a header that declares its data's length).
      assert.deepEqual(
        await readRegularFile(path, { blocking, checkHead: () => 3 }),
        new Uint8Array([1, 2, 3]),
      );
    });
  });

  Deno.test(`readRegularFile${how}: folders, devices, FIFOs and sockets are refused without opening them`, async () => {
    await inTemp(async (dir) => {
      await refused(dir, "it is a folder, not a file", { blocking });
      await refused("/dev/zero", "it is a character device, not a regular file", { blocking });
      const fifo = join(dir, "a.png");
      const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
      assert.ok(made.success, "mkfifo");
      await refused(fifo, "it is a FIFO (named pipe), not a regular file", { blocking }); // never blocks
      const socketPath = join(dir, "s.png");
      const listener = Deno.listen({ transport: "unix", path: socketPath });
      try {
        await refused(socketPath, "it is a socket, not a regular file", { blocking });
      } finally {
        listener.close();
      }
      // Through a link, what the link points to counts.
      const link = join(dir, "zero.png");
      await Deno.symlink("/dev/zero", link);
      await refused(link, "it is a character device, not a regular file", { blocking });
    });
  });

  Deno.test(`readRegularFile${how}: a 3 GB sparse file is refused by its size or its head, never read`, async () => {
    await inTemp(async (dir) => {
      const path = join(dir, "x.png");
      await Deno.writeFile(path, new Uint8Array(0));
      await Deno.truncate(path, 3 * 1024 ** 3);
      const rss = Deno.memoryUsage().rss;
      await refused(
        path,
        "it has 3221225472 bytes, over the limit of 1048576 for an image",
        { blocking, maxBytes: 1 << 20, what: "an image" },
      );
      const e = await readRegularFile(path, {
        blocking,
        checkHead: (head) => {
          assert.equal(head.length, 65536);
          throw new RangeError("not an image");
        },
      }).then(() => undefined, (e) => e);
      assert.equal(e?.message, "not an image");
      assert.ok(Deno.memoryUsage().rss - rss < 100 * 1024 ** 2, "nothing large was allocated");
    });
  });

  Deno.test(`readRegularFile${how}: a missing file gives the OS error, worded by readFailure`, async () => {
    const e = await readRegularFile("/no/such/file", { blocking }).then(() => undefined, (e) => e);
    assert.equal(readFailure(e), "no such file");
  });
}
