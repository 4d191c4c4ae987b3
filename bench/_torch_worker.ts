/**
 * A PyTorch script of ours run as a worker process: one JSON request per line on stdin, one JSON
 * reply per line on stdout (`{ ok: true, ... }` or `{ ok: false, error }`). Shared by the
 * side-by-side benchmarks.
 *
 * @module
 */

/** The Python worker running `script` (a file beside this one). */
export class TorchWorker {
  readonly #proc: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncIterator<string>;

  constructor(python: string, script: string) {
    this.#proc = new Deno.Command(python, {
      args: [new URL(`./${script}`, import.meta.url).pathname],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.#proc.stdin.getWriter();
    this.#lines = lines(this.#proc.stdout)[Symbol.asyncIterator]();
  }

  async call(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    await this.#writer.write(new TextEncoder().encode(JSON.stringify(req) + "\n"));
    const r = await this.#lines.next();
    if (r.done) throw new Error("the PyTorch worker exited");
    const reply = JSON.parse(r.value);
    if (!reply.ok) throw new Error(`PyTorch: ${reply.error}`);
    return reply;
  }

  async close(): Promise<void> {
    await this.#writer.close();
    await this.#proc.status;
  }
}

/** The lines of a process's output, without their line ends. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      yield buf.slice(0, i);
      buf = buf.slice(i + 1);
    }
  }
}
