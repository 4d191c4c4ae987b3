/**
 * BAPPS on disk: which files make up the items of a 2AFC or JND subset (docs/algorithm.md §3).
 *
 * `root` is the folder that holds `2afc/` and `jnd/` (the reference's `--dataroot`). A subset such
 * as `val/traditional` is the folder `<root>/<mode>/<subset>` with one sub-folder per role
 * (`ref p0 p1 judge` for 2AFC, `p0 p1 same` for JND). Like the reference, every role folder is
 * walked recursively, image files (the reference's `.jpg .jpeg .png .ppm .bmp`, plus the
 * `.tif .tiff .webp .gif` that `decodeImage` reads too; lower or upper case) and `.npy`
 * judgement files are kept, the FULL path strings are sorted (code-point order, as Python sorts
 * `str`), and item *i* is the *i*-th file of every role. Several subsets listed together are
 * sorted together, as the reference's single concatenated dataset is; each item remembers its
 * subset and `subsets` gives every subset's contiguous range.
 *
 * Stricter than the reference (which silently pairs whatever it finds and uses the number of
 * `p0` files as the length): missing folders, different file counts, and files whose relative
 * paths without extension differ between roles (`ref/000005.png` vs `p0/000006.png`) are
 * errors naming the folder.
 *
 * @module
 */
import { join } from "node:path";

/**
 * The two BAPPS evaluation modes: `2afc` (two-alternative forced choice: which of two distortions
 * is closer to a reference) and `jnd` (just noticeable difference: are two patches the same).
 */
export const BAPPS_MODES = ["2afc", "jnd"] as const;

/** A BAPPS evaluation mode. */
export type BappsMode = typeof BAPPS_MODES[number];

/** One 2AFC triplet: which of `p0`/`p1` humans found closer to `ref`. */
export interface TwoAFCItem {
  /** The subset it belongs to, in its canonical form (e.g. `val/traditional`). */
  subset: string;
  /** Position in the whole list. */
  index: number;
  /** The reference patch's image file. */
  ref: string;
  /** The first distorted patch's image file. */
  p0: string;
  /** The second distorted patch's image file. */
  p1: string;
  /** `.npy` file: fraction of observers who preferred `p1`. */
  judge: string;
}

/** One JND pair: whether humans could tell `p0` from `p1`. */
export interface JNDItem {
  /** The subset it belongs to, in its canonical form (e.g. `val/cnn`). */
  subset: string;
  /** Position in the whole list. */
  index: number;
  /** The first patch's image file. */
  p0: string;
  /** The second patch's image file. */
  p1: string;
  /** `.npy` file: fraction of observers who said "same". */
  same: string;
}

/** Where one subset's items sit in a {@link BappsList}. */
export interface SubsetRange {
  /** The subset, in its canonical form ({@link normalizeSubset}). */
  subset: string;
  /** The subset's folder (`<root>/<mode>/<subset>`). */
  dir: string;
  /** Index of its first item in `items`. */
  start: number;
  /** Its number of items. */
  count: number;
}

/** The items of one or more subsets, in the reference's order. */
export interface BappsList<T> {
  /** `2afc` or `jnd`. */
  mode: BappsMode;
  /** The dataset root, as given. */
  root: string;
  /** Every item of every subset, sorted together by full path as the reference does. */
  items: T[];
  /** Where each subset's items are in `items`, in list order. */
  subsets: SubsetRange[];
}

/** Thrown for a dataset folder that does not have the BAPPS layout; the message names the folder. */
export class BappsLayoutError extends Error {
  /** Always `"BappsLayoutError"`. */
  override name = "BappsLayoutError";
}

/**
 * File extensions taken as images: the reference's (`data/image_folder.py`), then the other
 * formats `decodeImage` reads (a folder of TIFFs is a dataset here, and ignored by the reference).
 */
export const IMAGE_EXTENSIONS: readonly string[] = [
  ".jpg",
  ".JPG",
  ".jpeg",
  ".JPEG",
  ".png",
  ".PNG",
  ".ppm",
  ".PPM",
  ".bmp",
  ".BMP",
  ".tif",
  ".TIF",
  ".tiff",
  ".TIFF",
  ".webp",
  ".WEBP",
  ".gif",
  ".GIF",
];

const ROLES = {
  "2afc": ["ref", "p0", "p1", "judge"],
  jnd: ["p0", "p1", "same"],
} as const;

/**
 * Lists the 2AFC triplets of one or more subsets.
 *
 * @example
 * ```ts
 * import { listTwoAFC } from "@perceptual/lpips/bappsloader";
 * const list = await listTwoAFC("dataset", ["val/traditional", "val/cnn"]);
 * console.log(list.items.length, list.subsets.map((s) => [s.subset, s.count]));
 * ```
 */
