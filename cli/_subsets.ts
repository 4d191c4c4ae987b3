/**
 * The BAPPS subsets a dataset root holds, for `eval` and `train` without `--datasets` on a root
 * that lacks some of the default ones.
 *
 * @module
 */
import { join } from "node:path";
import { UsageError } from "./args.ts";

/** The `split/name` folders (`val/traditional`, ...) under `root/mode`, sorted. */
export async function subsetsIn(root: string, mode: string): Promise<string[]> {
  const found: string[] = [];
  const folders = async (dir: string) => {
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(dir)) if (e.isDirectory) names.push(e.name);
    } catch {
      // a missing or unreadable folder holds no subsets
    }
    return names.sort();
  };
  for (const split of await folders(join(root, mode))) {
    for (const name of await folders(join(root, mode, split))) found.push(`${split}/${name}`);
  }
  return found;
}

/**
 * Without `--datasets`, `eval` and `train` use their default subsets: each must exist. When some do not
 * (and `root/mode` exists, else the loader says so), the error lists what the root holds and
 * the `--datasets` to score it.
 */
export async function checkDefaultSubsets(
  root: string,
  mode: string,
  defaults: readonly string[],
): Promise<void> {
  const found = await subsetsIn(root, mode);
  if (found.length === 0) return;
  const missing = defaults.filter((d) => !found.includes(d));
  if (missing.length === 0) return;
  const usable = defaults.filter((d) => found.includes(d));
  const pick = usable.length ? usable : found;
  throw new UsageError(
    `${join(root, mode)} lacks the default subset${missing.length === 1 ? "" : "s"} ` +
      `${missing.join(" ")}; it holds ${found.join(" ")}: choose with --datasets ` +
      `(e.g. --datasets ${pick.join(" ")})`,
  );
}
