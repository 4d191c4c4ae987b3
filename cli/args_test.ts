import assert from "node:assert/strict";
import { COMMON_OPTIONS, integer, parse, positionals, UsageError } from "./args.ts";

const opts = { "batch-size": { type: "string" }, out: { type: "string" } } as const;
const fails = (args: string[], message: string) =>
  assert.throws(() => parse(args, opts), (e: Error) => {
    assert.ok(e instanceof UsageError, String(e));
    assert.equal(e.message, message);
    return true;
  });

Deno.test("parse: unknown options name the closest valid one, in one line", () => {
  fails(["a.png", "--jsn"], "unknown option --jsn (did you mean --json?)");
  fails(["--batchsize", "3"], "unknown option --batchsize (did you mean --batch-size?)");
  fails(["--bogus"], "unknown option --bogus (--help lists the options)");
  fails(["-x"], "unknown option -x (--help lists the options)");
  assert.throws(
    () => parse(["--net", "vgg"], {}, COMMON_OPTIONS),
    /^Error: unknown option --net \(--help lists the options\)$/,
  );
});

Deno.test("parse: missing and misplaced values name the option", () => {
  fails(["--out"], "--out needs a value");
  fails(["--net"], "--net needs a value");
  fails(
    ["--version"],
    "--version needs a value (0.1 or 0.0; lpips --version prints the package's)",
  );
  fails(
    ["--out", "--json"],
    '--out needs a value, not the option --json (for a value that starts with "-", write ' +
      "--out=--json)",
  );
  fails(["--json=1"], "--json takes no value (got --json=1)");
  assert.equal(parse(["--out=--json"], opts).values.out, "--json");
  assert.equal(parse(["--out", "-"], opts).values.out, "-");
});

Deno.test("parse: a negative number is a value, for the option's own range check", () => {
  const { values, positionals: p } = parse(["--batch-size", "-3", "a", "-h"], opts);
  assert.equal(values["batch-size"], "-3");
  assert.equal(values.help, true);
  assert.deepEqual(p, ["a"]);
  assert.throws(
    () => integer("batch-size", values["batch-size"], 50, 1),
    /^Error: --batch-size must be a positive integer \(got -3\)$/,
  );
  assert.equal(parse(["--out", "-1/2"], opts).values.out, "-1/2");
  assert.equal(parse(["--out", "-.5"], opts).values.out, "-.5");
});

Deno.test("integer: the message says the range and what was given", () => {
  const msg = (name: string, v: string, min: number) => {
    try {
      integer(name, v, 0, min);
    } catch (e) {
      return (e as Error).message;
    }
    return "accepted";
  };
  assert.equal(msg("bootstrap", "-1", 0), "--bootstrap must be 0 or a positive integer (got -1)");
  assert.equal(msg("workers", "-1", 0), "--workers must be 0 or a positive integer (got -1)");
  assert.equal(msg("batch-size", "0", 1), "--batch-size must be a positive integer (got 0)");
  assert.equal(msg("batch-size", "2.5", 1), "--batch-size must be a positive integer (got 2.5)");
  assert.equal(
    msg("batch-size", "1e12", 1),
    "--batch-size must be a positive integer below 2^31 (got 1e12)",
  );
  assert.equal(msg("seed", "abc", -(2 ** 31)), "--seed must be an integer (got abc)");
  assert.equal(msg("batch-size", "", 1), '--batch-size must be a positive integer (got "")');
  assert.equal(msg("epochs", "-2", 2), "--epochs must be an integer >= 2 (got -2)");
  assert.equal(integer("seed", "-7", 0, -(2 ** 31)), -7);
  assert.equal(integer("seed", undefined, 5, 0), 5);
});

Deno.test("positionals: counts with the right plural", () => {
  const msg = (p: string[], n: number, what: string) => {
    try {
      positionals(p, n, what);
    } catch (e) {
      return (e as Error).message;
    }
    return "accepted";
  };
  assert.equal(msg(["a"], 2, "two files"), "expected two files (got 1 argument)");
  assert.equal(msg([], 2, "two files"), "expected two files (got 0 arguments)");
  assert.equal(msg(["a", "b", "c"], 2, "two files"), "expected two files (got 3 arguments)");
  assert.equal(
    msg(["x"], 0, "the folder goes after --root"),
    "unexpected argument x (the folder goes after --root)",
  );
  assert.equal(msg(["a", "b"], 2, "two files"), "accepted");
});
