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
 * Makes `name` the active TF.js backend, loading its package on first use.
 *
 * @example
 * ```ts
 * import { useBackend } from "./backend.ts";
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

/** The native binding registers itself as "tensorflow" when its package is importable. */
async function registerNative(): Promise<void> {
  const candidates = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"];
  const reasons: string[] = [];
  for (const pkg of candidates) {
    try {
      await import(pkg);
      if (tf.findBackend("tensorflow")) return;
      reasons.push(`${pkg} loaded but registered no "tensorflow" backend with this tfjs-core`);
    } catch (e) {
      reasons.push(`${pkg}: ${e instanceof Error ? e.message.split("\n")[0] : e}`);
    }
  }
  throw new Error(
    'the "tensorflow" backend needs @tensorflow/tfjs-node-gpu (CUDA) or @tensorflow/tfjs-node ' +
      '4.22.0: add it to the "imports" of your deno.json and run with --allow-ffi and ' +
      `--allow-scripts for it (its install script fetches libtensorflow); tried: ${
        reasons.join("; ")
      }`,
  );
}
