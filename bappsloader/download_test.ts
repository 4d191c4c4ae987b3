import assert from "node:assert/strict";
import { join } from "node:path";
import { packTar, type TarEntry } from "modern-tar";
import {
  bappsArchiveUrl,
  BappsDownloadError,
  type BappsDownloadOptions,
  COMPLETE_MARKER,
  downloadBapps,
} from "./download.ts";
import { listJND, listTwoAFC } from "./layout.ts";
import { archiveFormat, notAnArchive } from "./_archive_format.ts";
import {
  bytes,
  file,
  gzip,
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

for (const format of ["gzip", "plain tar"] as const) {
  Deno.test(`download: a dropped connection keeps the .part, the next run resumes with Range (${format})`, async () => {
    const entries = tree("jnd/val/", ["traditional", "cnn"], ["p0", "p1", "same"], 2, 5000);
    const tar = await packTar(entries);
    const files = { "jnd.tar.gz": format === "gzip" ? await gzip(tar) : tar };
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
}

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

/** Every file and folder below `dir` (relative paths; folders end in "/") with file contents. */
async function treeOf(dir: string, rel = ""): Promise<Map<string, Uint8Array | null>> {
  const out = new Map<string, Uint8Array | null>();
  const names: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(join(dir, rel))) names.push(e);
  names.sort((a, b) => a.name < b.name ? -1 : 1);
  for (const e of names) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) {
      out.set(`${r}/`, null);
      for (const [k, v] of await treeOf(dir, r)) out.set(k, v);
    } else out.set(r, await Deno.readFile(join(dir, r)));
  }
  return out;
}

Deno.test("download: a plain tar under a .tar.gz name unpacks like the gzip of the same tar", async () => {
  const tar = await packTar(tree("val/", VAL_2AFC, ["ref", "p0", "p1", "judge"]));
  const installs: Map<string, Uint8Array | null>[] = [];
  for (const data of [await gzip(tar), tar]) {
    await withServer({ "twoafc_val.tar.gz": data }, {}, async (s) => {
      await withRoot(async (root) => {
        await downloadBapps(root, base(s, { archives: ["twoafc_val"] }));
        const got = await treeOf(join(root, "2afc", "val"));
        // The marker records when it was installed: compare its entry count only.
        const marker = JSON.parse(new TextDecoder().decode(got.get(COMPLETE_MARKER)!));
        got.set(COMPLETE_MARKER, new TextEncoder().encode(String(marker.entries)));
        installs.push(got);
        assert.ok(!(await exists(join(root, ".download"))), "work folder removed");
      });
    });
  }
  assert.equal(archiveFormat(tar), "tar");
  assert.ok(installs[0].size > VAL_2AFC.length * 4 * 2, `${installs[0].size} entries`);
  assert.deepEqual(installs[1], installs[0]);
});

Deno.test("download: a file that is neither gzip nor tar is deleted with a line saying what it is", async () => {
  const pages: [string, RegExp][] = [
    [
      "<!DOCTYPE html><html><body>Moved</body></html>",
      /starts with 3c 21 44 4f: looks like HTML\)/,
    ],
    [
      '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code></Error>',
      /starts with 3c 3f 78 6d: looks like XML, e\.g\. a server's error page\)/,
    ],
  ];
  for (const [page, re] of pages) {
    const files = { "jnd.tar.gz": new TextEncoder().encode(page) };
    await withServer(files, {}, async (s) => {
      await withRoot(async (root) => {
        const e = await rejectsWith(
          downloadBapps(root, base(s, { archives: ["jnd"] })),
          /^jnd\.tar\.gz is unusable: not a gzip or tar archive \(starts with .*\); it was deleted and nothing was installed/,
        );
        assert.match(e.message, re);
        await assertNothingInstalled(root);
      });
    });
  }
});

Deno.test("archive format: gzip and tar magic; other files are described", () => {
  const at257 = (magic: string) => {
    const b = new Uint8Array(512);
    b.set(new TextEncoder().encode(magic), 257);
    return b;
  };
  assert.equal(archiveFormat(new Uint8Array([0x1f, 0x8b, 8, 0])), "gzip");
  assert.equal(archiveFormat(at257("ustar\u000000")), "tar"); // POSIX
  assert.equal(archiveFormat(at257("ustar  \u0000")), "tar"); // GNU
  assert.equal(archiveFormat(at257("ustaR")), undefined);
  assert.equal(archiveFormat(new Uint8Array([0x1f])), undefined);
  assert.equal(archiveFormat(new Uint8Array(300)), undefined);
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(0), "not a gzip or tar archive (the file is empty)"],
    [
      new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14]),
      "not a gzip or tar archive (starts with 50 4b 03 04: looks like a zip archive)",
    ],
    [
      new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
      "not a gzip or tar archive (starts with fd 37 7a 58: looks like an xz stream)",
    ],
    [
      new TextEncoder().encode("Not Found\n"),
      "not a gzip or tar archive (starts with 4e 6f 74 20: looks like text)",
    ],
    [new Uint8Array([0, 1, 2, 3, 4]), "not a gzip or tar archive (starts with 00 01 02 03)"],
  ];
  for (const [head, want] of cases) assert.equal(notAnArchive(head), want);
});

for (const format of ["gzip", "plain tar"] as const) {
  Deno.test(`download: a truncated archive is deleted and nothing is installed (${format})`, async () => {
    const tar = await packTar(
      tree("jnd/val/", ["traditional", "cnn"], ["p0", "p1", "same"], 2, 5000),
    );
    const full = format === "gzip" ? await gzip(tar) : tar;
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
}

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
