/**
 * BAPPS on disk: image decoding and conversions (more loaders arrive with the BAPPS issue).
 *
 * @module
 */
export * from "./image.ts";
