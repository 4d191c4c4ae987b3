/**
 * `demo`: the README's example, which patch is closer to the reference (the reference's
 * `test_network.py`).
 *
 * @module
 */
import { join } from "node:path";
import { LPIPS } from "../lpips/lpips.ts";
import { resolveFile } from "../lpips/weights.ts";
import { EXAMPLE_IMAGES, officialFile } from "../lpips/weight_files.ts";
import { type Command, MODEL_HELP, modelOptions, parse } from "./args.ts";
import { helpText } from "./help.ts";
import { loadImage } from "../bappsloader/image.ts";

import { fmt } from "./_images.ts";

/** `demo`: the README's example, which of ex_p0 and ex_p1 is closer to ex_ref. */
export const demo: Command = {
  synopsis: "demo",
  summary: "which example patch is closer to the reference?",
  usage: helpText({
    usage: "demo [options]",
    about: [
      "Which of ex_p0.png and ex_p1.png is closer to ex_ref.png (the reference's " +
      "test_network.py). Downloads the example images on first use (offline: " +
      "$LPIPS_IMAGES_DIR, or $LPIPS_TEST_DATA/images).",
    ],
    sections: [MODEL_HELP],
  }),
  async run(args) {
    const { values } = parse(args);
    if (values.help) return console.log(this.usage);
    const testData = Deno.env.get("LPIPS_TEST_DATA");
    const imagesDir = Deno.env.get("LPIPS_IMAGES_DIR") ??
      (testData ? join(testData, "images") : undefined);
    const [ref, p0, p1] = await Promise.all(
      EXAMPLE_IMAGES.map(async (n) =>
        await loadImage(await resolveFile(officialFile(n), { imagesDir }))
      ),
    );
    const m = await LPIPS.create(modelOptions(values));
    try {
      const [d0] = await m.distance(ref, p0);
      const [d1] = await m.distance(ref, p1);
      console.log(`LPIPS (${m.net}, v${m.version}${m.lpips ? "" : ", uncalibrated"}):`);
      console.log(`  d(ex_ref, ex_p0) = ${fmt(d0)}`);
      console.log(`  d(ex_ref, ex_p1) = ${fmt(d1)}`);
      console.log(`ex_${d0 < d1 ? "p0" : "p1"} is closer to the reference.`);
    } finally {
      m.dispose();
    }
  },
};
