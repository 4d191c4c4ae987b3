import assert from "node:assert/strict";
import { join } from "node:path";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { sha256Hex } from "../_internal/http_download.ts";
import { PINNED_TENSOR_SHA256 } from "./_pinned_hashes.ts";
import { readPth, toFloat32 } from "./pth/pth.ts";
import {
  cachePath,
  checkTensors,
  downloadFile,
  downloadUrl,
  type ExpectedTensor,
  float32Sha256,
  loadWeightFile,
  type OfficialFile,
  resolveFile,
  type TensorLike,
  userCacheDir,
  WeightsError,
} from "./weights.ts";
import { NET_NAMES } from "./arch.ts";
import { VERSIONS } from "./engine.ts";
import {
  DISTS_WEIGHT_FILES,
  DISTS_WEIGHTS_FILE,
  EXAMPLE_IMAGES,
  linFileName,
  lpipsWeightFiles,
  OFFICIAL_FILES,
  officialFile,
  pinnedTensorHashes,
  trunkFileName,
  WEIGHT_FILES,
} from "./weight_files.ts";

// ---------------------------------------------------------------- helpers

type Handler = (req: Request) => Response | Promise<Response>;

/** A local HTTP server on 127.0.0.1 (port 0) for the duration of `fn`; counts requests by path. */
async function withServer(
  handler: Handler,
  fn: (base: string, hits: Map<string, number>) => Promise<void>,
): Promise<void> {
  const hits = new Map<string, number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
    onError(e) {
      return new Response(String(e), { status: 500 });
    },
  }, (req) => {
    const path = new URL(req.url).pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    return handler(req);
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, hits);
  } finally {
    await server.shutdown();
  }
}

/** Serves `files` (URL path -> bytes); 404 for anything else. */
function serveFiles(files: Record<string, Uint8Array>): Handler {
  return (req) => {
    const body = files[new URL(req.url).pathname];
    return body ? new Response(body.slice()) : new Response("not found", { status: 404 });
  };
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "lpips_weights_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every file below `dir`, relative, sorted (temporary `.part` files included). */
async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(join(dir, prefix))) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory) out.push(...await listFiles(dir, rel));
      else out.push(rel);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort();
}

/** A fetch that must not be called. */
const noFetch: typeof fetch = () => {
  throw new Error("test: fetch must not be called");
};

/** A port on 127.0.0.1 that nothing listens on. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A small crafted "trunk" whose name carries its own sha256 prefix, as torchvision's do. */
async function craftedTrunk(
  base: string,
  size = 3000,
): Promise<[OfficialFile, Uint8Array<ArrayBuffer>]> {
  const bytes = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 255);
  const prefix = (await sha256Hex(bytes)).slice(0, 8);
  const name = `tinynet-${prefix}.pth`;
  return [{ name, kind: "trunk", url: `${base}/models/${name}`, sha256Prefix: prefix }, bytes];
}

/** Rejects with a WeightsError whose message matches every pattern. */
async function rejectsWith(p: Promise<unknown>, ...patterns: RegExp[]): Promise<string> {
  let message = "";
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof WeightsError, `expected a WeightsError, got ${e}`);
    message = e.message;
    for (const re of patterns) assert.match(e.message, re);
    assert.ok(!e.message.includes("\n"), "error message must be one line");
    return true;
  });
  return message;
}

const ALEX_V01 = officialFile("lpips/v0.1/alex.pth");

// ---------------------------------------------------------------- names and URLs

