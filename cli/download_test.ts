import assert from "node:assert/strict";
import { officialArchives, withRoot, withServer } from "../bappsloader/download_fixture.ts";
import { download } from "./download.ts";

Deno.test("cli: download --root DIR --val-only with BAPPS_URL", async () => {
  await withServer(await officialArchives(), {}, async (s) => {
    await withRoot(async (root) => {
      const old = Deno.env.get("BAPPS_URL");
      Deno.env.set("BAPPS_URL", s.url);
      const log = console.log;
      const lines: string[] = [];
      console.log = (...a: unknown[]) => lines.push(a.join(" "));
      try {
        await download.run(["--root", root, "--val-only", "--quiet"]);
      } finally {
        console.log = log;
        if (old === undefined) Deno.env.delete("BAPPS_URL");
        else Deno.env.set("BAPPS_URL", old);
      }
      assert.equal(lines.length, 2);
      assert.match(lines[0], /^jnd: installed/);
      assert.deepEqual(s.requests.sort(), ["jnd.tar.gz -", "twoafc_val.tar.gz -"]);
    });
  });
  await assert.rejects(download.run([]), /--root/);
  await assert.rejects(download.run(["--root"]), /--root/);
});
