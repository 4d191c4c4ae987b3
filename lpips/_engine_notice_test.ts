import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { autoFallbackNotice } from "./_engine_notice.ts";

const CONFIG = fileURLToPath(new URL("../deno.json", import.meta.url));
const LPIPS_MODULE = new URL("./lpips.ts", import.meta.url).href;

/**
 * Creates two models with the default engine (and one with engine "tfjs") in a fresh `deno run`
 * with `permissions`; returns the engines they got (stdout) and what went to stderr.
 */
async function twoModels(permissions: string[]): Promise<{ engines: string[]; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "lpips_notice_" });
  try {
    const script = join(dir, "two_models.ts");
    await Deno.writeTextFile(
      script,
      `import { LPIPS } from ${JSON.stringify(LPIPS_MODULE)};
const weightsDir = ${JSON.stringify(testData("weights"))};
const engines = [];
for (const opts of [{}, { net: "squeeze" }, { engine: "tfjs" }]) {
  const m = await LPIPS.create({ ...opts, weightsDir, quiet: true });
  engines.push(m.engine);
  m.dispose();
}
console.log(JSON.stringify(engines));
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--config", CONFIG, "--quiet", ...permissions, script],
      env: { NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    const stderr = text.decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    return { engines: JSON.parse(text.decode(out.stdout)), stderr };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  ...needsTestData(
    "engine auto without --allow-ffi says once that it runs TF.js, and how to speed up",
  ),
  fn: async () => {
    const { engines, stderr } = await twoModels(["--allow-read", "--allow-env"]);
    assert.deepEqual(engines, ["tfjs", "tfjs", "tfjs"]);
    const line = autoFallbackNotice("wasm");
    assert.match(line, /^lpips: engine auto -> tfjs \(wasm, 1 thread\): run with --allow-ffi /);
    assert.equal(stderr, `${line}\n`);
  },
});

Deno.test({
  ...needsTestData("engine auto with --allow-ffi picks ONNX Runtime and prints nothing"),
  fn: async () => {
    const { engines, stderr } = await twoModels(["--allow-read", "--allow-env", "--allow-ffi"]);
    assert.deepEqual(engines, ["onnx", "onnx", "tfjs"]);
    assert.equal(stderr, "");
  },
});

Deno.test("the notice names the backend, and claims a speed-up only where one was measured", () => {
  assert.match(autoFallbackNotice("wasm"), /\(about 10x faster\)$/);
  for (const b of ["cpu", "webgpu", "tensorflow"] as const) {
    assert.equal(
      autoFallbackNotice(b),
      `lpips: engine auto -> tfjs (${b}): run with --allow-ffi for ONNX Runtime`,
    );
  }
});