Deno.test("official names, URLs and hashes", () => {
  assert.equal(trunkFileName("alex"), "alexnet-owt-7be5be79.pth");
  assert.equal(trunkFileName("squeeze"), "squeezenet1_1-b8a52dc0.pth");
  assert.equal(trunkFileName("vgg"), "vgg16-397923af.pth");
  assert.equal(linFileName("squeeze", "0.0"), "lpips/v0.0/squeeze.pth");
  assert.equal(linFileName("vgg"), "lpips/v0.1/vgg.pth");
  assert.throws(() => linFileName("alex", "0.2"), WeightsError);
  assert.throws(() => trunkFileName("resnet" as "alex"), WeightsError);

  const alex = officialFile(trunkFileName("alex"));
  assert.equal(alex.url, "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth");
  assert.equal(alex.sha256Prefix, "7be5be79");
  assert.equal(officialFile(trunkFileName("squeeze")).sha256Prefix, "b8a52dc0");
  assert.equal(officialFile(trunkFileName("vgg")).sha256Prefix, "397923af");

  assert.equal(
    ALEX_V01.url,
    "https://raw.githubusercontent.com/richzhang/PerceptualSimilarity/" +
      "082bb24f84c091ea94de2867d34c4544f68e0963/lpips/weights/v0.1/alex.pth",
  );
  assert.equal(ALEX_V01.sha256, "df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0");
  assert.equal(
    officialFile("ex_p1.png").url,
    "https://raw.githubusercontent.com/richzhang/PerceptualSimilarity/" +
      "082bb24f84c091ea94de2867d34c4544f68e0963/imgs/ex_p1.png",
  );
  assert.equal(
    DISTS_WEIGHTS_FILE.url,
    "https://raw.githubusercontent.com/dingkeyan93/DISTS/" +
      "1267d8cb626c98706db3697422701c56a85ebf2e/DISTS_pytorch/weights.pt",
  );
  for (const f of OFFICIAL_FILES) {
    if (f.kind === "trunk") assert.match(f.sha256Prefix ?? "", /^[0-9a-f]{8}$/);
    else assert.match(f.sha256 ?? "", /^[0-9a-f]{64}$/);
  }
  assert.throws(() => officialFile("lpips/v0.2/alex.pth"), /unknown weight file/);
});

Deno.test("the official files are exactly those of the metrics' lists, plus the example images", () => {
  assert.deepEqual(OFFICIAL_FILES.map((f) => `${f.kind} ${f.name}`), [
    "trunk alexnet-owt-7be5be79.pth",
    "head lpips/v0.1/alex.pth",
    "head lpips/v0.0/alex.pth",
    "trunk squeezenet1_1-b8a52dc0.pth",
    "head lpips/v0.1/squeeze.pth",
    "head lpips/v0.0/squeeze.pth",
    "trunk vgg16-397923af.pth",
    "head lpips/v0.1/vgg.pth",
    "head lpips/v0.0/vgg.pth",
    "head dists/weights.pt",
    "image ex_ref.png",
    "image ex_p0.png",
    "image ex_p1.png",
  ]);
  assert.deepEqual(WEIGHT_FILES, OFFICIAL_FILES.filter((f) => f.kind !== "image"));
  const lists = [
    ...NET_NAMES.flatMap((net) => VERSIONS.map((v) => lpipsWeightFiles(net, v))),
    DISTS_WEIGHT_FILES,
  ];
  for (const list of lists) {
    for (const f of list) assert.equal(officialFile(f.name), f, f.name);
  }
  assert.deepEqual(lpipsWeightFiles("squeeze", "0.0").map((f) => f.name), [
    "squeezenet1_1-b8a52dc0.pth",
    "lpips/v0.0/squeeze.pth",
  ]);
  assert.deepEqual(DISTS_WEIGHT_FILES.map((f) => f.name), [
    "vgg16-397923af.pth",
    "dists/weights.pt",
  ]);
  // DISTS shares LPIPS-vgg's trunk record, not a copy of it.
  assert.equal(DISTS_WEIGHT_FILES[0], lpipsWeightFiles("vgg", "0.1")[0]);
  assert.throws(() => lpipsWeightFiles("alex", "0.2"), /unknown LPIPS version "0\.2"/);
  assert.throws(() => lpipsWeightFiles("resnet" as "alex", "0.1"), /unknown network "resnet"/);
});

Deno.test("mirror URLs: <base>/<relative name>, separate base for images", () => {
  const env = { LPIPS_WEIGHTS_URL: "http://mirror.test/w/", LPIPS_IMAGES_URL: "http://img.test" };
  assert.equal(
    downloadUrl(officialFile(trunkFileName("alex")), { env }),
    "http://mirror.test/w/alexnet-owt-7be5be79.pth",
  );
  assert.equal(downloadUrl(ALEX_V01, { env }), "http://mirror.test/w/lpips/v0.1/alex.pth");
  assert.equal(downloadUrl(officialFile("ex_ref.png"), { env }), "http://img.test/ex_ref.png");
  assert.equal(
    downloadUrl(ALEX_V01, { env, baseUrl: "http://opt.test" }),
    "http://opt.test/lpips/v0.1/alex.pth",
  );
  assert.equal(downloadUrl(ALEX_V01, { env: {} }), ALEX_V01.url);
  assert.equal(
    downloadUrl(ALEX_V01, { env: { LPIPS_WEIGHTS_URL: "" } }),
    ALEX_V01.url,
  );
});

