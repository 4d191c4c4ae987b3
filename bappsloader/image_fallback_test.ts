/**
 * The pure-JS fallback, as a JSR user gets it with `deno run --allow-read`: a subprocess without
 * `--allow-ffi` (or without `--allow-env`) decodes the test images, and its pixels are compared
 * with Pillow's and with this process's native decoder.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { decodeImage } from "./image.ts";
import { readNpy } from "./npy.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** What the subprocess reports for one file: its pixels (base64 or SHA-256), or the error. */
interface Decoded {
  width?: number;
  height?: number;
  base64?: string;
  sha256?: string;
  error?: string;
}

interface Report {
  decoder: { decoder: string; reason?: string };
  files: Record<string, Decoded>;
}

async function sha256(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Decodes `paths` in `deno run PERMISSIONS -` (the script on standard input). */
async function decodeElsewhere(
  permissions: string[],
  paths: string[],
  hashed: boolean,
): Promise<Report> {
  const image = new URL("./image.ts", import.meta.url).href;
  const script = `
    import { decodeImage, imageDecoder } from ${JSON.stringify(image)};
    const files = {};
    for (const path of ${JSON.stringify(paths)}) {
      try {
        const { width, height, data } = decodeImage(await Deno.readFile(path), path);
        files[path] = ${hashed}
          ? { width, height, sha256: [...new Uint8Array(await crypto.subtle.digest("SHA-256", data))]
              .map((b) => b.toString(16).padStart(2, "0")).join("") }
          : { width, height, base64: btoa(Array.from(data, (b) => String.fromCharCode(b)).join("")) };
      } catch (e) {
        files[path] = { error: e.message };
      }
    }
    console.log(JSON.stringify({ decoder: imageDecoder(), files }));
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, "--config", join(ROOT, "deno.json"), "-"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

/**
 * Largest per-sample difference from Pillow measured for jpeg-js, which upsamples chroma without
 * libjpeg's smoothing (hence 26 on 4:2:0; the native decoder stays within 3).
 */
const JS_JPEG_MAX_DIFF: Record<string, number> = {
  "ex_ref_q75.jpg": 26,
  "ex_ref_q75_444.jpg": 3,
};

Deno.test({
  ...needsTestData(
    "without --allow-ffi: PNG, JPEG (q75 4:2:0 within 26 of Pillow, 4:4:4 within 3) and GIF " +
      "decode in JS; BMP, TIFF and WebP name the flags",
  ),
  fn: async () => {
    const dir = testData("images", "formats");
    const names = [...Deno.readDirSync(dir)].map((e) => e.name)
      .filter((n) => !n.endsWith(".npy") && n !== "README.md").sort();
    const report = await decodeElsewhere(["--allow-read"], names.map((n) => join(dir, n)), false);
    assert.equal(report.decoder.decoder, "js");
    assert.equal(report.decoder.reason, "run deno with --allow-ffi --allow-env");
    for (const name of names) {
      const path = join(dir, name);
      const got = report.files[path];
      const format = ({ bmp: "BMP", tif: "TIFF", webp: "WebP" } as Record<string, string>)[
        name.split(".").pop()!
      ];
      if (format) {
        assert.equal(
          got.error,
          `${path}: ${format} images need the native decoder (@napi-rs/image): ` +
            "run deno with --allow-ffi --allow-env",
        );
        continue;
      }
      assert.equal(got.error, undefined, name);
      const want = await readNpy(`${path}.rgb.npy`);
      const data = Uint8Array.from(atob(got.base64!), (c) => c.charCodeAt(0));
      assert.deepEqual([got.height, got.width, 3], want.shape, name);
      let max = 0;
      want.data.forEach((v, i) => max = Math.max(max, Math.abs(Number(v) - data[i])));
      const bound = name.endsWith(".jpg") ? JS_JPEG_MAX_DIFF[name] : 0;
      assert.ok(bound !== undefined, `${name}: no measured bound for it here`);
      assert.ok(max <= bound, `${name}: differs from Pillow by up to ${max} (bound ${bound})`);
    }
  },
});

Deno.test({
  ...needsTestData("the JS fallback and the native decoder give the same BAPPS PNG pixels"),
  fn: async () => {
    const paths: string[] = [];
    for (const subset of ["cnn", "traditional"]) {
      for (const role of ["ref", "p0"]) {
        const dir = testData("bapps-mini", "2afc", "val", subset, role);
        for (const e of Deno.readDirSync(dir)) paths.push(join(dir, e.name));
      }
    }
    assert.ok(paths.length > 0);
    const report = await decodeElsewhere(["--allow-read", "--allow-ffi"], paths, true);
    assert.deepEqual(report.decoder, { decoder: "js", reason: "run deno with --allow-env" });
    for (const path of paths) {
      const img = decodeImage(await Deno.readFile(path), path);
      const want = { width: img.width, height: img.height, sha256: await sha256(img.data) };
      assert.deepEqual(report.files[path], want, path);
    }
  },
});
