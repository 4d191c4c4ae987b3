/**
 * "Did you mean ...?": the closest valid name to a mistyped option or command.
 *
 * @module
 */

/**
 * The optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbouring characters each cost 1 (so `comapre` is 1 from `compare`, `jsn` 1 from `json`).
 *
 * @example
 * ```ts
 * import { editDistance } from "./suggest.ts";
 * console.log(editDistance("jsn", "json")); // 1
 * console.log(editDistance("comapre", "compare")); // 1
 * ```
 */
export function editDistance(a: string, b: string): number {
  // d[i][j]: distance between a[0, i) and b[0, j); three rows suffice for the swap rule.
  let before = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, before[j - 2] + 1);
      }
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length];
}

/**
 * The candidate a mistyped `name` most likely meant: the nearest by {@link editDistance} when it
 * is within a third of the name's length (at least 1, at most 3), else the only candidate that
 * starts with `name`; `undefined` when nothing is close. Ties go to the earlier candidate.
 *
 * @example
 * ```ts
 * import { closest } from "./suggest.ts";
 * console.log(closest("jsn", ["json", "net", "out"])); // json
 * console.log(closest("all", ["all-pairs", "json"])); // all-pairs
 * console.log(closest("bogus", ["json", "net"])); // undefined
 * ```
 */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(name.length / 3)));
  let best: string | undefined, bestDistance = limit + 1;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  if (best !== undefined) return best;
  const prefixed = candidates.filter((c) => name.length > 0 && c.startsWith(name));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}
