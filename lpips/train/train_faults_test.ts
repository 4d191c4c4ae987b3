/**
 * Training under faults: Ctrl-C during `deno task lpips train` (one line, exit status 130, a
 * complete `latest` checkpoint, and `--resume` ending with the same files as an uninterrupted run),
 * a full disk while a checkpoint is written (the previous checkpoint survives, the temporary files
 * go, the error names the file and "no space left"), and `--resume` with nothing to resume.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { needsTestData, testData } from "../../_internal/test_data.ts";
import { cliCommand } from "../../_internal/test_cli.ts";
import { partPath } from "../../_internal/atomic_write.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { Trainer } from "./trainer.ts";

const lpips = (args: string[]): Deno.Command => cliCommand(args);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** A BAPPS root with the first `n` items of bapps-mini's 2afc/train/traditional. */
async function trainingRoot(dir: string, n: number): Promise<string> {
  const root = join(dir, "bapps");
  const src = testData("bapps-mini", "2afc", "train", "traditional");
  for (const role of ["ref", "p0", "p1", "judge"]) {
    const to = join(root, "2afc", "train", "traditional", role);
    await Deno.mkdir(to, { recursive: true });
    for (let i = 0; i < n; i++) {
      const file = `${String(i).padStart(6, "0")}.${role === "judge" ? "npy" : "png"}`;
      await Deno.copyFile(join(src, role, file), join(to, file));
    }
  }
  return root;
}

async function tempFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".part")) out.push(e.name);
  return out;
}

async function logLines(path: string): Promise<number> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((l) => l.length > 0).length;
  } catch {
    return 0;
  }
}

const CHECKPOINT_FILES = [
  "latest_net_.pth",
  "latest_net_rank.pth",
  "latest_optim.pth",
  "latest_state.json",
  "1_net_.pth",
  "2_net_.pth",
  "2_net_rank.pth",
];

const sigint = needsTestData(
  "train: Ctrl-C exits 130 with one line and a complete checkpoint; --resume ends identical",
);