Deno.test("user cache folder: option, XDG_CACHE_HOME, HOME", () => {
  assert.equal(userCacheDir({ cacheDir: "/c", env: { XDG_CACHE_HOME: "/x" } }), "/c");
  assert.equal(userCacheDir({ env: { XDG_CACHE_HOME: "/x", HOME: "/h" } }), join("/x", "lpips"));
  assert.equal(userCacheDir({ env: { HOME: "/h" } }), join("/h", ".cache", "lpips"));
  assert.throws(() => userCacheDir({ env: {} }), /XDG_CACHE_HOME/);
  assert.equal(cachePath(ALEX_V01, { cacheDir: "/c" }), join("/c", "lpips", "v0.1", "alex.pth"));
  assert.equal(
    cachePath(officialFile("ex_ref.png"), { cacheDir: "/c" }),
    join("/c", "images", "ex_ref.png"),
  );
});

Deno.test("custom file descriptions must have a safe name and a hash", async () => {
  for (const name of ["../x.pth", "/abs.pth", "a/../b.pth", "a\\b.pth", "a//b.pth", "C:/x.pth"]) {
    await rejectsWith(
      resolveFile({ name, kind: "trunk", url: "http://x", sha256Prefix: "00000000" }, {
        cacheDir: "/nonexistent",
        fetch: noFetch,
      }),
      /plain relative path/,
    );
  }
  await rejectsWith(
    resolveFile({ name: "x.pth", kind: "trunk", url: "http://x" }, { fetch: noFetch }),
    /neither a sha256 nor a sha256 prefix/,
  );
});

// ---------------------------------------------------------------- resolution order

Deno.test("resolution order: explicit path > weights dir > cache > download", async () => {
  await withTempDir(async (root) => {
    const [file, bytes] = await craftedTrunk("unused");
    const explicit = join(root, "explicit.pth");
    const envDir = join(root, "envdir");
    const optDir = join(root, "optdir");
    const cache = join(root, "cache");
    for (const d of [envDir, optDir, cache]) await Deno.mkdir(d);
    await Deno.writeFile(explicit, bytes);
    await Deno.writeFile(join(envDir, file.name), bytes);
    await Deno.writeFile(join(optDir, file.name), bytes);
    await Deno.writeFile(join(cache, file.name), bytes);

    await withServer(serveFiles({ [`/models/${file.name}`]: bytes }), async (base, hits) => {
      const f = { ...file, url: `${base}/models/${file.name}` };
      const env = { LPIPS_WEIGHTS_DIR: envDir };
      const o = { cacheDir: cache, env, quiet: true };
      assert.equal(await resolveFile(f, { ...o, path: explicit, weightsDir: optDir }), explicit);
      assert.equal(await resolveFile(f, { ...o, weightsDir: optDir }), join(optDir, file.name));
      assert.equal(await resolveFile(f, o), join(envDir, file.name));
      assert.equal(await resolveFile(f, { ...o, env: {} }), join(cache, file.name));
      assert.equal(hits.size, 0, "nothing is fetched while a local copy exists");
      await Deno.remove(join(cache, file.name));
      assert.equal(await resolveFile(f, { ...o, env: {} }), join(cache, file.name));
      assert.equal(hits.get(`/models/${file.name}`), 1);
      assert.deepEqual(await Deno.readFile(join(cache, file.name)), bytes);
    });
  });
});

Deno.test("an explicit path that does not exist is an error naming it (no download)", async () => {
  await withTempDir(async (root) => {
    const missing = join(root, "no", "alex.pth");
    await rejectsWith(
      resolveFile(ALEX_V01, { path: missing, cacheDir: root, env: {}, fetch: noFetch }),
      new RegExp(`given path ${RegExp.escape(missing)} does not exist`),
    );
    await rejectsWith(
      resolveFile(ALEX_V01, { path: root, cacheDir: root, env: {}, fetch: noFetch }),
      /is not a file/,
    );
  });
});

