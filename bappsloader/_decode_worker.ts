/**
 * Worker side of the loader's optional decode pool: decode -> Resize -> ToTensor + Normalize,
 * returning the float32 pixels as a transferred buffer.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { loadDatasetImage } from "./dataset.ts";
import { postedError } from "./worker_error.ts";
import { useBlockingReads } from "../_internal/read_file.ts";

useBlockingReads(); // this worker has nothing else to do while it reads

interface Request {
  id: number;
  path: string;
  loadSize: number;
}

self.onmessage = async (e: MessageEvent<Request>) => {
  const { id, path, loadSize } = e.data;
  try {
    const t = await loadDatasetImage(path, loadSize);
    self.postMessage({ id, data: t.data, shape: t.shape }, [t.data.buffer as ArrayBuffer]);
  } catch (err) {
    self.postMessage({ id, error: postedError(err) });
  }
};
