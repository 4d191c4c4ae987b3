/**
 * BAPPS on disk: image decoding and conversions, the Pillow-exact `Resize(64)`, `.npy` files,
 * the dataset layout and streaming batch loaders.
 *
 * @module
 */
export * from "./image.ts";
export * from "./resize.ts";
export * from "./npy.ts";
export * from "./layout.ts";
export * from "./dataset.ts";
export * from "./download.ts";
