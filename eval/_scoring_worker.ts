/**
 * Worker side of the evaluation's scoring pool (`_scoring_pool.ts`): builds the run's model once,
 * then reads, decodes and scores whole batches, one at a time, in the order they arrive.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { jndBatches, twoAFCBatches } from "../bappsloader/dataset.ts";
import type { JNDItem, TwoAFCItem } from "../bappsloader/layout.ts";
import { serveRequests } from "../bappsloader/worker_pool.ts";
import { useBlockingReads } from "../_internal/read_file.ts";
import { type BatchScorer, openScorer } from "./_batch_scorer.ts";
import type { ScoringRequest } from "./_scoring_pool.ts";

useBlockingReads(); // this worker has nothing else to do while it reads
let scorer: BatchScorer | undefined;

serveRequests(async (request: ScoringRequest): Promise<Float32Array[]> => {
  if (request.type === "open") {
    scorer = await openScorer(request.spec);
    return [];
  }
  const s = scorer!;
  // The request is one batch: read on this thread, without prefetching a next one.
  const { items, loadSize } = request;
  const options = { batchSize: items.length, loadSize, workers: 0, prefetch: false };
  const values: Float32Array[] = [];
  if (request.mode === "2afc") {
    for await (const b of twoAFCBatches(items as TwoAFCItem[], options)) {
      values.push(...await s.twoAFC(b.ref, b.p0, b.p1), b.judge);
    }
  } else {
    for await (const b of jndBatches(items as JNDItem[], options)) {
      values.push(await s.pairs(b.p0, b.p1), b.same);
    }
  }
  return values;
});
