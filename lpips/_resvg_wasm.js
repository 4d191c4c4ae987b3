// @ts-self-types="./_resvg_wasm.d.ts"
/**
 * resvg's WebAssembly module, compiled but not instantiated (a source-phase import: TypeScript
 * cannot parse it yet, hence this JavaScript file). It needs no permission and no file access.
 *
 * @module
 */
import source resvgWasm from "@resvg/resvg-wasm/index_bg.wasm";

export default resvgWasm;
