/**
 * Worker side of the loader's optional decode pool: decode -> Resize -> ToTensor + Normalize,
 * returning the float32 pixels as a transferred buffer.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { loadDatasetImage } from "./dataset.ts";
import { serveRequests } from "./worker_pool.ts";
import { useBlockingReads } from "../_internal/read_file.ts";

useBlockingReads(); // this worker has nothing else to do while it reads
serveRequests(({ path, loadSize }: { path: string; loadSize: number }) =>
  loadDatasetImage(path, loadSize)
);