Deno.test("a weights dir that lacks the file is an error naming the path (no download)", async () => {
  await withTempDir(async (root) => {
    const expected = RegExp.escape(join(root, "lpips", "v0.1", "alex.pth"));
    const cache = join(root, "cache");
    await rejectsWith(
      resolveFile(ALEX_V01, { env: { LPIPS_WEIGHTS_DIR: root }, cacheDir: cache, fetch: noFetch }),
      new RegExp(`${expected} does not exist`),
      /LPIPS_WEIGHTS_DIR is /,
    );
    await rejectsWith(
      resolveFile(ALEX_V01, { weightsDir: root, env: {}, cacheDir: cache, fetch: noFetch }),
      new RegExp(`${expected} does not exist`),
      /weightsDir option/,
    );
    await rejectsWith(
      resolveFile(officialFile("ex_ref.png"), {
        imagesDir: root,
        env: {},
        cacheDir: cache,
        fetch: noFetch,
      }),
      /ex_ref\.png does not exist .*imagesDir option/,
    );
    assert.deepEqual(await listFiles(root), []);
    // The weights dir does not apply to images, nor the images dir to weights.
    await Deno.mkdir(join(cache, "images"), { recursive: true });
    await Deno.writeFile(join(cache, "images", "ex_ref.png"), new Uint8Array(1));
    await Deno.writeFile(join(cache, "alexnet-owt-7be5be79.pth"), new Uint8Array(1));
    const o = { env: { LPIPS_WEIGHTS_DIR: root, LPIPS_IMAGES_DIR: root }, cacheDir: cache };
    await rejectsWith(
      resolveFile(officialFile("ex_ref.png"), { ...o, fetch: noFetch }),
      /LPIPS_IMAGES_DIR is /,
    );
    assert.equal(
      await resolveFile(officialFile("ex_ref.png"), { weightsDir: root, cacheDir: cache, env: {} }),
      join(cache, "images", "ex_ref.png"),
    );
    assert.equal(
      await resolveFile(officialFile(trunkFileName("alex")), {
        imagesDir: root,
        cacheDir: cache,
        env: {},
      }),
      join(cache, "alexnet-owt-7be5be79.pth"),
    );
  });
});

Deno.test("download: false turns a missing file into an error with the hint", async () => {
  await withTempDir(async (root) => {
    await rejectsWith(
      resolveFile(ALEX_V01, { cacheDir: root, env: {}, download: false, fetch: noFetch }),
      /not in the cache .* downloading is off; set LPIPS_WEIGHTS_DIR/,
    );
  });
});

Deno.test(needsTestData("the shared folders resolve under their official names"), async () => {
  const weightsDir = testData("weights");
  const env = {};
  for (
    const name of [
      trunkFileName("alex"),
      trunkFileName("squeeze"),
      ...OFFICIAL_FILES.filter((f) => f.kind === "head").map((f) => f.name),
    ]
  ) {
    assert.equal(
      await resolveFile(officialFile(name), { weightsDir, env, fetch: noFetch }),
      join(weightsDir, name),
    );
  }
  for (const name of EXAMPLE_IMAGES) {
    const path = await resolveFile(officialFile(name), {
      imagesDir: testData("images"),
      env,
      fetch: noFetch,
    });
    assert.equal(await sha256Hex(await Deno.readFile(path)), officialFile(name).sha256);
  }
  // The heads and images are the official files byte for byte.
  for (const f of OFFICIAL_FILES.filter((f) => f.kind === "head")) {
    const bytes = await Deno.readFile(join(weightsDir, f.name));
    assert.equal(bytes.length, f.size, f.name);
    assert.equal(await sha256Hex(bytes), f.sha256, f.name);
  }
});

// ---------------------------------------------------------------- downloads

Deno.test("download: verified, written to the cache, not fetched again", async () => {
  await withTempDir(async (cache) => {
    await withServer(async (req) => {
      const [, bytes] = await craftedTrunk("");
      return new URL(req.url).pathname.startsWith("/models/")
        ? new Response(bytes)
        : new Response("nf", { status: 404 });
    }, async (base, hits) => {
      const [file, bytes] = await craftedTrunk(base);
      const o = { cacheDir: cache, env: {}, quiet: true };
      const path = await resolveFile(file, o);
      assert.equal(path, join(cache, file.name));
      assert.deepEqual(await Deno.readFile(path), bytes);
      assert.equal(await resolveFile(file, o), path);
      assert.equal(hits.get(`/models/${file.name}`), 1, "second call must use the cache");
      assert.deepEqual(await listFiles(cache), [file.name]);
      // downloadFile always downloads (e.g. to refresh a file).
      assert.equal(await downloadFile(file, o), path);
      assert.equal(hits.get(`/models/${file.name}`), 2);
      assert.deepEqual(await listFiles(cache), [file.name]);
    });
  });
});

Deno.test("download with progress output (not quiet) works", async () => {
  await withTempDir(async (cache) => {
    const [file0, bytes] = await craftedTrunk("", 5 * 1048576);
    await withServer(serveFiles({ [`/models/${file0.name}`]: bytes }), async (base) => {
      const file = { ...file0, url: `${base}/models/${file0.name}` };
      const path = await resolveFile(file, { cacheDir: cache, env: {}, quiet: false });
      assert.equal((await Deno.stat(path)).size, bytes.length);
    });
  });
});

