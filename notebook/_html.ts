/**
 * HTML pieces of the notebook displays.
 *
 * @module
 */

/** Text as HTML content or attribute value. */
export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** An `<img>` of a base64 PNG (a data URI: no file, no script). */
export function pngImg(base64: string, alt: string, width?: number): string {
  const size = width === undefined ? "" : ` width="${width}"`;
  return `<img src="data:image/png;base64,${base64}" alt="${esc(alt)}"${size}>`;
}
