/**
 * What every command of the command line shares: option parsing, the model options, and the
 * error type for user mistakes (reported as one line, exit status 1).
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { LPIPSOptions } from "../lpips/lpips.ts";
import { ENGINE_NAMES, type EngineName, type Version, VERSIONS } from "../lpips/engine.ts";
import { NET_NAMES, type NetName } from "../lpips/arch.ts";
import { BACKEND_NAMES, type BackendName } from "../lpips/backend.ts";
import { closest } from "./suggest.ts";
import type { MetricInfo, MetricOptions } from "../metrics/contract.ts";
import { findMetrics } from "../metrics/registry.ts";
import { type Colorspace, COLORSPACES } from "../baselines/l2.ts";
import { type OptionSection, PROGRAM } from "./help.ts";

/** A command of the command line (`lpips <command>`). */
export interface Command {
  /** The command and its arguments, for the overview: `compare IMG0 IMG1`. */
  synopsis: string;
  /** One line for the overview. */
  summary: string;
  /** The command's own help text (see `help.ts`). */
  usage: string;
  run(args: string[]): Promise<void>;
}

/** A mistake on the command line or in its inputs: reported as one line, exit status 1. */
export class UsageError extends Error {}

/** How `parse` reads each option: a string value, or a flag. */
export type OptionTypes = Record<string, { type: "string" | "boolean"; short?: string }>;

/** The options of every command: `--json` and `--help` (`-h`). */
export const COMMON_OPTIONS: OptionTypes = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

/** The options of a command that builds a model (and the common ones). */
export const MODEL_OPTIONS: OptionTypes = {
  ...COMMON_OPTIONS,
  net: { type: "string" },
  version: { type: "string" },
  uncalibrated: { type: "boolean" },
  engine: { type: "string" },
  backend: { type: "string" },
  "weights-dir": { type: "string" },
};

export type Values = Record<string, string | boolean | undefined>;

/**
 * Parses a command's arguments (`base`, by default the model options, and `extra`), with
 * one-line errors: an unknown
 * option names the closest valid one (`unknown option --jsn (did you mean --json?)`), a missing
 * value names its option, and a negative number is taken as a value (`--batch-size -3` then gets
 * the option's own range message).
 */
export function parse(
  args: string[],
  extra: OptionTypes = {},
  base: OptionTypes = MODEL_OPTIONS,
): { values: Values; positionals: string[] } {
  const options = { ...base, ...extra };
  const r = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  for (const t of r.tokens) {
    if (t.kind !== "option") continue;
    const spec = options[t.name];
    if (!spec) throw new UsageError(unknownOption(t.rawName, Object.keys(options)));
    if (spec.type === "boolean" && t.value !== undefined) {
      throw new UsageError(`${t.rawName} takes no value (got ${t.rawName}=${t.value})`);
    }
    if (spec.type === "string" && t.value === undefined) {
      const hint = t.name === "version"
        ? ` (0.1 or 0.0; ${PROGRAM} --version prints the package's)`
        : "";
      throw new UsageError(`${t.rawName} needs a value${hint}`);
    }
    const value = t.value ?? "";
    if (
      spec.type === "string" && !t.inlineValue && OPTION_LIKE.test(value) && !NUMBER.test(value)
    ) {
      throw new UsageError(
        `${t.rawName} needs a value, not the option ${value} (for a value that starts ` +
          `with "-", write ${t.rawName}=${value})`,
      );
    }
  }
  return { values: r.values as Values, positionals: r.positionals };
}

/** A value that looks like an option (as Node's parseArgs judges it: "-" and more). */
const OPTION_LIKE = /^-./;
/** ... unless it is a negative number (or K/N): that is a value, for its range check. */
const NUMBER = /^-(\d|\.\d)/;

/**
 * The message for an unknown option, with the closest valid one when there is one.
 *
 * @example
 * ```ts
 * import { unknownOption } from "./args.ts";
 * console.log(unknownOption("--jsn", ["json", "net"])); // unknown option --jsn (did you mean --json?)
 * ```
 */
export function unknownOption(raw: string, names: readonly string[]): string {
  const guess = raw.startsWith("--") ? closest(raw.slice(2), names) : undefined;
  return `unknown option ${raw} (${
    guess ? `did you mean --${guess}?` : "--help lists the options"
  })`;
}