Deno.test({
  name: Deno.build.os === "windows" ? `${sigint.name} [skipped: no SIGINT to send]` : sigint.name,
  ignore: sigint.ignore || Deno.build.os === "windows",
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "lpips_train_sigint_" });
    try {
      const root = await trainingRoot(dir, 30);
      const ckpt = join(dir, "checkpoints");
      // 2 epochs of 3 steps (batch 10), seed 3: every step is reproducible (seeded shuffles and
      // dropout masks, per epoch and per step), so a resumed run can match an uninterrupted one.
      const args = (name: string) => [
        "train",
        "--root",
        root,
        "--datasets",
        "train/traditional",
        "--checkpoints-dir",
        ckpt,
        "--name",
        name,
        "--epochs",
        "1",
        "--epochs-decay",
        "1",
        "--batch-size",
        "10",
        "--seed",
        "3",
        "--log-every",
        "1",
      ];

      const full = await lpips(args("full")).output();
      assert.equal(full.code, 0, decode(full.stderr));

      const child = lpips(args("cut")).spawn();
      const log = join(ckpt, "cut", "train_log.jsonl");
      const t0 = Date.now();
      while ((await logLines(log)) < 2 && Date.now() - t0 < 120_000) {
        await new Promise((r) => setTimeout(r, 25));
      }
      child.kill("SIGINT");
      const cut = await child.output();
      const stderr = decode(cut.stderr);
      assert.equal(cut.code, 130, stderr);
      const lines = stderr.trimEnd().split("\n").filter((l) => !l.startsWith("epoch "));
      assert.equal(lines.length, 1, stderr);
      const m = /^lpips train: interrupted at step (\d+); saved (.*latest_net_\.pth) \(continue/
        .exec(lines[0]);
      assert.ok(m, lines[0]);
      assert.equal(m[2], join(ckpt, "cut", "latest_net_.pth"));
      const step = Number(m[1]);
      assert.ok(step >= 2 && step < 6, `interrupted at step ${step} of 6`);
      assert.deepEqual(await tempFiles(join(ckpt, "cut")), []);
      // The saved set is complete and consistent: it loads, at the step the message gives.
      const { trainer, state } = await loadCheckpoint(join(ckpt, "cut"));
      trainer.dispose();
      assert.equal(state.step, step);
      assert.equal(trainer.steps, step);

      const resumed = await lpips([...args("cut"), "--resume"]).output();
      assert.equal(resumed.code, 0, decode(resumed.stderr));
      for (const f of CHECKPOINT_FILES) {
        assert.deepEqual(
          await Deno.readFile(join(ckpt, "cut", f)),
          await Deno.readFile(join(ckpt, "full", f)),
          `${f}: resumed run differs from the uninterrupted one`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...needsTestData("train --resume with no checkpoint: one line naming the missing state file"),
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "lpips_train_resume_" });
    try {
      const out = await lpips([
        "train",
        "--root",
        testData("bapps-mini"),
        "--datasets",
        "train/traditional",
        "--checkpoints-dir",
        dir,
        "--resume",
      ]).output();
      const stderr = decode(out.stderr);
      assert.equal(out.code, 1, stderr);
      assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
      assert.match(stderr, /latest_state\.json: no checkpoint to resume from/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const hasDevFull = (() => {
  try {
    return Deno.build.os === "linux" && Deno.statSync("/dev/full").isCharDevice === true;
  } catch {
    return false;
  }
})();

const fullDisk = needsTestData(
  "saveCheckpoint on a full disk keeps the previous checkpoint and removes its temp files",
);

Deno.test({
  name: hasDevFull ? fullDisk.name : `${fullDisk.name} [skipped: needs /dev/full]`,
  ignore: fullDisk.ignore || !hasDevFull,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "lpips_train_enospc_" });
    const t = await Trainer.create({
      net: "alex",
      seed: 1,
      weightsDir: testData("weights"),
      quiet: true,
    });
    try {
      const state = {
        net: "alex" as const,
        mode: "lin" as const,
        seed: 1,
        epoch: 1,
        batch: 0,
        step: 0,
        lr: t.lr,
        dropout: true,
        clampTrunk1x1: true,
        batchSize: 50,
      };
      await saveCheckpoint(t, dir, "latest", state);
      const files = ["latest_net_.pth", "latest_net_rank.pth", "latest_optim.pth"];
      const before = await Promise.all(
        [...files, "latest_state.json"].map((f) => Deno.readFile(join(dir, f))),
      );
      // The third file of the set is written to /dev/full: a real ENOSPC from the kernel, after
      // two files of the new set are already written (to their temporary names).
      // One step on two synthetic triplets, so that every file of the new set differs.
      const image = (k: number) => ({
        data: new Float32Array(2 * 3 * 64 * 64).map((_, i) => Math.sin(i * 0.01 * k)),
        shape: [2, 3, 64, 64] as [number, number, number, number],
      });
      await t.step({ ref: image(1), p0: image(2), p1: image(3), judge: Float32Array.of(0, 1) });
      const optim = join(dir, "latest_optim.pth");
      await Deno.symlink("/dev/full", partPath(optim));
      const next = { ...state, batch: 1, step: 1 };
      const saved = (await loadCheckpoint(dir)).trainer;
      assert.notDeepEqual(await t.netState(), await saved.netState(), "the step changed the heads");
      saved.dispose();
      await assert.rejects(saveCheckpoint(t, dir, "latest", next), (e: Error) => {
        assert.equal(e.message, `${optim}: cannot write the checkpoint (no space left on device)`);
        return true;
      });
      const after = await Promise.all(
        [...files, "latest_state.json"].map((f) => Deno.readFile(join(dir, f))),
      );
      assert.deepEqual(after, before, "the previous checkpoint is untouched");
      assert.deepEqual(await tempFiles(dir), []);
      const { trainer } = await loadCheckpoint(dir, "latest");
      trainer.dispose();
    } finally {
      t.dispose();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...needsTestData("Trainer.step refuses a judgement outside [0, 1] before any update"),
  sanitizeResources: false,
  fn: async () => {
    const t = await Trainer.create({
      net: "alex",
      seed: 1,
      weightsDir: testData("weights"),
      quiet: true,
    });
    try {
      const x = {
        data: new Float32Array(3 * 64 * 64),
        shape: [1, 3, 64, 64] as [number, number, number, number],
      };
      for (const j of [7.5, -0.5, NaN]) {
        await assert.rejects(t.step({ ref: x, p0: x, p1: x, judge: Float32Array.of(j) }), {
          name: "RangeError",
          message: `judge[0] is ${j}; judgements are fractions of the judges, in [0, 1]`,
        });
      }
      assert.equal(t.steps, 0); // nothing was trained
    } finally {
      t.dispose();
    }
  },
});
