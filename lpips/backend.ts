/**
 * Selecting and initialising a TF.js backend: `wasm` (default on CPU), `cpu`, `webgpu` (Deno's
 * `navigator.gpu`: a real GPU, or Mesa's lavapipe without one) and `tensorflow` (the native
 * TensorFlow binding, when the user installed `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`).
 * The backend is process-wide, as in TF.js itself.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** The TF.js backends this package can run on. */
export type BackendName = "wasm" | "cpu" | "webgpu" | "tensorflow";

/** All backend names. */
export const BACKEND_NAMES: readonly BackendName[] = ["wasm", "cpu", "webgpu", "tensorflow"];

tf.env().set("PROD", true);

const registered = new Set<BackendName>();

/**
 * Makes `name` the active TF.js backend (process-wide), loading its package on first use.
 * `LPIPS.create` calls it; call it yourself before you create the TF.js tensors you pass to
 * `LPIPS.distanceTensor` (TF.js tensors belong to the backend that was active when they were made).
 *
 * @example
 * ```ts
 * import { useBackend } from "@perceptual/lpips/lpips";
 * await useBackend("wasm");
 * ```
 */
export async function useBackend(name: BackendName = "wasm"): Promise<void> {
  if (!BACKEND_NAMES.includes(name)) {
    throw new RangeError(`unknown backend "${name}" (expected one of ${BACKEND_NAMES.join(", ")})`);
  }
  if (!registered.has(name)) {
    await register(name);
    registered.add(name);
  }
  if (tf.getBackend() !== name && !(await tf.setBackend(name))) {
    throw new Error(`the TF.js "${name}" backend failed to initialise`);
  }
  await tf.ready();
}

async function register(name: BackendName): Promise<void> {
  switch (name) {
    case "cpu":
      await import("@tensorflow/tfjs-backend-cpu");
      return;
    case "wasm": {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      // The .wasm binaries sit beside the package's entry file; Emscripten reads them from disk.
      const entry = import.meta.resolve("@tensorflow/tfjs-backend-wasm");
      wasm.setWasmPaths(decodeURIComponent(new URL(".", entry).pathname));
      return;
    }
    case "webgpu": {
      const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      const adapter = await gpu?.requestAdapter();
      if (!adapter) {
        throw new Error(
          "webgpu: no GPU adapter (on Linux install a Vulkan driver, e.g. Debian's " +
            "mesa-vulkan-drivers and libvulkan1 for a CPU fallback)",
        );
      }
      await import("@tensorflow/tfjs-backend-webgpu");
      return;
    }
    case "tensorflow":
      await registerNative();
      return;
  }
}

/**
 * The npm packages of the native TensorFlow binding, in the order tried: the CUDA build, then the
 * CPU build. Version 4.22.0 matches this package's tfjs-core; it wraps libtensorflow 2.9.1, whose
 * GPU build needs CUDA 11.2 and cuDNN 8.1.
 */
export const NATIVE_PACKAGES: readonly string[] = [
  "@tensorflow/tfjs-node-gpu",
  "@tensorflow/tfjs-node",
];

/** The version of the native binding that matches this package's tfjs-core. */
export const NATIVE_VERSION = "4.22.0";

/** What to run to get the native binding (one line, for the error message). */
export const NATIVE_INSTALL_HINT: string = 'set "nodeModulesDir": "auto" in deno.json, then ' +
  "`deno add npm:@tensorflow/tfjs-node-gpu@4.22.0` (CUDA 11.2 + cuDNN 8.1; or tfjs-node for the " +
  "CPU) and `deno install --allow-scripts=npm:@tensorflow/tfjs-node-gpu@4.22.0` (its install " +
  "script downloads libtensorflow 2.9.1 from storage.googleapis.com), and run with --allow-ffi";

/**
 * The native binding registers itself as "tensorflow" when its package is importable: by its bare
 * name where the running project's import map has it (this repository's source), else, since a
 * module published on JSR cannot see the user's import map, by npm specifier when
 * `deno install --allow-scripts` put it into the project's `node_modules` (the only way its native
 * add-on gets built). Never by a download: without it installed, the error says what to do.
 */
async function registerNative(): Promise<void> {
  const reasons: string[] = [];
  for (const pkg of NATIVE_PACKAGES) {
    try {
      await import(pkg);
    } catch (e) {
      if (!installedInNodeModules(pkg)) {
        reasons.push(`${pkg}: ${firstLine(e)}`);
        continue;
      }
      try {
        await import(`npm:${pkg}@${NATIVE_VERSION}`);
      } catch (e2) {
        reasons.push(`${pkg}: ${firstLine(e2)}`);
        continue;
      }
    }
    if (tf.findBackend("tensorflow")) return;
    reasons.push(`${pkg} loaded but registered no "tensorflow" backend with this tfjs-core`);
  }
  throw new Error(
    'the "tensorflow" backend needs @tensorflow/tfjs-node-gpu (CUDA) or @tensorflow/tfjs-node ' +
      `4.22.0, and neither loaded: ${NATIVE_INSTALL_HINT} (tried: ${reasons.join("; ")})`
        .replaceAll("\n", " "),
  );
}

/** Whether `./node_modules/<pkg>` exists (false where reading it is not permitted). */
function installedInNodeModules(pkg: string): boolean {
  try {
    return Deno.statSync(`${Deno.cwd()}/node_modules/${pkg}/package.json`).isFile;
  } catch {
    return false;
  }
}

function firstLine(e: unknown): string {
  return e instanceof Error ? e.message.split("\n")[0] : String(e);
}
