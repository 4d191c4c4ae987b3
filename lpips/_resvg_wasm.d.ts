/** resvg's WebAssembly module, compiled but not instantiated. */
declare const resvgWasm: WebAssembly.Module;
export default resvgWasm;
