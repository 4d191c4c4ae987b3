/**
 * The Deno Jupyter kernel's display protocol: an object with a `Symbol.for("Jupyter.display")`
 * method returning a MIME bundle (`{ "text/plain": ..., "image/png": base64, ... }`) is shown
 * with its richest type when it is a cell's last expression, or at once with {@link show}.
 *
 * @module
 */

/** The key the Deno kernel looks for: `Symbol.for("Jupyter.display")`. */
export const JUPYTER_DISPLAY: unique symbol = Symbol.for("Jupyter.display");

/**
 * A MIME bundle: MIME type -> content (text for `text/*`, base64 for `image/png`, JSON for
 * `application/*+json`). The front end shows the richest type it can render.
 */
export type MimeBundle = Record<string, unknown>;

/** Something the Deno kernel displays: it returns its MIME bundle when asked. */
export interface Displayable {
  /** The MIME bundle to show; it always has `text/plain`. */
  [JUPYTER_DISPLAY](): MimeBundle;
}

/**
 * Wraps a MIME bundle as a {@link Displayable}: a cell ending in it shows the bundle;
 * `console.log` and `Deno.inspect` print its `text/plain` (not the base64 of its pictures).
 *
 * @example
 * ```ts
 * import { display } from "@perceptual/lpips/notebook";
 * display({ "text/markdown": "**LPIPS** 0.72", "text/plain": "LPIPS 0.72" });
 * ```
 */
export function display(bundle: MimeBundle): Displayable {
  if (typeof bundle !== "object" || bundle === null || Array.isArray(bundle)) {
    throw new TypeError("display: the MIME bundle must be an object of MIME type -> content");
  }
  if (typeof bundle["text/plain"] !== "string") {
    throw new TypeError('display: the MIME bundle needs a "text/plain" string (the fallback)');
  }
  return {
    [JUPYTER_DISPLAY]: () => bundle,
    [Symbol.for("Deno.customInspect")]: () => bundle["text/plain"] as string,
  } as Displayable;
}

/** `Deno.jupyter`, or `undefined` outside the kernel (where reading it throws). */
function kernel(): { display(obj: unknown, opts?: { raw?: boolean }): Promise<void> } | undefined {
  try {
    return (Deno as unknown as { jupyter?: ReturnType<typeof kernel> }).jupyter;
  } catch {
    return undefined;
  }
}

/**
 * Shows displayables now, in order (a cell shows only its last expression by itself), e.g.
 * several figures or results from one loop. Outside a Jupyter kernel it prints their
 * `text/plain` form, so the same code runs in `deno run`.
 *
 * @example
 * ```ts
 * import { show, table } from "@perceptual/lpips/notebook";
 * await show(table(["pair", "LPIPS"], [["ref vs p0", 0.7219]]));
 * ```
 */
export async function show(...items: Displayable[]): Promise<void> {
  const jupyter = kernel();
  items.forEach((item, i) => {
    if (typeof item?.[JUPYTER_DISPLAY] !== "function") {
      throw new TypeError(`show: item ${i + 1} is not displayable (no Jupyter.display method)`);
    }
  });
  for (const item of items) {
    const bundle = item[JUPYTER_DISPLAY]();
    if (jupyter) await jupyter.display(bundle, { raw: true });
    else console.log(bundle["text/plain"]);
  }
}
