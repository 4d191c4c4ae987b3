/**
 * The package as a user gets it: a scratch project in a temporary folder, a Deno workspace whose
 * one member is a copy of exactly the files `deno publish` would upload, so that the package's
 * bare names (`@perceptual/lpips`, `@perceptual/lpips/notebook`, `@perceptual/lpips/cli`) resolve
 * as they do from JSR, with nothing of this repository around them. A script there builds a
 * notebook display; the `./cli` export runs from another working directory, offline (weights and
 * images from the test data, an empty user cache).
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { decode } from "fast-png";
import { needsTestData, testData } from "../_internal/test_data.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const text = new TextDecoder();

/** The files `deno publish` would upload, relative to the repository root. */
async function publishedFiles(): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty", "--no-check"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const log = text.decode(out.stdout) + text.decode(out.stderr);
  assert.ok(out.success, `deno publish --dry-run failed:\n${log}`);
  const files = [...log.matchAll(/^\s+(file:\/\/\S+)\s+\([\d.]+\w*B\)$/gm)]
    .map((m) => relative(ROOT, fileURLToPath(m[1])));
  assert.ok(files.length > 0, `no file list in the dry run's output:\n${log}`);
  return files;
}

/**
 * Runs deno in `cwd` with this environment less every `LPIPS_*` and `BAPPS_*` variable (the
 * repository's test-data settings), plus `env`.
 */
async function deno(args: string[], cwd: string, env: Record<string, string>) {
  const base = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !/^(LPIPS|BAPPS)_/.test(k)),
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    clearEnv: true,
    env: { ...base, NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const run = { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  assert.equal(run.code, 0, `deno ${args.join(" ")} (in ${cwd}) failed:\n${run.stderr}`);
  return run;
}

const SCRIPT = `
import { LPIPS } from "@perceptual/lpips";
import { compareImages, JUPYTER_DISPLAY } from "@perceptual/lpips/notebook";
const [images] = Deno.args;
const m = await LPIPS.create({ quiet: true });
const c0 = await compareImages(m, images + "/ex_ref.png", images + "/ex_p0.png");
const c1 = await compareImages(m, images + "/ex_ref.png", images + "/ex_p1.png");
const bundle = c0[JUPYTER_DISPLAY]();
console.log(JSON.stringify({ d0: c0.distance, d1: c1.distance, bundle }));
m.dispose();
`;

Deno.test({
  ...needsTestData(
    "outside the repository: the published files as a workspace member, the notebook " +
      "toolkit from a script, the cli export from another working directory",
  ),
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "lpips_consumer_" });
    try {
      const files = await publishedFiles();
      for (const f of ["cli.ts", "mod.ts", "notebook/mod.ts", "deno.json"]) {
        assert.ok(files.includes(f), `${f} is not published`);
      }
      assert.ok(!files.some((f) => f.startsWith("notebooks/") || f.startsWith("_testing/")));
      for (const f of files) {
        await Deno.mkdir(dirname(join(tmp, "lpips-pkg", f)), { recursive: true });
        await Deno.copyFile(join(ROOT, f), join(tmp, "lpips-pkg", f));
      }
      await Deno.writeTextFile(join(tmp, "deno.json"), '{ "workspace": ["./lpips-pkg"] }\n');
      // The repository's lock file, so that npm versions resolve to the tested (cached) ones.
      await Deno.copyFile(join(ROOT, "deno.lock"), join(tmp, "deno.lock"));
      await Deno.writeTextFile(join(tmp, "main.ts"), SCRIPT);
      const work = join(tmp, "work");
      await Deno.mkdir(work);
      const images = resolve(testData("images"));
      const env = {
        LPIPS_WEIGHTS_DIR: resolve(testData("weights")),
        // An empty user cache: nothing but LPIPS_WEIGHTS_DIR / LPIPS_IMAGES_DIR can be used.
        XDG_CACHE_HOME: join(tmp, "cache"),
        DENO_DIR: Deno.env.get("DENO_DIR") ?? await denoDir(),
      };

      const script = await deno(["run", "-A", "main.ts", images], tmp, env);
      const { d0, d1, bundle } = JSON.parse(script.stdout);
      assert.ok(typeof bundle["text/plain"] === "string");
      assert.match(bundle["text/plain"], /^LPIPS \(alex, v0\.1\) ex_ref\.png vs ex_p0\.png: /);
      const png = decode(Uint8Array.fromBase64(bundle["image/png"]));
      assert.ok(png.width > 0 && png.height > 0 && png.channels === 3, "image/png is a picture");

      // The cli export, run the way `deno run -A jsr:@perceptual/lpips/cli demo` runs it.
      const demo = await deno(["run", "-A", "@perceptual/lpips/cli", "demo"], work, {
        ...env,
        LPIPS_IMAGES_DIR: images,
      });
      assert.match(demo.stdout, /^LPIPS \(alex, v0\.1\):\n/);
      assert.ok(demo.stdout.includes(`d(ex_ref, ex_p0) = ${d0.toFixed(6)}\n`), demo.stdout);
      assert.ok(demo.stdout.includes(`d(ex_ref, ex_p1) = ${d1.toFixed(6)}\n`), demo.stdout);

      // Relative image paths are read from the working directory.
      for (const n of ["ex_ref.png", "ex_p1.png"]) {
        await Deno.copyFile(join(images, n), join(work, n));
      }
      const compare = await deno(
        ["run", "-A", "@perceptual/lpips/cli", "compare", "ex_ref.png", "ex_p1.png", "--json"],
        work,
        env,
      );
      assert.equal(JSON.parse(compare.stdout).distance, d1);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

/** Deno's cache folder, so that the scratch project reuses the downloaded npm packages. */
async function denoDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return JSON.parse(text.decode(out.stdout)).denoDir;
}
