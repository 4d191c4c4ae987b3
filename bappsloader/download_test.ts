import assert from "node:assert/strict";
import { join } from "node:path";
import type { TarEntry } from "modern-tar";
import {
  bappsArchiveUrl,
  BappsDownloadError,
  type BappsDownloadOptions,
  COMPLETE_MARKER,
  downloadBapps,
} from "./download.ts";
import { listJND, listTwoAFC } from "./layout.ts";
import {
  bytes,
  file,
  officialArchives,
  type Served,
  tarGz,
  TRAIN_2AFC,
  tree,
  VAL_2AFC,
  withRoot,
  withServer,
} from "./download_fixture.ts";

const base = (s: Served, extra: BappsDownloadOptions = {}): BappsDownloadOptions => ({
  baseUrl: s.url,
  quiet: true,
  retries: 0,
  retryDelayMs: 0,
  ...extra,
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function rejectsWith(p: Promise<unknown>, re: RegExp): Promise<BappsDownloadError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof BappsDownloadError, `expected a BappsDownloadError, got ${e}`);
    assert.match(e.message, re);
    assert.ok(!e.message.includes("\n"), "one line");
    return e;
  }
  throw new assert.AssertionError({ message: "expected a rejection" });
}

// ---------------------------------------------------------------------------------------------

Deno.test("bappsArchiveUrl: official base, BAPPS_URL mirror, explicit base", () => {
  assert.equal(
    bappsArchiveUrl("jnd", { env: {} }),
    "https://perceptual-similarity.s3.us-west-2.amazonaws.com/dataset/jnd.tar.gz",
  );
  assert.equal(
    bappsArchiveUrl("twoafc_val", { env: { BAPPS_URL: "http://m/x/" } }),
    "http://m/x/twoafc_val.tar.gz",
  );
  assert.equal(
    bappsArchiveUrl("twoafc_train", { baseUrl: "http://b" }),
    "http://b/twoafc_train.tar.gz",
  );
});

Deno.test("download: all three archives end to end, then an idempotent second run", async () => {
  const files = await officialArchives();
  await withServer(files, {}, async (s) => {
    await withRoot(async (root) => {
      const r = await downloadBapps(root, base(s));
      assert.deepEqual(r.map((x) => [x.archive, x.status]), [
        ["jnd", "installed"],
        ["twoafc_val", "installed"],
        ["twoafc_train", "installed"],
      ]);
      const val = await listTwoAFC(root, VAL_2AFC.map((x) => `val/${x}`));
      assert.equal(val.items.length, 12);
      const train = await listTwoAFC(root, TRAIN_2AFC.map((x) => `train/${x}`));
      assert.equal(train.items.length, 6);
      const jnd = await listJND(root, ["val/traditional", "val/cnn"]);
      assert.equal(jnd.items.length, 4);
      assert.ok(await exists(join(root, "2afc", "val", COMPLETE_MARKER)));
      assert.ok(!(await exists(join(root, ".download"))), "work folder removed");
      assert.deepEqual(
        await Deno.readFile(join(root, "2afc", "val", "traditional", "ref", "000000.png")),
        bytes(300, 1),
      );
      assert.equal(s.requests.length, 3);

      const again = await downloadBapps(root, base(s));
      assert.deepEqual(again.map((x) => x.status), ["present", "present", "present"]);
      assert.equal(s.requests.length, 3, "second run makes no request");
    });
  });
});

Deno.test("download: valOnly fetches only jnd and twoafc_val", async () => {
  await withServer(await officialArchives(), {}, async (s) => {
    await withRoot(async (root) => {
      await downloadBapps(root, base(s, { valOnly: true }));
      assert.deepEqual(s.requests.sort(), ["jnd.tar.gz -", "twoafc_val.tar.gz -"]);
      assert.ok(await exists(join(root, "jnd", "val", "cnn", "same")));
      assert.ok(!(await exists(join(root, "2afc", "train"))));
    });
  });
});

Deno.test("download: a dropped connection keeps the .part, the next run resumes with Range", async () => {
  const files = { "jnd.tar.gz": (await officialArchives(5000))["jnd.tar.gz"] };
  const cut = Math.floor(files["jnd.tar.gz"].length / 2);
  await withServer(files, { dropAfter: cut }, async (s) => {
    await withRoot(async (root) => {
      await rejectsWith(
        downloadBapps(root, base(s, { archives: ["jnd"] })),
        /jnd\.tar\.gz .*interrupted after .*kept.*run the same command again to resume/,
      );
      const part = join(root, ".download", "jnd.tar.gz.part");
      assert.equal((await Deno.stat(part)).size, cut);
      assert.ok(!(await exists(join(root, "jnd"))), "nothing looks like a dataset");

      await downloadBapps(root, base(s, { archives: ["jnd"] }));
      assert.deepEqual(s.requests, ["jnd.tar.gz -", `jnd.tar.gz bytes=${cut}-`]);
      assert.deepEqual(
        await Deno.readFile(join(root, "jnd", "val", "cnn", "p1", "000001.png")),
        bytes(5000, 10),
      );
      await listJND(root, ["val/traditional", "val/cnn"]);
    });
  });
});

