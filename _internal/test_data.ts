/**
 * Where the shared test data lives (weights, images, golden values, BAPPS-format fixtures):
 * `LPIPS_TEST_DATA`, else `../shared` when it exists. Tests that need it and cannot find it are
 * skipped by name with a message saying what to set.
 *
 * @module
 */
import { join } from "node:path";

/** The test-data folder, or `undefined` when none is available. */
export const TEST_DATA: string | undefined = findTestData();

function findTestData(): string | undefined {
  const fromEnv = Deno.env.get("LPIPS_TEST_DATA");
  const dir = fromEnv ?? "../shared";
  try {
    if (Deno.statSync(join(dir, "reference", "cases.json")).isFile) return dir;
  } catch {
    // fall through
  }
  if (fromEnv) throw new Error(`LPIPS_TEST_DATA=${fromEnv} has no reference/cases.json`);
  return undefined;
}

/** Absolute-or-relative path of a file inside the test data (throws if there is none). */
export function testData(...parts: string[]): string {
  if (!TEST_DATA) throw new Error("no test data: set LPIPS_TEST_DATA");
  return join(TEST_DATA, ...parts);
}

let warned = false;
/** `Deno.test` options that skip the test, saying why, when the test data is missing. */
export function needsTestData(name: string): { name: string; ignore: boolean } {
  if (!TEST_DATA && !warned) {
    warned = true;
    console.warn("LPIPS_TEST_DATA not set and ../shared missing: data-dependent tests skipped");
  }
  return {
    name: TEST_DATA ? name : `${name} [skipped: needs LPIPS_TEST_DATA]`,
    ignore: !TEST_DATA,
  };
}
