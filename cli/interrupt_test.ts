import assert from "node:assert/strict";
import { join } from "node:path";
import { needsTestData, testData } from "../_internal/test_data.ts";
import { cliCommand } from "../_internal/test_cli.ts";

/**
 * Starts `eval` (LPIPS one item per batch over 240 triplets: many seconds), sends `signal` once
 * the first progress line (at 10%) is on stderr, and returns the exit status and output.
 */
async function interruptedEval(signal: Deno.Signal, outputs: string[]) {
  const child = cliCommand([
    "eval",
    "--root",
    testData("bapps-mini"),
    "--datasets",
    "val/cnn",
    "val/traditional",
    "--batch-size",
    "1",
    ...outputs,
  ]).spawn();
  const stdout = new Response(child.stdout).text();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  let sent = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    stderr += value;
    if (!sent && /lpips eval: val\/cnn \d+\/\d+ items, /.test(stderr)) {
      child.kill(signal);
      sent = true;
    }
  }
  const status = await child.status;
  assert.ok(sent, `no progress line seen:\n${stderr}`);
  return { code: status.code, stdout: await stdout, stderr };
}

Deno.test({
  ...needsTestData("eval: SIGINT stops with one line, exit 130, no output file (not even .part)"),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const r = await interruptedEval("SIGINT", ["--json", "--per-item", join(dir, "items.csv")]);
      assert.equal(r.code, 130, r.stderr);
      assert.equal(r.stdout, "", "no scores on stdout");
      const lines = r.stderr.trimEnd().split("\n");
      const m = /^lpips eval: interrupted: no results written \((\d+) of 240 items done\)$/.exec(
        lines.at(-1)!,
      );
      assert.ok(m, r.stderr);
      assert.ok(Number(m[1]) < 240);
      assert.equal(lines.filter((l) => l.includes("interrupted")).length, 1);
      assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...needsTestData("eval --shard: SIGTERM stops with exit 143 and no shard file"),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const out = join(dir, "shard-0.jsonl");
      const r = await interruptedEval("SIGTERM", ["--shard", "0/2", "--out", out]);
      assert.equal(r.code, 143, r.stderr);
      assert.match(
        r.stderr.trimEnd().split("\n").at(-1)!,
        /^lpips eval: interrupted: no results written \(\d+ of 120 items done\)$/,
      );
      assert.deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