Deno.test("download: an automatic retry resumes within one run", async () => {
  const files = { "jnd.tar.gz": (await officialArchives(5000))["jnd.tar.gz"] };
  await withServer(files, { dropAfter: 1000, drops: 2 }, async (s) => {
    await withRoot(async (root) => {
      await downloadBapps(root, base(s, { archives: ["jnd"], retries: 3 }));
      assert.deepEqual(s.requests, [
        "jnd.tar.gz -",
        "jnd.tar.gz bytes=1000-",
        "jnd.tar.gz bytes=2000-",
      ]);
      await listJND(root, "val/cnn");
    });
  });
});

Deno.test("download: a server that ignores Range makes the download start over", async () => {
  const files = { "jnd.tar.gz": (await officialArchives(5000))["jnd.tar.gz"] };
  await withServer(files, { dropAfter: 700, ignoreRange: true }, async (s) => {
    await withRoot(async (root) => {
      await rejectsWith(downloadBapps(root, base(s, { archives: ["jnd"] })), /interrupted/);
      await downloadBapps(root, base(s, { archives: ["jnd"] }));
      assert.deepEqual(s.requests, ["jnd.tar.gz -", "jnd.tar.gz bytes=700-"]);
      assert.deepEqual(
        await Deno.readFile(join(root, "jnd", "val", "traditional", "p0", "000000.png")),
        bytes(5000, 1),
      );
    });
  });
});

Deno.test("download: a complete .part (416 on resume) is used as is", async () => {
  const files = { "jnd.tar.gz": (await officialArchives())["jnd.tar.gz"] };
  await withServer(files, {}, async (s) => {
    await withRoot(async (root) => {
      await Deno.mkdir(join(root, ".download"), { recursive: true });
      await Deno.writeFile(join(root, ".download", "jnd.tar.gz.part"), files["jnd.tar.gz"]);
      await downloadBapps(root, base(s, { archives: ["jnd"] }));
      assert.deepEqual(s.requests, [`jnd.tar.gz bytes=${files["jnd.tar.gz"].length}-`]);
      await listJND(root, "val/traditional");
    });
  });
});

async function assertNothingInstalled(root: string): Promise<void> {
  assert.ok(!(await exists(join(root, "jnd"))), "no jnd/ folder");
  assert.ok(!(await exists(join(root, "2afc"))), "no 2afc/ folder");
  assert.ok(!(await exists(join(root, ".download", "jnd.tar.gz"))), "archive deleted");
  assert.ok(!(await exists(join(root, ".download", "jnd.tar.gz.part"))), "no part kept");
}

Deno.test("download: a truncated archive is deleted and nothing is installed", async () => {
  const full = (await officialArchives(5000))["jnd.tar.gz"];
  const files = { "jnd.tar.gz": full.slice(0, Math.floor(full.length * 0.6)) };
  await withServer(files, {}, async (s) => {
    await withRoot(async (root) => {
      await rejectsWith(
        downloadBapps(root, base(s, { archives: ["jnd"] })),
        /^jnd\.tar\.gz is unusable: .*deleted.*run again/,
      );
      await assertNothingInstalled(root);
    });
  });
});

Deno.test("download: a corrupt gzip stream is deleted and nothing is installed", async () => {
  const files = { "jnd.tar.gz": (await officialArchives(5000))["jnd.tar.gz"].slice() };
  const f = files["jnd.tar.gz"];
  for (let i = 200; i < 260; i++) f[i] ^= 0x5a;
  await withServer(files, {}, async (s) => {
    await withRoot(async (root) => {
      await rejectsWith(downloadBapps(root, base(s, { archives: ["jnd"] })), /unusable/);
      await assertNothingInstalled(root);
    });
  });
});

Deno.test("download: path traversal, absolute paths and links are refused", async () => {
  const good = tree("jnd/val/", ["traditional", "cnn"], ["p0", "p1", "same"]);
  const evil: [string, TarEntry][] = [
    ["outside", file("../evil.txt", "x")],
    ["outside", file("jnd/../../evil.txt", "x")],
    ["absolute", file("/tmp/bapps_evil_abs.txt", "x")],
    ["symbolic", {
      header: { name: "jnd/val/link", size: 0, type: "symlink", linkname: "../../.." },
    }],
    ["link", { header: { name: "jnd/val/hard", size: 0, type: "link", linkname: "/etc/passwd" } }],
  ];
  for (const [what, entry] of evil) {
    const files = { "jnd.tar.gz": await tarGz([...good, entry]) };
    await withServer(files, {}, async (s) => {
      await withRoot(async (root, outer) => {
        await rejectsWith(
          downloadBapps(root, base(s, { archives: ["jnd"] })),
          new RegExp(`unusable: .*${what}.*refused`),
        );
        await assertNothingInstalled(root);
        assert.ok(!(await exists(join(outer, "evil.txt"))));
        assert.ok(!(await exists(join(root, "evil.txt"))));
      });
    });
  }
  assert.ok(!(await exists("/tmp/bapps_evil_abs.txt")));
});

