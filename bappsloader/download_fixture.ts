/**
 * Tests only: tiny BAPPS-shaped archives and a local HTTP server that serves them (with Range,
 * dropped connections and stalls on request), for the downloader's tests and the `download`
 * command's.
 *
 * @module
 */
import { join } from "node:path";
import { packTar, type TarEntry } from "modern-tar";

export const VAL_2AFC = ["traditional", "cnn", "superres", "deblur", "color", "frameinterp"];
export const TRAIN_2AFC = ["traditional", "cnn", "mix"];

/** Deterministic pseudo-random bytes (so that resumed downloads can be compared byte by byte). */
export function bytes(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 255;
  }
  return out;
}

export function file(name: string, data: Uint8Array | string): TarEntry {
  const body = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return { header: { name, size: body.length, type: "file" }, body };
}

/** Entries of one `<prefix><subset>/<role>/00000k.<ext>` tree. */
export function tree(
  prefix: string,
  subsets: string[],
  roles: string[],
  n = 2,
  size = 300,
): TarEntry[] {
  const out: TarEntry[] = [{ header: { name: prefix, size: 0, type: "directory" } }];
  let seed = 1;
  for (const s of subsets) {
    for (const r of roles) {
      out.push({ header: { name: `${prefix}${s}/${r}/`, size: 0, type: "directory" } });
      for (let k = 0; k < n; k++) {
        const ext = r === "judge" || r === "same" ? "npy" : "png";
        out.push(
          file(`${prefix}${s}/${r}/${String(k).padStart(6, "0")}.${ext}`, bytes(size, seed++)),
        );
      }
    }
  }
  return out;
}

export async function gzip(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

export async function tarGz(entries: TarEntry[]): Promise<Uint8Array<ArrayBuffer>> {
  return await gzip(await packTar(entries));
}

/** The three archives laid out as the reference's untar commands expect. */
export async function officialArchives(
  size = 300,
): Promise<Record<string, Uint8Array<ArrayBuffer>>> {
  return {
    "jnd.tar.gz": await tarGz(
      tree("jnd/val/", ["traditional", "cnn"], ["p0", "p1", "same"], 2, size),
    ),
    "twoafc_val.tar.gz": await tarGz(tree("val/", VAL_2AFC, ["ref", "p0", "p1", "judge"], 2, size)),
    "twoafc_train.tar.gz": await tarGz(tree("train/", TRAIN_2AFC, ["ref", "p0", "p1", "judge"])),
  };
}

// ---------------------------------------------------------------------------------------------
// A local server.

export interface ServerOptions {
  /** Answer every request with the whole file (200), ignoring Range. */
  ignoreRange?: boolean;
  /** Drop the connection after this many body bytes of the first N responses of a file. */
  dropAfter?: number;
  /** How many responses are dropped (default 1). */
  drops?: number;
  /** Send this many body bytes, then nothing more (until the client gives up). */
  stallAfter?: number;
}

export interface Served {
  url: string;
  /** `name range-header-or-"-"` per request, in order. */
  requests: string[];
}

export async function withServer(
  files: Record<string, Uint8Array<ArrayBuffer>>,
  sopts: ServerOptions,
  fn: (s: Served) => Promise<void>,
): Promise<void> {
  const requests: string[] = [];
  let drops = sopts.drops ?? 1;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const name = new URL(req.url).pathname.split("/").pop()!;
    const range = req.headers.get("range");
    requests.push(`${name} ${range ?? "-"}`);
    const data = files[name];
    if (!data) return new Response("not found", { status: 404 });
    let start = 0;
    let status = 200;
    const headers = new Headers({ "content-type": "application/gzip" });
    const m = range && !sopts.ignoreRange ? /^bytes=(\d+)-$/.exec(range) : null;
    if (m) {
      start = Number(m[1]);
      if (start >= data.length) {
        return new Response(null, {
          status: 416,
          headers: { "content-range": `bytes */${data.length}` },
        });
      }
      status = 206;
      headers.set("content-range", `bytes ${start}-${data.length - 1}/${data.length}`);
    }
    const body = data.subarray(start);
    headers.set("content-length", String(body.length));
    if (sopts.stallAfter !== undefined) {
      const first = body.slice(0, sopts.stallAfter);
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(first);
        },
      });
      return new Response(stream, { status, headers });
    }
    if (sopts.dropAfter !== undefined && drops > 0) {
      drops--;
      const cut = sopts.dropAfter;
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(body.slice(0, cut));
        },
        async pull(c) {
          await new Promise((r) => setTimeout(r, 20));
          c.error(new Error("connection dropped by the test"));
        },
      });
      return new Response(stream, { status, headers });
    }
    return new Response(body, { status, headers });
  });
  const { port } = server.addr as Deno.NetAddr;
  try {
    await fn({ url: `http://127.0.0.1:${port}/dataset`, requests });
  } finally {
    await server.shutdown();
  }
}

export async function withRoot(fn: (root: string, outer: string) => Promise<void>): Promise<void> {
  const outer = await Deno.makeTempDir({ prefix: "bapps_dl_" });
  try {
    await fn(join(outer, "dataset"), outer);
  } finally {
    await Deno.remove(outer, { recursive: true });
  }
}