Deno.test("download through LPIPS_WEIGHTS_URL checks the full sha256 of a head", async () => {
  await withTempDir(async (cache) => {
    await withServer(
      serveFiles({ "/mirror/lpips/v0.1/alex.pth": new Uint8Array(6009) }),
      async (base) => {
        const env = { LPIPS_WEIGHTS_URL: `${base}/mirror` };
        const msg = await rejectsWith(
          resolveFile(ALEX_V01, { cacheDir: cache, env, quiet: true }),
          /wrong sha256: expected df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0, got [0-9a-f]{64}/,
          /nothing was saved as/,
        );
        assert.ok(msg.includes(await sha256Hex(new Uint8Array(6009))));
        assert.deepEqual(await listFiles(cache), [], "no final file, no temp file");
      },
    );
  });
});

Deno.test(needsTestData("download of the real heads and images from a mirror"), async () => {
  await withTempDir(async (cache) => {
    const files: Record<string, Uint8Array> = {};
    for (const f of OFFICIAL_FILES.filter((f) => f.kind === "head")) {
      files[`/w/${f.name}`] = await Deno.readFile(testData("weights", f.name));
    }
    for (const name of EXAMPLE_IMAGES) {
      files[`/i/${name}`] = await Deno.readFile(testData("images", name));
    }
    await withServer(serveFiles(files), async (base) => {
      const env = { LPIPS_WEIGHTS_URL: `${base}/w`, LPIPS_IMAGES_URL: `${base}/i/` };
      for (const f of OFFICIAL_FILES.filter((f) => f.kind !== "trunk")) {
        const path = await resolveFile(f, { cacheDir: cache, env, quiet: true });
        assert.equal(path, cachePath(f, { cacheDir: cache }));
        assert.equal(await sha256Hex(await Deno.readFile(path)), f.sha256);
      }
    });
    assert.deepEqual(await listFiles(cache), [
      "dists/weights.pt",
      "images/ex_p0.png",
      "images/ex_p1.png",
      "images/ex_ref.png",
      ...["v0.0", "v0.1"].flatMap((v) =>
        ["alex", "squeeze", "vgg"].map((n) => `lpips/${v}/${n}.pth`)
      ),
    ]);
  });
});

Deno.test("a trunk whose hash does not start with its name's prefix is rejected", async () => {
  await withTempDir(async (cache) => {
    const [file0, bytes] = await craftedTrunk("");
    const other = bytes.slice();
    other[0] ^= 1;
    const got = await sha256Hex(other);
    await withServer(serveFiles({ [`/models/${file0.name}`]: other }), async (base) => {
      const file = { ...file0, url: `${base}/models/${file0.name}` };
      await rejectsWith(
        resolveFile(file, { cacheDir: cache, env: {}, quiet: true }),
        new RegExp(
          `expected one starting with ${file.sha256Prefix} \\(from the file name\\), got ` +
            got,
        ),
      );
      assert.deepEqual(await listFiles(cache), []);
    });
  });
});

Deno.test("a connection dropped mid-body leaves neither a final nor a temp file", async () => {
  await withTempDir(async (cache) => {
    await withServer(() => {
      let sent = false;
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (!sent) {
            sent = true;
            c.enqueue(new Uint8Array(4000).fill(1));
            return;
          }
          await new Promise((r) => setTimeout(r, 50));
          c.error(new Error("test: the server drops the connection on purpose"));
        },
      });
      return new Response(body, { headers: { "content-length": "10000" } });
    }, async (base) => {
      const env = { LPIPS_WEIGHTS_URL: base };
      await rejectsWith(
        resolveFile(ALEX_V01, { cacheDir: cache, env, quiet: true }),
        /download of lpips\/v0\.1\/alex\.pth from .* was interrupted after \d+ of 10000 bytes/,
        /the partial download was deleted and nothing was saved as /,
        /LPIPS_WEIGHTS_DIR/,
      );
      assert.deepEqual(await listFiles(cache), [], "no final file, no temp file");
    });
  });
});

