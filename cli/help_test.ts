import assert from "node:assert/strict";
import { COMMANDS, overview } from "./commands.ts";
import { HELP_COLUMN, HELP_WIDTH, helpText, optionRows, PROGRAM, wrap } from "./help.ts";

const helps = (): [string, string][] => [
  ["overview", overview("9.9.9")],
  ...Object.entries(COMMANDS).map(([name, c]) => [name, c.usage] as [string, string]),
];

Deno.test("every help text fits 80 columns, names the program lpips, never `deno task`", () => {
  for (const [name, text] of helps()) {
    for (const line of text.split("\n")) {
      assert.ok(line.length <= HELP_WIDTH, `${name}: ${line.length} columns: ${line}`);
      assert.equal(line, line.trimEnd(), `${name}: trailing spaces: ${JSON.stringify(line)}`);
    }
    assert.doesNotMatch(text, /deno task|deno run/, name);
    const usage = name === "overview" ? "<command>" : name;
    assert.ok(text.startsWith(`Usage: ${PROGRAM} ${usage} `), `${name}: ${text.split("\n")[0]}`);
  }
});

Deno.test("one help style: option descriptions start at one column in every command", () => {
  for (const [name, text] of helps()) {
    const rows = text.split("\n").filter((l) => /^ {2}-/.test(l) && / {2,}\S/.test(l.slice(2)));
    for (const row of rows) {
      const at = row.slice(2).search(/ {2,}\S/) + 2;
      const start = row.slice(at).search(/\S/) + at;
      assert.equal(start, HELP_COLUMN, `${name}: ${row}`);
    }
  }
});

Deno.test("the overview lists every command with its summary, --help and --version", () => {
  const text = overview("1.2.3");
  assert.match(text, /version 1\.2\.3/);
  for (const c of Object.values(COMMANDS)) {
    assert.ok(text.includes(`  ${c.synopsis.padEnd(HELP_COLUMN - 2)}${c.summary}`), c.synopsis);
  }
  assert.match(text, /^ {2}--version, -V +the package version$/m);
  assert.match(text, /^ {2}--help, -h /m);
});

Deno.test("wrap: greedy, keeps explicit newlines and indents continuation lines", () => {
  assert.equal(wrap("aa bb cc dd", 5, ""), "aa bb\ncc dd");
  assert.equal(wrap("aa bb cc", 7, "  ", "> "), "> aa bb\n  cc");
  assert.equal(wrap("one\ntwo three", 80, ""), "one\ntwo three");
  assert.equal(wrap("averyveryverylongword x", 5, ""), "averyveryverylongword\nx");
});

Deno.test("optionRows: a flag too long for the column puts its description below", () => {
  const pad = " ".repeat(HELP_COLUMN);
  assert.equal(optionRows([["--json", "x"]]), `  --json${" ".repeat(HELP_COLUMN - 8)}x`);
  assert.equal(
    optionRows([["--backend wasm|cpu|webgpu|tensorflow", "TF.js backend"]]),
    `  --backend wasm|cpu|webgpu|tensorflow\n${pad}TF.js backend`,
  );
  const long = optionRows([["--x", "word ".repeat(30).trim()]]).split("\n");
  assert.ok(long.length > 1 && long.every((l) => l.length <= HELP_WIDTH));
  assert.ok(long.slice(1).every((l) => l.startsWith(pad)));
});

Deno.test("helpText: usage, paragraphs, titled option lists, notes, blank lines between", () => {
  const text = helpText({
    usage: "demo [options]",
    about: ["About."],
    options: [["--json", "J"]],
    sections: [{ title: "More", options: [["--net X", "N"]] }],
    notes: ["Note."],
  });
  const blocks = text.split("\n\n");
  assert.deepEqual(blocks.map((b) => b.split("\n")[0]), [
    "Usage: lpips demo [options]",
    "About.",
    "Options:",
    "More:",
    "Note.",
  ]);
});
