import assert from "node:assert/strict";
import { quiesceBusyThreads, registerBusyThreads } from "./busy_threads.ts";

Deno.test("quiesceBusyThreads waits for every registered pool, up to its timeout", async () => {
  const calls: string[] = [];
  const slow = registerBusyThreads(async () => {
    calls.push("slow");
    await new Promise((r) => setTimeout(r, 60));
    calls.push("slow done");
  });
  const gone = registerBusyThreads(() => {
    calls.push("unregistered");
    return Promise.resolve();
  });
  gone();
  let t = performance.now();
  await quiesceBusyThreads();
  assert.ok(performance.now() - t >= 50, "waited for the slow pool");
  assert.deepEqual(calls, ["slow", "slow done"]);
  slow();
  const stuck = registerBusyThreads(() => new Promise(() => {}));
  t = performance.now();
  await quiesceBusyThreads(100);
  const waited = performance.now() - t;
  assert.ok(waited >= 90 && waited < 2000, `gave up after the timeout (${waited} ms)`);
  stuck();
});
