/**
 * The one line a failed command prints: the error's first line, or, for a permission Deno did
 * not grant, the flag to run with (never Deno's stack trace).
 *
 * @module
 */

/** The permissions the command line uses, as `deno task lpips` grants them. */
const FLAGS = ["read", "write", "env", "net", "sys", "ffi"] as const;

/**
 * The message of a failed command, one line. A missing permission (`Deno.errors.NotCapable`, or
 * `PermissionDenied` with Deno's "Requires ... access" text) becomes
 * `needs env access to "LPIPS_WEIGHTS_DIR": run with --allow-env`, and names the other flags of
 * the command line that are not granted either.
 *
 * @example
 * ```ts
 * import { errorLine } from "./error_line.ts";
 * console.log(errorLine(new Error("a.png: cannot read\n(details)"))); // a.png: cannot read
 * ```
 */
export function errorLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const denied = /Requires (\w+) access to (.+?), run again with the (--allow-\w+) flag/.exec(
    message,
  );
  const permission = e instanceof Deno.errors.NotCapable ||
    e instanceof Deno.errors.PermissionDenied;
  if (!permission || !denied) return message.split("\n")[0];
  const [, kind, what, flag] = denied;
  const others = missingFlags().filter((f) => f !== flag);
  const also = others.length ? `; also not granted: ${others.join(" ")} (or use -A)` : "";
  return `needs ${kind} access to ${what}: run with ${flag}${also}`;
}

/** The command line's `--allow-*` flags that this process was not granted. */
export function missingFlags(): string[] {
  return FLAGS.filter((name) => Deno.permissions.querySync({ name }).state !== "granted")
    .map((name) => `--allow-${name}`);
}

/** `LPIPS_DEBUG` is set (and may be read: without `--allow-env` this is false, never a throw). */
export function debugging(): boolean {
  const env = Deno.permissions.querySync({ name: "env", variable: "LPIPS_DEBUG" });
  return env.state === "granted" && !!Deno.env.get("LPIPS_DEBUG");
}
