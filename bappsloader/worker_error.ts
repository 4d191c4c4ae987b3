/**
 * Errors across a Web Worker boundary: a worker posts an error's name and message, and the
 * thread that receives them rebuilds an error of the same class, so that callers can tell a
 * corrupt image ({@link ImageDecodeError}) or judgement file ({@link NpyError}) from a bug, as
 * they can without workers.
 *
 * @module
 */
import { ImageDecodeError } from "./image.ts";
import { NpyError } from "./npy.ts";

/** An error as a worker posts it. */
export interface PostedError {
  /** The error's class name (`ImageDecodeError`, `RangeError`...). */
  name: string;
  /** Its message. */
  message: string;
}

const CLASSES: Record<string, new (message: string) => Error> = {
  ImageDecodeError,
  NpyError,
  RangeError,
  TypeError,
};

/**
 * What a worker posts for a thrown value.
 *
 * @example
 * ```ts
 * import { postedError } from "./worker_error.ts";
 * console.log(postedError(new RangeError("bad size"))); // { name: "RangeError", message: "bad size" }
 * ```
 */
export function postedError(e: unknown): PostedError {
  const { name, message } = e instanceof Error ? e : new Error(String(e));
  return { name, message };
}

/**
 * The error a worker posted, rebuilt: the loaders' own classes and `RangeError`/`TypeError` as
 * themselves, anything else as an `Error` with the same message.
 *
 * @example
 * ```ts
 * import { ImageDecodeError } from "./image.ts";
 * import { rebuiltError } from "./worker_error.ts";
 * const e = rebuiltError({ name: "ImageDecodeError", message: "a.png: not a PNG" });
 * console.log(e instanceof ImageDecodeError); // true
 * ```
 */
export function rebuiltError({ name, message }: PostedError): Error {
  const Class = Object.hasOwn(CLASSES, name) ? CLASSES[name] : Error;
  return new Class(message);
}
