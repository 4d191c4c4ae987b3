/**
 * An image tensor shown as a picture in a notebook (`image/png`, no JavaScript needed).
 *
 * @module
 */
import { basename } from "node:path";
import { type ImageFile, type ImageTensor, isImageFile, loadImage } from "../bappsloader/image.ts";
import { fileLabel } from "./_model.ts";
import { display, type Displayable } from "./display.ts";
import { pngBase64, resizeRgb, rgbOf, screenSize } from "./_raster.ts";
import { CAPTION_PX, fitPath, layoutFigure, MIN_COLUMN, svgToPng } from "../lpips/figure.ts";

/** Options of {@link picture}. */
export interface PictureOptions {
  /** Which image of the batch (default 0). */
  index?: number;
  /** Longer side on screen in pixels (default 256): larger images shrink, smaller ones grow by a whole factor. */
  size?: number;
  /** A label: written under the picture, with its size in pixels, and in the text form (default
   * for a file: its file name). */
  name?: string;
}

/**
 * One image of an NCHW batch in [-1, 1] (as `loadImage` returns it) as a PNG picture; with a
 * `name`, the name and the image's size in pixels are written under it, in the PNG.
 *
 * @example
 * ```ts
 * import { loadImage } from "@perceptual/lpips";
 * import { picture } from "@perceptual/lpips/notebook";
 * picture(await loadImage("ex_ref.png"), { name: "reference" });
 * await picture("ex_p0.png"); // a file (path or file: URL): read with loadImage, a promise
 * ```
 */
export function picture(img: ImageTensor, options?: PictureOptions): Displayable;
/** {@link picture} of an image file (a path or `file:` URL), once it is read with `loadImage`. */
export function picture(img: ImageFile, options?: PictureOptions): Promise<Displayable>;
export function picture(
  img: ImageTensor | ImageFile,
  options: PictureOptions = {},
): Displayable | Promise<Displayable> {
  if (!isImageFile(img)) return pictureOf(img, options);
  const name = options.name ?? basename(fileLabel(img));
  return loadImage(img).then((t) => pictureOf(t, { ...options, name }));
}

function pictureOf(img: ImageTensor, options: PictureOptions): Displayable {
  const size = options.size ?? 256;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`picture: size must be a whole number of pixels >= 1, got ${size}`);
  }
  let rgb;
  try {
    rgb = rgbOf(img, options.index ?? 0);
  } catch (e) {
    throw new (e instanceof TypeError ? TypeError : RangeError)(
      `picture: ${(e as Error).message.replace(/^tensor2im: /, "")}`,
    );
  }
  const [w2, h2] = screenSize(rgb.width, rgb.height, size);
  const shown = resizeRgb(rgb, w2, h2);
  const { name } = options;
  const label = name === undefined ? "" : ` ${name}`;
  const png = name === undefined ? pngBase64(shown) : svgToPng(
    layoutFigure({
      title: "",
      rows: [{
        cells: [{
          image: shown,
          caption: [
            fitPath(name, Math.max(w2, MIN_COLUMN), CAPTION_PX),
            `${rgb.width}x${rgb.height} px`,
          ],
        }],
      }],
    }).svg,
  ).toBase64();
  return display({
    "image/png": png,
    "text/plain": `[image${label}, ${rgb.width}x${rgb.height}]`,
  });
}
