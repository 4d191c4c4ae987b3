import assert from "node:assert/strict";
import { join } from "node:path";
import { checkOutputFiles, checkOutputFolder, OutputPathError } from "./output_path.ts";

async function inTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "output_path_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.chmod(dir, 0o755).catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

async function refused(check: Promise<void>, message: string): Promise<void> {
  await assert.rejects(check, (e) => e instanceof OutputPathError && e.message === message);
}

Deno.test("checkOutputFiles: new and existing files in a writable folder pass, leaving nothing", async () => {
  await inTemp(async (dir) => {
    await Deno.writeTextFile(join(dir, "old.csv"), "x");
    await checkOutputFiles([join(dir, "new.csv"), join(dir, "old.csv")]);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["old.csv"]); // no probe left
  });
});

Deno.test("checkOutputFiles: a folder, a missing folder, a file as folder, a FIFO, a name twice", async () => {
  await inTemp(async (dir) => {
    await refused(checkOutputFiles([dir]), `${dir}: cannot write (it is a folder)`);
    const missing = join(dir, "no", "x.csv");
    await refused(
      checkOutputFiles([missing]),
      `${missing}: cannot write (no such folder ${join(dir, "no")})`,
    );
    const file = join(dir, "f");
    await Deno.writeTextFile(file, "");
    await refused(
      checkOutputFiles([join(file, "x.csv")]),
      `${join(file, "x.csv")}: cannot write (${file} is a file, not a folder)`,
    );
    const fifo = join(dir, "p.csv");
    assert.ok((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    await refused(checkOutputFiles([fifo]), `${fifo}: cannot write (it is not a regular file)`);
    const a = join(dir, "a.csv");
    await refused(
      checkOutputFiles([a, a]),
      `${a}: cannot write (two outputs of this run would be this one file)`,
    );
    const same = `${dir}/x/../a.csv`;
    await refused(checkOutputFiles([a, same]), `${same}: cannot write (the same file as ${a})`);
  });
});

Deno.test({
  name: Deno.uid() === 0
    ? "checkOutputFiles: a read-only folder (skipped: root writes anyway)"
    : "checkOutputFiles: a read-only folder is refused before any work",
  ignore: Deno.uid() === 0,
  fn: async () => {
    await inTemp(async (dir) => {
      const ro = join(dir, "ro");
      await Deno.mkdir(ro);
      await Deno.chmod(ro, 0o555);
      await refused(
        checkOutputFiles([join(ro, "x.csv")]),
        `${join(ro, "x.csv")}: cannot write (permission denied in ${ro})`,
      );
    });
  },
});

Deno.test("checkOutputFolder: an existing or creatable folder passes; a file on the way does not", async () => {
  await inTemp(async (dir) => {
    await checkOutputFolder(dir);
    await checkOutputFolder(join(dir, "checkpoints", "run"));
    const file = join(dir, "checkpoints");
    await Deno.writeTextFile(file, "");
    await refused(
      checkOutputFolder(join(file, "run")),
      `${join(file, "run")}: cannot write (${file} is a file, not a folder)`,
    );
    await refused(checkOutputFolder(file), `${file}: cannot write (it is a file, not a folder)`);
  });
});
