/**
 * The native decoder: `@napi-rs/image` (the Rust `image` crate as a Node-API addon), loaded once
 * per thread (Web Workers included) when Deno lets it load. It needs `--allow-ffi` (Node-API
 * addons) and `--allow-env` (its loader reads `NAPI_RS_*` variables), both checked first so that
 * nothing prompts; without them, or on a platform the package has no binary for, the pure-JS
 * decoders are used (see `image.ts`).
 *
 * @module
 */
import type { Transformer } from "@napi-rs/image";
import { checkSize } from "./_image_header.ts";
import type { RGBImage } from "./image.ts";

/** The native decoder when it loaded, else why not. */
export type NativeDecoder =
  | { ok: true; Transformer: typeof Transformer }
  | { ok: false; reason: string };

/** This thread's native decoder (loaded when this module is first imported). */
export const NATIVE: NativeDecoder = await loadNative();

async function loadNative(): Promise<NativeDecoder> {
  const missing = (["ffi", "env"] as const).filter((name) =>
    Deno.permissions.querySync({ name }).state !== "granted"
  );
  if (missing.length > 0) {
    return { ok: false, reason: `run deno with ${missing.map((m) => `--allow-${m}`).join(" ")}` };
  }
  try {
    const { Transformer } = await import("@napi-rs/image");
    return { ok: true, Transformer };
  } catch (e) {
    const text = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    return { ok: false, reason: `@napi-rs/image did not load (${text})` };
  }
}

/** Samples per pixel of each `JsColorType` (L8, La8, Rgb8, Rgba8, then 16-bit, then float). */
const CHANNELS = [1, 2, 3, 4, 1, 2, 3, 4, 3, 4];

/**
 * Decodes with the addon and reduces its pixels to RGB8: alpha dropped, grey expanded, 16-bit
 * samples to their high byte (palettes are applied by the addon). Float pixels are refused.
 */
export function decodeNative(T: typeof Transformer, bytes: Uint8Array): RGBImage {
  const t = new T(bytes);
  // metadataSync decodes the image (the header size was checked before) and keeps the pixels
  // for rawPixelsSync, so the file is decoded once.
  const { width, height, colorType } = t.metadataSync();
  checkSize(width, height);
  const channels = CHANNELS[colorType];
  if (colorType >= 8 || channels === undefined) {
    throw new Error(`unsupported pixel type (${colorType >= 8 ? "32-bit float" : colorType})`);
  }
  const raw = t.rawPixelsSync();
  const n = width * height;
  const wide = colorType >= 4;
  if (raw.length !== n * channels * (wide ? 2 : 1)) {
    throw new Error(`the decoder gave ${raw.length} bytes for ${width}x${height}`);
  }
  const bytesOf = new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  if (colorType === 2) return { width, height, data: bytesOf };
  // 16-bit samples are in native byte order: read them as such, whatever the platform.
  const samples = wide
    ? (raw.byteOffset % 2 === 0
      ? new Uint16Array(raw.buffer, raw.byteOffset, raw.length / 2)
      : new Uint16Array(bytesOf.slice().buffer))
    : bytesOf;
  const shift = wide ? 8 : 0;
  const out = new Uint8Array(n * 3);
  if (channels >= 3) {
    for (let p = 0, s = 0; p < n; p++, s += channels) {
      out[3 * p] = samples[s] >> shift;
      out[3 * p + 1] = samples[s + 1] >> shift;
      out[3 * p + 2] = samples[s + 2] >> shift;
    }
  } else {
    for (let p = 0, s = 0; p < n; p++, s += channels) {
      out[3 * p] = out[3 * p + 1] = out[3 * p + 2] = samples[s] >> shift;
    }
  }
  return { width, height, data: out };
}
