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

/** A command of `deno task lpips`. */
export interface Command {
  /** One line for the overview. */
  summary: string;
  /** The command's own help text. */
  usage: string;
  run(args: string[]): Promise<void>;
}

/** A mistake on the command line or in its inputs: reported as one line, exit status 1. */
export class UsageError extends Error {}

export const MODEL_OPTIONS = {
  net: { type: "string" },
  version: { type: "string" },
  uncalibrated: { type: "boolean" },
  engine: { type: "string" },
  backend: { type: "string" },
  "weights-dir": { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export type Values = Record<string, string | boolean | undefined>;

export function parse(
  args: string[],
  extra: Record<string, { type: "string" | "boolean" }> = {},
): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({ args, options: { ...MODEL_OPTIONS, ...extra }, allowPositionals: true });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
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

/** `--name` as a whole number >= `min` (`def` when absent); a one-line UsageError otherwise. */
export function integer(name: string, v: unknown, def: number, min: number): number {
  if (v === undefined) return def;
  const s = String(v).trim();
  const n = Number(s);
  if (s === "" || !Number.isInteger(n) || n < min || n > 2 ** 31 - 1) {
    throw new UsageError(`--${name} must be an integer >= ${min} (got "${v}")`);
  }
  return n;
}

export function modelOptions(v: Values): LPIPSOptions {
  return {
    net: oneOf<NetName | "vgg16">("net", v.net, [...NET_NAMES, "vgg16"], "alex"),
    version: oneOf<Version>("version", v.version, VERSIONS, "0.1"),
    lpips: !v.uncalibrated,
    engine: oneOf<EngineName>("engine", v.engine, ENGINE_NAMES, "auto"),
    backend: oneOf<BackendName>("backend", v.backend, BACKEND_NAMES, "wasm"),
    weightsDir: v["weights-dir"] as string | undefined,
  };
}

export function positionals(p: string[], n: number, what: string): string[] {
  if (p.length !== n) throw new UsageError(`expected ${what} (got ${p.length} arguments)`);
  return p;
}

/** The model options' help text, shared by every command that builds a model. */
export const MODEL_USAGE = `Model options:
  --net alex|squeeze|vgg   trunk (default alex)
  --version 0.1|0.0        LPIPS version (default 0.1)
  --uncalibrated           the uncalibrated baseline (sum over channels; reference lpips=False)
  --engine auto|onnx|tfjs  engine (default auto: onnx when it loads, else tfjs)
  --backend wasm|cpu|webgpu|tensorflow   TF.js backend (default wasm)
  --weights-dir DIR        folder with the weight files under their official names
                           (default $LPIPS_WEIGHTS_DIR, then ~/.cache/lpips, then download)`;