export function oneOf<T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
  def: T,
): T {
  if (value === undefined) return def;
  if (!allowed.includes(value as T)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(", ")} (got "${value}")`);
  }
  return value as T;
}

/**
 * `--name` as a whole number >= `min` (`def` when absent); a one-line UsageError otherwise, e.g.
 * `--batch-size must be a positive integer (got -3)`.
 */
export function integer(name: string, v: unknown, def: number, min: number): number {
  if (v === undefined) return def;
  const s = String(v).trim();
  const n = Number(s);
  if (s === "" || !Number.isInteger(n) || n < min || n > 2 ** 31 - 1) {
    const what = min === 1
      ? "a positive integer"
      : min === 0
      ? "0 or a positive integer"
      : min <= -(2 ** 31)
      ? "an integer"
      : `an integer >= ${min}`;
    const big = Number.isInteger(n) && n > 2 ** 31 - 1 ? ` below 2^31` : "";
    const got = /^\S+$/.test(String(v)) ? String(v) : JSON.stringify(v);
    throw new UsageError(`--${name} must be ${what}${big} (got ${got})`);
  }
  return n;
}

export function modelOptions(v: Values): LPIPSOptions {
  const net = oneOf<NetName | "vgg16">("net", v.net, [...NET_NAMES, "vgg16"], "alex");
  return {
    net,
    // --trunk-path names the VGG16 file DISTS and LPIPS-vgg share: other trunks ignore it.
    trunkPath: net === "vgg" || net === "vgg16" ? v["trunk-path"] as string | undefined : undefined,
    version: oneOf<Version>("version", v.version, VERSIONS, "0.1"),
    lpips: !v.uncalibrated,
    engine: oneOf<EngineName>("engine", v.engine, ENGINE_NAMES, "auto"),
    backend: oneOf<BackendName>("backend", v.backend, BACKEND_NAMES, "wasm"),
    weightsDir: v["weights-dir"] as string | undefined,
  };
}

/**
 * The metrics of `--metric NAME[,NAME...]` (names or aliases, see `lpips metrics`), default
 * `def`; an unknown or empty name is a UsageError naming the valid ones.
 */
export function metricList(v: Values, def = "lpips", option = "metric"): MetricInfo[] {
  const value = v[option];
  if (typeof value === "boolean") throw new UsageError(`--${option} needs a value`);
  try {
    return findMetrics(value ?? def);
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(`--${option}: ${e.message}`);
    throw e;
  }
}

/** `--metric NAME` where one metric at a time is computed (dirs, allpairs). */
export function singleMetric(v: Values): MetricInfo {
  const metrics = metricList(v);
  if (metrics.length > 1) {
    throw new UsageError(`--metric: one metric at a time here (got ${metrics.length})`);
  }
  return metrics[0];
}

/**
 * The options every registered metric reads from the command line: `--colorspace` (l2, ssim),
 * `--ppd` (flip), `--weights-dir` (every metric that loads weights) and the model options (lpips).
 */
export function metricOptions(v: Values): MetricOptions {
  const colorspace = oneOf<Colorspace>("colorspace", v.colorspace, COLORSPACES, "Lab");
  let ppd: number | undefined;
  if (v.ppd !== undefined) {
    ppd = Number(v.ppd);
    if (String(v.ppd).trim() === "" || !(ppd >= 0.01 && ppd <= 10000)) {
      throw new UsageError(`--ppd needs a number from 0.01 to 10000 (got ${v.ppd})`);
    }
  }
  return {
    colorspace,
    ppd,
    weightsDir: v["weights-dir"] as string | undefined,
    trunkPath: v["trunk-path"] as string | undefined,
    lpips: modelOptions(v),
  };
}

/** The help of `--metric` and the options of the metrics (`--colorspace`, `--ppd`). */
export const METRIC_HELP: OptionSection = {
  title: "Metric options",
  options: [
    [
      "--metric NAME[,NAME...]",
      "lpips (default), l2, ssim, psnr, msssim, fsim, fsimc, gmsd, flip, dists, or pyiqa's " +
      "spellings " +
      "(ms_ssim, ...); `lpips metrics` lists them with their direction and range",
    ],
    ["--colorspace Lab|RGB", "colour space of l2 and ssim (default Lab, the reference's)"],
    ["--ppd N", "flip: pixels per degree (default 67.02, FLIP's viewing conditions)"],
    [
      "--trunk-path FILE",
      "dists, lpips --net vgg: an explicit VGG16 file (default vgg16-397923af.pth, resolved " +
      "as the other weights)",
    ],
  ],
};

/**
 * Exactly `n` positional arguments, else a one-line UsageError: `expected WHAT (got 1 argument)`,
 * or for `n = 0` `unexpected argument X (WHAT)`.
 */
export function positionals(p: string[], n: number, what: string): string[] {
  if (n === 0 && p.length > 0) throw new UsageError(`unexpected argument ${p[0]} (${what})`);
  if (p.length !== n) {
    throw new UsageError(`expected ${what} (got ${p.length} argument${p.length === 1 ? "" : "s"})`);
  }
  return p;
}

/** The model options' help, shared by every command that builds a model. */
export const MODEL_HELP: OptionSection = {
  title: "Model options",
  options: [
    ["--net alex|squeeze|vgg", "trunk (default alex)"],
    ["--version 0.1|0.0", "LPIPS version (default 0.1)"],
    [
      "--uncalibrated",
      "the uncalibrated baseline (sum over channels; the reference's lpips=False)",
    ],
    ["--engine auto|onnx|tfjs", "engine (default auto: onnx when it loads, else tfjs)"],
    ["--backend wasm|cpu|webgpu|tensorflow", "TF.js backend (default wasm)"],
    [
      "--weights-dir DIR",
      "folder with the weight files under their official names (default $LPIPS_WEIGHTS_DIR, " +
      "then ~/.cache/lpips, then download)",
    ],
  ],
};