export async function listTwoAFC(
  root: string,
  subsets: string | readonly string[],
): Promise<BappsList<TwoAFCItem>> {
  const { items, ranges } = await listItems(root, "2afc", subsets);
  return {
    mode: "2afc",
    root,
    subsets: ranges,
    items: items.map(([subset, [ref, p0, p1, judge]], index) => ({
      subset,
      index,
      ref,
      p0,
      p1,
      judge,
    })),
  };
}

/**
 * Lists the JND pairs of one or more subsets.
 *
 * @example
 * ```ts
 * import { listJND } from "@perceptual/lpips/bappsloader";
 * const list = await listJND("dataset", "val/cnn");
 * console.log(list.items[0].p0, list.items[0].same);
 * ```
 */
export async function listJND(
  root: string,
  subsets: string | readonly string[],
): Promise<BappsList<JNDItem>> {
  const { items, ranges } = await listItems(root, "jnd", subsets);
  return {
    mode: "jnd",
    root,
    subsets: ranges,
    items: items.map(([subset, [p0, p1, same]], index) => ({ subset, index, p0, p1, same })),
  };
}

/** Compares strings by Unicode code point, as Python compares `str` (JS `<` uses UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (0xD800-0xDFFF) encode code points above 0xFFFF: they sort after the rest of
    // the BMP (0xE000-0xFFFF) in code-point order.
    const xs = x >= 0xd800 && x <= 0xdfff, ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

// ---------------------------------------------------------------------------------------------

/** "; p1/000001.* missing (ref/000001.png, ... found)": the first item a folder lacks. */
function unmatched(roles: readonly string[], stems: Map<string, string>[]): string {
  const all = [...new Set(stems.flatMap((m) => [...m.keys()]))].sort(compareCodePoints);
  for (const stem of all) {
    const missing = roles.filter((_, r) => !stems[r].has(stem));
    if (missing.length === 0) continue;
    const found = roles.flatMap((role, r) => {
      const rel = stems[r].get(stem);
      return rel === undefined ? [] : [`${role}/${rel}`];
    });
    const lacking = missing.map((role) => `${role}/${stem}.*`).join(", ");
    return `; ${lacking} missing (${found.join(", ")} found)`;
  }
  return "";
}

async function listItems(
  root: string,
  mode: BappsMode,
  subsetsArg: string | readonly string[],
): Promise<{ items: [string, string[]][]; ranges: SubsetRange[] }> {
  const given = typeof subsetsArg === "string" ? [subsetsArg] : [...subsetsArg];
  if (given.length === 0) throw new BappsLayoutError(`${root}: no ${mode} subsets given`);
  const subsets = distinctSubsets(given);
  const modeDir = join(root, mode);
  if (!(await isDir(modeDir))) {
    throw new BappsLayoutError(
      `${modeDir}: no such folder (the root must be the folder that holds 2afc/ and jnd/)`,
    );
  }
  const roles = ROLES[mode];
  // Per role: every file of every subset, tagged with its subset and relative stem.
  const perRole: { path: string; subset: number; rel: string }[][] = roles.map(() => []);
  const ranges: SubsetRange[] = [];
  for (let s = 0; s < subsets.length; s++) {
    const dir = join(modeDir, subsets[s]);
    if (!(await isDir(dir))) {
      throw new BappsLayoutError(`${dir}: no such ${mode} subset folder`);
    }
    const counts: number[] = [];
    const stems: Map<string, string>[] = [];
    for (let r = 0; r < roles.length; r++) {
      const roleDir = join(dir, roles[r]);
      if (!(await isDir(roleDir))) {
        throw new BappsLayoutError(
          `${roleDir}: missing (a ${mode} subset has the folders ${roles.join(", ")})`,
        );
      }
      const judgement = r === roles.length - 1;
      const files = await walk(roleDir, judgement ? isNpy : isImage);
      counts.push(files.length);
      stems.push(new Map());
      for (const path of files) {
        const rel = path.slice(roleDir.length + 1);
        perRole[r].push({ path, subset: s, rel });
        stems[r].set(stemOf(rel), rel);
      }
    }
    if (counts.some((c) => c !== counts[0])) {
      const what = roles.map((r, i) => `${r}/ ${counts[i]}`).join(", ");
      throw new BappsLayoutError(
        `${dir}: the folders hold different numbers of files (${what})${unmatched(roles, stems)}`,
      );
    }
    if (counts[0] === 0) throw new BappsLayoutError(`${dir}: no files in ${roles.join(", ")}`);
    ranges.push({ subset: subsets[s], dir, start: 0, count: counts[0] });
  }
  for (const files of perRole) files.sort((a, b) => compareCodePoints(a.path, b.path));
  const n = perRole[0].length;
  const items: [string, string[]][] = [];
  for (let i = 0; i < n; i++) {
    const first = perRole[0][i];
    for (let r = 1; r < roles.length; r++) {
      const f = perRole[r][i];
      if (f.subset !== first.subset || stemOf(f.rel) !== stemOf(first.rel)) {
        const dir = join(modeDir, subsets[first.subset]);
        const k = i - rangeStart(perRole[0], i);
        throw new BappsLayoutError(
          `${dir}: files do not line up at item ${k}: ${roles[0]}/${first.rel} but ` +
            `${roles[r]}/${f.rel}${f.subset !== first.subset ? ` (in ${subsets[f.subset]})` : ""}`,
        );
      }
    }
    items.push([subsets[first.subset], perRole.map((files) => files[i].path)]);
  }
  // Ranges in list order (subsets are contiguous because none is nested in another).
  for (const range of ranges) {
    range.start = items.findIndex(([s]) => s === range.subset);
  }
  ranges.sort((a, b) => a.start - b.start);
  return { items, ranges };
}

