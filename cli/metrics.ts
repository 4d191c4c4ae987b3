/**
 * `metrics`: the registered metrics with their direction, range, input and citation, as
 * `pyiqa -ls` lists its own.
 *
 * @module
 */
import { type Command, COMMON_OPTIONS, parse, positionals } from "./args.ts";
import { helpText } from "./help.ts";
import { METRICS } from "../metrics/registry.ts";
import type { MetricInfo } from "../metrics/contract.ts";

const bound = (v: number) => (Number.isFinite(v) ? String(v) : v > 0 ? "inf" : "-inf");
const range = (m: MetricInfo) => `[${bound(m.range[0])}, ${bound(m.range[1])}]`;

/** `metrics`: list the metrics `--metric` and `eval --model` accept. */
export const metricsCommand: Command = {
  synopsis: "metrics",
  summary: "the metrics: direction, range, input, citation",
  usage: helpText({
    usage: "metrics [--json]",
    about: [
      "Lists every metric that compare, dirs and allpairs (--metric) and eval (--model) accept: " +
      "its name and other spellings, whether lower is better, the range of its score, what it " +
      "is computed on, whether it has a map (--spatial), the distance 2AFC and JND rank by, and " +
      "its citation.",
    ],
    options: [
      [
        "--json",
        "print a JSON array of {name, aliases, title, lower_is_better, range (null for " +
        "infinite), input, map, min_size, distance, citation}",
      ],
    ],
  }),
  run(args) {
    const { values, positionals: p } = parse(args, {}, COMMON_OPTIONS);
    if (values.help) return Promise.resolve(console.log(this.usage));
    positionals(p, 0, "metrics takes no arguments");
    if (values.json) {
      const finite = (v: number) => (Number.isFinite(v) ? v : null);
      console.log(JSON.stringify(METRICS.map((m) => ({
        name: m.name,
        aliases: m.aliases,
        title: m.title,
        lower_is_better: m.lowerIsBetter,
        range: [finite(m.range[0]), finite(m.range[1])],
        input: m.input,
        map: m.hasMap,
        min_size: m.minSize,
        distance: m.distanceRule,
        citation: m.citation,
      }))));
      return Promise.resolve();
    }
    const rows = [
      ["name", "better", "range", "input", "map", "aliases", "distance", "citation"],
      ...METRICS.map((m) => [
        m.name,
        m.lowerIsBetter ? "lower" : "higher",
        range(m),
        m.input,
        m.hasMap ? "yes" : "no",
        m.aliases.join(",") || "-",
        m.distanceRule,
        m.citation,
      ]),
    ];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    for (const r of rows) {
      console.log(r.map((v, c) => c === r.length - 1 ? v : v.padEnd(widths[c])).join("  "));
    }
    return Promise.resolve();
  },
};
