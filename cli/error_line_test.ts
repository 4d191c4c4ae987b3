import assert from "node:assert/strict";
import { debugging, errorLine, missingFlags } from "./error_line.ts";

Deno.test("errorLine: the first line of an error's message", () => {
  assert.equal(errorLine(new Error("a.png: cannot read\nmore")), "a.png: cannot read");
  assert.equal(errorLine("plain"), "plain");
});

Deno.test("errorLine: a permission Deno did not grant becomes the flag to run with", () => {
  const e = new Deno.errors.NotCapable(
    'Requires env access to "LPIPS_WEIGHTS_DIR", run again with the --allow-env flag',
  );
  // This test runs with every permission (-A), so no other flag is missing.
  assert.deepEqual(missingFlags(), []);
  assert.equal(errorLine(e), 'needs env access to "LPIPS_WEIGHTS_DIR": run with --allow-env');
  const old = new Deno.errors.PermissionDenied(
    'Requires read access to "a.png", run again with the --allow-read flag',
  );
  assert.equal(errorLine(old), 'needs read access to "a.png": run with --allow-read');
  // An operating-system refusal is not a missing flag: its message stays.
  const os = new Deno.errors.PermissionDenied("Permission denied (os error 13): open 'a.png'");
  assert.equal(errorLine(os), "Permission denied (os error 13): open 'a.png'");
});

Deno.test("debugging: reads LPIPS_DEBUG", () => {
  const before = Deno.env.get("LPIPS_DEBUG");
  try {
    Deno.env.set("LPIPS_DEBUG", "1");
    assert.equal(debugging(), true);
    Deno.env.delete("LPIPS_DEBUG");
    assert.equal(debugging(), false);
  } finally {
    if (before !== undefined) Deno.env.set("LPIPS_DEBUG", before);
  }
});