Deno.test("download: HTTP errors and an unreachable server are one clear line", async () => {
  await withServer({}, {}, async (s) => {
    await withRoot(async (root) => {
      await rejectsWith(
        downloadBapps(root, base(s, { archives: ["jnd"] })),
        /^cannot download jnd\.tar\.gz from http:\/\/127\.0\.0\.1:\d+\/dataset\/jnd\.tar\.gz: HTTP 404/,
      );
    });
  });
  // A port that was just closed: connection refused.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await withRoot(async (root) => {
    await rejectsWith(
      downloadBapps(root, { baseUrl: `http://127.0.0.1:${port}`, quiet: true, archives: ["jnd"] }),
      /^cannot download jnd\.tar\.gz from .*; check the network connection.*BAPPS_URL/,
    );
  });
});

Deno.test("download: a folder not marked complete is refused before any request", async () => {
  await withServer(await officialArchives(), {}, async (s) => {
    await withRoot(async (root) => {
      await Deno.mkdir(join(root, "2afc", "val"), { recursive: true });
      await rejectsWith(downloadBapps(root, base(s)), /twoafc_val\.tar\.gz: .*not marked complete/);
      assert.equal(s.requests.length, 0);
    });
  });
});

Deno.test("download: an archive with another layout is a clear error", async () => {
  const files = {
    "twoafc_val.tar.gz": await tarGz(tree("val/", ["traditional"], ["ref", "p0", "p1", "judge"])),
  };
  await withServer(files, {}, async (s) => {
    await withRoot(async (root) => {
      await rejectsWith(
        downloadBapps(root, base(s, { archives: ["twoafc_val"] })),
        /did not unpack to the expected layout.*val\/ lacks cnn\/ref/,
      );
      assert.ok(!(await exists(join(root, "2afc"))));
    });
  });
});

Deno.test("download: layouts with a wrapping folder or 2afc/ prefix are accepted", async () => {
  const files = {
    "twoafc_val.tar.gz": await tarGz(tree("./2afc/val/", VAL_2AFC, ["ref", "p0", "p1", "judge"])),
    "jnd.tar.gz": await tarGz(
      tree("dataset/jnd/val/", ["traditional", "cnn"], ["p0", "p1", "same"]),
    ),
  };
  await withServer(files, {}, async (s) => {
    await withRoot(async (root) => {
      await downloadBapps(root, base(s, { valOnly: true }));
      await listTwoAFC(root, "val/color");
      await listJND(root, "val/cnn");
    });
  });
});

Deno.test("download: a given sha256 is checked", async () => {
  const files = { "jnd.tar.gz": (await officialArchives())["jnd.tar.gz"] };
  await withServer(files, {}, async (s) => {
    await withRoot(async (root) => {
      await rejectsWith(
        downloadBapps(root, base(s, { archives: ["jnd"], sha256: { jnd: "00".repeat(32) } })),
        /sha256 .* differs/,
      );
      const digest = await crypto.subtle.digest("SHA-256", files["jnd.tar.gz"]);
      const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0"))
        .join("");
      await downloadBapps(root, base(s, { archives: ["jnd"], sha256: { jnd: hex } }));
    });
  });
});

Deno.test("download: a stalled transfer times out and keeps its .part", async () => {
  const files = { "jnd.tar.gz": (await officialArchives(5000))["jnd.tar.gz"] };
  await withServer(files, { stallAfter: 500 }, async (s) => {
    await withRoot(async (root) => {
      await rejectsWith(
        downloadBapps(root, base(s, { archives: ["jnd"], idleTimeoutMs: 200 })),
        /interrupted after 500 of \d+ bytes \(no data for 0\.2 s\).*kept/,
      );
      assert.equal((await Deno.stat(join(root, ".download", "jnd.tar.gz.part"))).size, 500);
    });
  });
});

Deno.test("download: a downloaded archive is unpacked without a request; stale folders go", async () => {
  const files = { "jnd.tar.gz": (await officialArchives())["jnd.tar.gz"] };
  await withServer(files, {}, async (s) => {
    await withRoot(async (root) => {
      const work = join(root, ".download");
      await Deno.mkdir(join(work, "jnd.extract-stale", "jnd", "val"), { recursive: true });
      await Deno.writeFile(join(work, "jnd.tar.gz"), files["jnd.tar.gz"]);
      await downloadBapps(root, base(s, { archives: ["jnd"] }));
      assert.equal(s.requests.length, 0);
      assert.ok(!(await exists(work)), "work folder (with the stale one) removed");
      await listJND(root, ["val/traditional", "val/cnn"]);
    });
  });
});
