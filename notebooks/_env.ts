/**
 * What the project's notebooks read from the repository and the environment: where the data is
 * (BAPPS or the test data's fixture), quick mode, and the engine and backend to use. Private to
 * the notebooks and their runner: the package's notebook toolkit (`@perceptual/lpips/notebook`)
 * knows nothing of the repository.
 *
 * @module
 */
import { join } from "node:path";
import { existsSync } from "node:fs";
import type { BackendName, EngineName } from "@perceptual/lpips";

/** Where the notebooks read BAPPS from. */
export interface DataRoot {
  /** The folder that holds `2afc/` and `jnd/`. */
  root: string;
  /** True when this is the small BAPPS-format fixture, not the real dataset. */
  fixture: boolean;
  /** One line saying which data this is, for the notebook's first output. */
  message: string;
}

/**
 * `BAPPS_ROOT` when set (the real dataset, from `deno task lpips download`), otherwise the
 * fixture `$LPIPS_TEST_DATA/bapps-mini` (default `../shared` from the project root).
 */
export function dataRoot(): DataRoot {
  const bapps = Deno.env.get("BAPPS_ROOT");
  if (bapps) {
    if (!existsSync(join(bapps, "2afc"))) {
      throw new Error(
        `BAPPS_ROOT=${bapps} has no 2afc/ folder (download it with ` +
          "`deno task lpips download --root DIR`)",
      );
    }
    return { root: bapps, fixture: false, message: `Data: the BAPPS dataset at ${bapps}.` };
  }
  const root = join(testDataDir(), "bapps-mini");
  if (!existsSync(join(root, "2afc"))) {
    throw new Error(
      `no data: set BAPPS_ROOT to the BAPPS dataset, or LPIPS_TEST_DATA to a folder with bapps-mini/ (looked in ${root})`,
    );
  }
  return {
    root,
    fixture: true,
    message: `Data: BAPPS_ROOT is not set, so this runs on the small synthetic BAPPS-format ` +
      `fixture at ${root}. Its numbers check the pipeline; they are not the paper's.`,
  };
}

/** `LPIPS_TEST_DATA`, or `../shared` beside the project root. */
export function testDataDir(): string {
  return Deno.env.get("LPIPS_TEST_DATA") ?? join(projectRoot(), "..", "shared");
}

/** The project root: the notebooks run with `notebooks/` as their working directory. */
function projectRoot(): string {
  const cwd = Deno.cwd();
  return existsSync(join(cwd, "deno.json")) ? cwd : join(cwd, "..");
}

/**
 * Quick mode: small sizes and few repetitions, so that CI runs every notebook in minutes.
 * `NB_QUICK=1` turns it on and `NB_QUICK=0` off; unset, it is on exactly when `BAPPS_ROOT` is unset
 * (the fixture run).
 */
export function quickMode(): boolean {
  const v = Deno.env.get("NB_QUICK");
  if (v !== undefined && v !== "") return v !== "0";
  return !Deno.env.get("BAPPS_ROOT");
}

/** `LPIPS_BACKEND` (default wasm) and `LPIPS_ENGINE` (default auto). */
export function runtimeChoice(): { backend: BackendName; engine: EngineName } {
  const backend = (Deno.env.get("LPIPS_BACKEND") ?? "wasm") as BackendName;
  const engine = (Deno.env.get("LPIPS_ENGINE") ?? "auto") as EngineName;
  return { backend, engine };
}