Deno.test("a body shorter than Content-Length is rejected", async () => {
  await withTempDir(async (cache) => {
    // Through a real connection: the server announces 6009 bytes and sends 3000.
    await withServer(() => {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new Uint8Array(3000));
          c.close();
        },
      });
      return new Response(body, { headers: { "content-length": "6009" } });
    }, async (base) => {
      await rejectsWith(
        resolveFile(ALEX_V01, { cacheDir: cache, env: { LPIPS_WEIGHTS_URL: base }, quiet: true }),
        /(interrupted after \d+ of 6009 bytes|incomplete: got \d+ bytes but Content-Length is 6009)/,
      );
      assert.deepEqual(await listFiles(cache), []);
    });
    // A response whose body and header disagree without a transport error (own check).
    const shortFetch: typeof fetch = () =>
      Promise.resolve(
        new Response(new Uint8Array(50), { headers: { "content-length": "6009" } }),
      );
    await rejectsWith(
      resolveFile(ALEX_V01, { cacheDir: cache, env: {}, quiet: true, fetch: shortFetch }),
      /incomplete: got 50 bytes but Content-Length is 6009/,
      /nothing was saved/,
    );
    assert.deepEqual(await listFiles(cache), []);
  });
});

Deno.test("HTTP 404 gives one error with the LPIPS_WEIGHTS_DIR hint", async () => {
  await withTempDir(async (cache) => {
    await withServer(serveFiles({}), async (base) => {
      await rejectsWith(
        resolveFile(ALEX_V01, { cacheDir: cache, env: { LPIPS_WEIGHTS_URL: base }, quiet: true }),
        /cannot download lpips\/v0\.1\/alex\.pth from http:\/\/127\.0\.0\.1:\d+\/lpips\/v0\.1\/alex\.pth: HTTP 404/,
        /Set LPIPS_WEIGHTS_DIR to a folder holding lpips\/v0\.1\/alex\.pth, or download http/,
      );
      await rejectsWith(
        resolveFile(officialFile("ex_p0.png"), {
          cacheDir: cache,
          env: { LPIPS_IMAGES_URL: base },
          quiet: true,
        }),
        /HTTP 404.*Set LPIPS_IMAGES_DIR/,
      );
      assert.deepEqual(await listFiles(cache), []);
    });
  });
});

Deno.test("an unreachable host gives one error with the LPIPS_WEIGHTS_DIR hint", async () => {
  await withTempDir(async (cache) => {
    const env = { LPIPS_WEIGHTS_URL: `http://127.0.0.1:${closedPort()}/w` };
    await rejectsWith(
      resolveFile(officialFile(trunkFileName("squeeze")), { cacheDir: cache, env, quiet: true }),
      /cannot download squeezenet1_1-b8a52dc0\.pth from http:\/\/127\.0\.0\.1:\d+\/w\/squeezenet1_1-b8a52dc0\.pth: /,
      /Set LPIPS_WEIGHTS_DIR to a folder holding squeezenet1_1-b8a52dc0\.pth, or download .* by hand to /,
    );
    assert.deepEqual(await listFiles(cache), []);
  });
});

Deno.test("concurrent downloads of one file do not corrupt each other", async () => {
  await withTempDir(async (cache) => {
    const [file0, bytes] = await craftedTrunk("", 200_000);
    await withServer(() => {
      // Slow, chunked body so that the downloads overlap.
      let off = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          await new Promise((r) => setTimeout(r, 2));
          if (off >= bytes.length) return c.close();
          c.enqueue(bytes.slice(off, off + 16384));
          off += 16384;
        },
      });
      return new Response(body, { headers: { "content-length": String(bytes.length) } });
    }, async (base, hits) => {
      const file = { ...file0, url: `${base}/models/${file0.name}` };
      const o = { cacheDir: cache, env: {}, quiet: true };
      const paths = await Promise.all([1, 2, 3, 4].map(() => downloadFile(file, o)));
      assert.equal(hits.get(`/models/${file.name}`), 4);
      for (const p of paths) assert.equal(p, join(cache, file.name));
      assert.deepEqual(await Deno.readFile(join(cache, file.name)), bytes);
      assert.deepEqual(await listFiles(cache), [file.name]);
    });
  });
});

// ---------------------------------------------------------------- tensor checks

function tensor(shape: number[], fill = 0.5): TensorLike {
  return { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill) };
}

const SPEC: ExpectedTensor[] = [
  { key: "features.0.weight", shape: [4, 3, 2, 2] },
  { key: "features.0.bias", shape: [4] },
];

function goodMap(): Map<string, TensorLike> {
  return new Map([
    ["features.0.weight", tensor([4, 3, 2, 2])],
    ["features.0.bias", tensor([4])],
  ]);
}