function rangeStart(files: { subset: number }[], i: number): number {
  let j = i;
  while (j > 0 && files[j - 1].subset === files[i].subset) j--;
  return j;
}

/**
 * A subset name in its one canonical form, so that one folder has one name: `\\` read as `/`,
 * empty and `.` segments dropped (`./val//traditional/` is `val/traditional`). A name that is
 * empty or climbs out with `..` is refused.
 *
 * @example
 * ```ts
 * import { normalizeSubset } from "@perceptual/lpips/bappsloader";
 * console.log(normalizeSubset("./val//traditional/")); // val/traditional
 * ```
 */
export function normalizeSubset(name: string): string {
  const parts = name.replace(/\\/g, "/").split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0 || parts.includes("..")) {
    throw new BappsLayoutError(`bad subset name '${name}'`);
  }
  return parts.join("/");
}

/**
 * The subsets' canonical names ({@link normalizeSubset}); refuses a subset given twice under any
 * spelling, and two subsets of which one holds the other, so that no item is scored twice.
 *
 * @example
 * ```ts
 * import { distinctSubsets } from "@perceptual/lpips/bappsloader";
 * console.log(distinctSubsets(["val/cnn/", "./val/traditional"])); // ["val/cnn", "val/traditional"]
 * ```
 */
export function distinctSubsets(subsets: readonly string[]): string[] {
  const norm = subsets.map(normalizeSubset);
  for (let i = 0; i < norm.length; i++) {
    for (let j = 0; j < i; j++) {
      if (norm[i] === norm[j]) {
        const as = subsets[i] === subsets[j] ? "" : ` (as '${subsets[j]}' and '${subsets[i]}')`;
        throw new BappsLayoutError(`subset '${norm[i]}' given twice${as}`);
      }
      const [a, b] = norm[i].length < norm[j].length ? [norm[i], norm[j]] : [norm[j], norm[i]];
      if (b.startsWith(a + "/")) {
        throw new BappsLayoutError(`subsets '${a}' and '${b}' overlap (one holds the other)`);
      }
    }
  }
  return norm;
}

function isImage(name: string): boolean {
  return IMAGE_EXTENSIONS.some((e) => name.endsWith(e));
}

function isNpy(name: string): boolean {
  return name.endsWith(".npy");
}

function stemOf(relPath: string): string {
  const slash = Math.max(relPath.lastIndexOf("/"), relPath.lastIndexOf("\\"));
  const dot = relPath.lastIndexOf(".");
  return dot > slash ? relPath.slice(0, dot) : relPath;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Files below `dir` whose names pass `keep`, like Python's `os.walk` (symbolic links to folders
 * are not followed; links to files count as files).
 */
async function walk(dir: string, keep: (name: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  const pending = [dir];
  while (pending.length > 0) {
    const d = pending.pop()!;
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(d));
    } catch (e) {
      throw new BappsLayoutError(`${d}: cannot list (${(e as Error).message})`);
    }
    for (const e of entries) {
      const path = join(d, e.name);
      let isDirectory = e.isDirectory;
      if (e.isSymlink) {
        try {
          isDirectory = (await Deno.stat(path)).isDirectory;
        } catch {
          isDirectory = false; // a dangling link is listed as a file, as os.walk does
        }
        if (isDirectory) continue; // os.walk(followlinks=False) does not descend into it
      }
      if (isDirectory) pending.push(path);
      else if (keep(e.name)) out.push(path);
    }
  }
  return out;
}
