/**
 * The `download` command: `deno task lpips download --root DIR [--val-only]`, the reference's
 * `scripts/download_dataset.sh` and `download_dataset_valonly.sh`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { Command } from "./args.ts";
import { UsageError } from "./args.ts";
import { BAPPS_BASE_URL, downloadBapps } from "../bappsloader/download.ts";

/**
 * `download --root DIR [--val-only]`: downloads and installs BAPPS under DIR.
 *
 * @example
 * ```ts ignore
 * import { download } from "./download.ts";
 * await download.run(["--root", "dataset", "--val-only"]);
 * ```
 */
export const download: Command = {
  summary: "download --root DIR  download the BAPPS dataset (6.6 GB; --val-only 1.3 GB)",
  usage: `Usage: deno task lpips download --root DIR [--val-only] [--quiet]

  --root DIR    folder that will hold 2afc/ and jnd/ (the reference's ./dataset)
  --val-only    only jnd.tar.gz and twoafc_val.tar.gz (1.3 GB), as download_dataset_valonly.sh
  --quiet       no progress output

Downloads ${BAPPS_BASE_URL}/{jnd,twoafc_val,twoafc_train}.tar.gz
(BAPPS_URL=<base URL> for a mirror), with a progress bar, and unpacks them into DIR/jnd/val,
DIR/2afc/val and DIR/2afc/train. An interrupted download is kept in DIR/.download and resumed
by running the same command again; archives already installed are skipped. About twice an
archive's size must be free while it is downloaded and unpacked.`,
  async run(args) {
    let values: { root?: string; "val-only"?: boolean; quiet?: boolean; help?: boolean };
    try {
      ({ values } = parseArgs({
        args,
        options: {
          root: { type: "string" },
          "val-only": { type: "boolean" },
          quiet: { type: "boolean" },
          help: { type: "boolean", short: "h" },
        },
        allowPositionals: false,
      }));
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    }
    if (values.help) return console.log(this.usage);
    if (!values.root) {
      throw new UsageError("--root DIR is required (the folder for 2afc/ and jnd/)");
    }
    const results = await downloadBapps(values.root, {
      valOnly: values["val-only"],
      quiet: values.quiet,
    });
    for (const r of results) console.log(`${r.archive}: ${r.status} (${r.dir})`);
  },
};