Deno.test("checkTensors accepts a matching map", async () => {
  await checkTensors("tiny.pth", goodMap(), SPEC);
  const m = goodMap();
  m.set("classifier.1.weight", tensor([2, 2], NaN)); // extras are not inspected when allowed
  await checkTensors("tiny.pth", m, SPEC, { allowExtra: true });
});

Deno.test("checkTensors: missing, extra, wrong shape, wrong size -> error naming file and key", async () => {
  const missing = goodMap();
  missing.delete("features.0.bias");
  await rejectsWith(
    checkTensors("tiny.pth", missing, SPEC),
    /^tiny\.pth: tensor features\.0\.bias is missing$/,
  );

  const extra = goodMap();
  extra.set("features.9.weight", tensor([1]));
  await rejectsWith(
    checkTensors("tiny.pth", extra, SPEC),
    /^tiny\.pth: unexpected tensor features\.9\.weight$/,
  );

  const shape = goodMap();
  shape.set("features.0.weight", tensor([4, 3, 2, 1]));
  await rejectsWith(
    checkTensors("tiny.pth", shape, SPEC),
    /^tiny\.pth: tensor features\.0\.weight has shape \[4, 3, 2, 1\], expected \[4, 3, 2, 2\]$/,
  );
  const rank = goodMap();
  rank.set("features.0.bias", tensor([1, 4]));
  await rejectsWith(checkTensors("tiny.pth", rank, SPEC), /features\.0\.bias has shape \[1, 4\]/);

  const size = goodMap();
  size.set("features.0.bias", { shape: [4], data: new Float32Array(5) });
  await rejectsWith(
    checkTensors("tiny.pth", size, SPEC),
    /tiny\.pth: tensor features\.0\.bias holds 5 values, its shape \[4\] needs 4/,
  );
});

Deno.test("checkTensors: NaN and infinities -> error naming file, key and index", async () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const m = goodMap();
    const w = new Float32Array(48).fill(0.25);
    w[17] = bad;
    m.set("features.0.weight", { shape: [4, 3, 2, 2], data: w });
    await rejectsWith(
      checkTensors("tiny.pth", m, SPEC),
      new RegExp(
        `^tiny\\.pth: tensor features\\.0\\.weight has a non-finite value \\(${bad}\\) at flat index 17$`,
      ),
    );
  }
  const plain = new Map([["x", { shape: [2], data: [1, NaN] }]]);
  await rejectsWith(checkTensors("p.pth", plain, [{ key: "x", shape: [2] }]), /p\.pth: tensor x/);
});

Deno.test("checkTensors: pinned hashes are checked", async () => {
  const m = goodMap();
  const pinned = {
    "features.0.weight": await float32Sha256(new Float32Array(48).fill(0.5)),
    "features.0.bias": await float32Sha256([0.5, 0.5, 0.5, 0.5]),
  };
  await checkTensors("tiny.pth", m, SPEC, { pinned });
  // Same values given as a plain array or as a view into a larger buffer hash the same.
  const buf = new Float32Array(10).fill(0.5);
  const views = new Map<string, TensorLike>([
    ["features.0.weight", { shape: [4, 3, 2, 2], data: Array(48).fill(0.5) }],
    ["features.0.bias", { shape: [4], data: buf.subarray(3, 7) }],
  ]);
  await checkTensors("tiny.pth", views, SPEC, { pinned });

  const changed = goodMap();
  const b = new Float32Array(4).fill(0.5);
  b[2] = Math.fround(0.5000001);
  changed.set("features.0.bias", { shape: [4], data: b });
  const got = await float32Sha256(b);
  await rejectsWith(
    checkTensors("tiny.pth", changed, SPEC, { pinned }),
    new RegExp(
      `^tiny\\.pth: tensor features\\.0\\.bias does not match the official weights: sha256 ` +
        `${got}, pinned ${pinned["features.0.bias"]}$`,
    ),
  );
});

