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
import { postedError } from "../bappsloader/worker_error.ts";
import { useBlockingReads } from "../_internal/read_file.ts";
import { type BatchScorer, openScorer } from "./_batch_scorer.ts";
import type { ScoringReply, ScoringRequest } from "./_scoring_pool.ts";

useBlockingReads(); // this worker has nothing else to do while it reads
let scorer: Promise<BatchScorer> | undefined;
let queue = Promise.resolve();

self.onmessage = (e: MessageEvent<ScoringRequest>) => {
  const request = e.data;
  queue = queue.then(() => handle(request));
};

async function handle(request: ScoringRequest): Promise<void> {
  let reply: ScoringReply = { id: request.id };
  try {
    if (request.type === "open") {
      scorer = openScorer(request.spec).then((s) => s.scorer);
      await scorer;
    } else {
      const s = await scorer!;
      // The request is one batch: read on this thread, without prefetching a next one.
      const { items, loadSize } = request;
      const options = {
        batchSize: items.length,
        loadSize,
        workers: 0,
        prefetch: false,
      };
      if (request.mode === "2afc") {
        for await (const b of twoAFCBatches(items as TwoAFCItem[], options)) {
          reply.values = [...await s.twoAFC(b.ref, b.p0, b.p1), b.judge];
        }
      } else {
        for await (const b of jndBatches(items as JNDItem[], options)) {
          reply.values = [await s.pairs(b.p0, b.p1), b.same];
        }
      }
    }
  } catch (err) {
    reply = { id: request.id, error: postedError(err) };
  }
  const buffers = new Set(reply.values?.map((v) => v.buffer as ArrayBuffer));
  self.postMessage(reply, [...buffers]);
}
