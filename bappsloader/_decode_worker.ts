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

interface Request {
  id: number;
  path: string;
  loadSize: number;
}

self.onmessage = async (e: MessageEvent<Request>) => {
  const { id, path, loadSize } = e.data;
  try {
    const t = await loadDatasetImage(path, loadSize, { blocking: true });
    self.postMessage({ id, data: t.data, shape: t.shape }, [t.data.buffer as ArrayBuffer]);
  } catch (err) {
    self.postMessage({ id, error: postedError(err) });
  }
};
