/**
 * The one line that says `engine: "auto"` fell back to TF.js because `--allow-ffi` was not
 * granted, so that the slow path is never a silent one: printed once per process on stderr, and
 * only in that case (an explicit `engine: "tfjs"` prints nothing).
 *
 * @module
 */
import type { BackendName } from "./backend.ts";

/**
 * The notice for a fallback onto `backend`. The factor is the README's measurement for wasm (one
 * thread in Deno) against ONNX Runtime on the CPU; no factor is claimed for other backends.
 *
 * @example
 * ```ts
 * import { autoFallbackNotice } from "./_engine_notice.ts";
 * console.log(autoFallbackNotice("wasm"));
 * // lpips: engine auto -> tfjs (wasm, 1 thread): run with --allow-ffi for ONNX Runtime (about 10x faster)
 * ```
 */
export function autoFallbackNotice(backend: BackendName): string {
  return backend === "wasm"
    ? "lpips: engine auto -> tfjs (wasm, 1 thread): run with --allow-ffi for ONNX Runtime " +
      "(about 10x faster)"
    : `lpips: engine auto -> tfjs (${backend}): run with --allow-ffi for ONNX Runtime`;
}

let noticed = false;

/**
 * Prints {@link autoFallbackNotice} on stderr, the first time only in this process.
 *
 * @example
 * ```ts ignore
 * import { noteAutoFallback } from "./_engine_notice.ts";
 * noteAutoFallback("wasm"); // prints the line
 * noteAutoFallback("wasm"); // prints nothing
 * ```
 */
export function noteAutoFallback(backend: BackendName): void {
  if (noticed) return;
  noticed = true;
  console.error(autoFallbackNotice(backend));
}
