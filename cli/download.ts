/**
 * The `download` command: `lpips download --root DIR [--val-only]`, the reference's
 * `scripts/download_dataset.sh` and `download_dataset_valonly.sh`.
 *
 * @module
 */
import { type Command, COMMON_OPTIONS, parse, positionals, UsageError } from "./args.ts";
import { helpText } from "./help.ts";
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
  synopsis: "download --root DIR",
  summary: "download BAPPS (6.6 GB; --val-only: 1.3 GB)",
  usage: helpText({
    usage: "download --root DIR [--val-only] [--quiet]",
    about: [
      "Downloads jnd.tar.gz, twoafc_val.tar.gz and twoafc_train.tar.gz from " +
      `${BAPPS_BASE_URL}/ (BAPPS_URL=<base URL> for a mirror), with a progress bar, and ` +
      "unpacks them into " +
      "DIR/jnd/val, DIR/2afc/val and DIR/2afc/train. An interrupted download is kept in " +
      "DIR/.download and resumed by running the same command again; archives already " +
      "installed are skipped. About twice an archive's size must be free while it is " +
      "downloaded and unpacked.",
    ],
    options: [
      ["--root DIR", "folder that will hold 2afc/ and jnd/ (the reference's ./dataset)"],
      [
        "--val-only",
        "only jnd.tar.gz and twoafc_val.tar.gz (1.3 GB), as download_dataset_valonly.sh",
      ],
      ["--quiet", "no progress output"],
    ],
  }),
  async run(args) {
    const { values, positionals: p } = parse(args, {
      root: { type: "string" },
      "val-only": { type: "boolean" },
      quiet: { type: "boolean" },
    }, { help: COMMON_OPTIONS.help });
    if (values.help) return console.log(this.usage);
    positionals(p, 0, "the folder goes after --root");
    if (!values.root) {
      throw new UsageError("--root DIR is required (the folder for 2afc/ and jnd/)");
    }
    const results = await downloadBapps(values.root as string, {
      valOnly: !!values["val-only"],
      quiet: !!values.quiet,
    });
    for (const r of results) console.log(`${r.archive}: ${r.status} (${r.dir})`);
  },
};