Deno.test("float32Sha256 hashes float32 little-endian bytes", async () => {
  // 1.0f = 00 00 80 3f
  assert.equal(
    await float32Sha256([1]),
    await sha256Hex(new Uint8Array([0x00, 0x00, 0x80, 0x3f])),
  );
  assert.equal(
    await sha256Hex(new Uint8Array()),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});

// ---------------------------------------------------------------- pinned hashes vs the shared data

function readTsv(): { file: string; key: string; shape: number[]; sha: string }[] {
  const lines = Deno.readTextFileSync(testData("weights", "tensors.tsv")).trim().split("\n");
  assert.equal(lines[0], "file\tkey\tshape\tdtype\tsha256_raw_f32le");
  return lines.slice(1).map((l) => {
    const [file, key, shape, dtype, sha] = l.split("\t");
    assert.equal(dtype, "float32");
    return { file, key, shape: shape.split("x").map(Number), sha };
  });
}

/** The files `_pinned_hashes.ts` (generated from tensors.tsv) covers: LPIPS's, but VGG16. */
const PINNED_FILES = [
  trunkFileName("alex"),
  trunkFileName("squeeze"),
  ...OFFICIAL_FILES.filter((f) => f.name.startsWith("lpips/")).map((f) => f.name),
];

Deno.test("pinned hashes cover exactly the real official files", () => {
  assert.deepEqual(Object.keys(PINNED_TENSOR_SHA256).sort(), [...PINNED_FILES].sort());
  // Every weight file but VGG16 is pinned, DISTS's through its own table.
  assert.deepEqual(
    WEIGHT_FILES.filter((f) => pinnedTensorHashes(f.name) !== undefined).map((f) => f.name),
    WEIGHT_FILES.filter((f) => f.name !== trunkFileName("vgg")).map((f) => f.name),
  );
  assert.deepEqual(Object.keys(pinnedTensorHashes("dists/weights.pt") ?? {}), ["alpha", "beta"]);
  assert.equal(pinnedTensorHashes(trunkFileName("vgg")), undefined);
  assert.equal(pinnedTensorHashes("vgg16-random-seed0.pth"), undefined);
  assert.equal(Object.keys(pinnedTensorHashes(trunkFileName("alex")) ?? {}).length, 10);
  assert.equal(Object.keys(pinnedTensorHashes(trunkFileName("squeeze")) ?? {}).length, 50);
  assert.equal(Object.keys(pinnedTensorHashes("lpips/v0.0/squeeze.pth") ?? {}).length, 7);
  assert.equal(pinnedTensorHashes("toString"), undefined);
});

Deno.test(needsTestData("pinned hashes agree with shared/weights/tensors.tsv"), () => {
  const rows = readTsv().filter((r) => PINNED_FILES.includes(r.file));
  const fromTsv: Record<string, Record<string, string>> = {};
  for (const r of rows) (fromTsv[r.file] ??= {})[r.key] = r.sha;
  assert.deepEqual(fromTsv, PINNED_TENSOR_SHA256);
});

Deno.test(needsTestData("checkTensors on the real shared files, pinned hashes"), async (t) => {
  const rows = readTsv();
  for (const name of PINNED_FILES) {
    await t.step(name, async () => {
      const path = await resolveFile(officialFile(name), {
        weightsDir: testData("weights"),
        env: {},
      });
      const raw = readPth(await Deno.readFile(path), name);
      const tensors = new Map<string, TensorLike>(
        [...raw].map(([k, t]) => [k, { shape: t.shape, data: toFloat32(t) }]),
      );
      const expected = rows.filter((r) => r.file === name).map((r) => ({
        key: r.key,
        shape: r.shape,
      }));
      const pinned = pinnedTensorHashes(name);
      await checkTensors(name, tensors, expected, { pinned });
      // A single flipped bit in any pinned tensor is caught.
      const [key, t0] = [...tensors][0];
      const flipped = new Float32Array(t0.data);
      new Uint8Array(flipped.buffer)[0] ^= 1;
      const bad = new Map(tensors).set(key, { shape: t0.shape, data: flipped });
      await rejectsWith(
        checkTensors(name, bad, expected, { pinned }),
        new RegExp(`${RegExp.escape(name)}: tensor ${RegExp.escape(key)} does not match`),
      );
    });
  }
});

Deno.test(needsTestData("loadWeightFile: every shared official file, found by name"), async (t) => {
  for (const f of WEIGHT_FILES.filter((f) => f.name !== trunkFileName("vgg"))) {
    await t.step(f.name, async () => {
      const o = { weightsDir: testData("weights"), env: {}, fetch: noFetch };
      const w = await loadWeightFile(f, o);
      assert.deepEqual([...w.keys()].sort(), f.tensors.map((e) => e.key).sort());
      // A pin that does not match fails the file found by name, not an explicit path.
      const key = f.tensors[0].key;
      const wrong = { ...f, pinned: { [key]: "0".repeat(64) } };
      await rejectsWith(
        loadWeightFile(wrong, o),
        new RegExp(`tensor ${RegExp.escape(key)} does not match the official weights`),
      );
      const path = join(testData("weights"), f.name);
      assert.deepEqual(await loadWeightFile(wrong, { path }), w);
    });
  }
});
