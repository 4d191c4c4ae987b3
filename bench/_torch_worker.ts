/**
 * A PyTorch script of ours run as a worker process: one JSON request per line on stdin, one JSON
 * reply per line on stdout (`{ ok: true, ... }` or `{ ok: false, error }`). Shared by the
 * side-by-side benchmarks.
 *
 * @module
 */

/** A process that answers each line written to its stdin with one line on its stdout. */
export class LineWorker {
  readonly #proc: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: AsyncIterator<string>;

  /** `name` says which worker exited, in the error. */
  constructor(command: string, args: string[], readonly name: string) {
    this.#proc = new Deno.Command(command, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.#proc.stdin.getWriter();
    this.#lines = lines(this.#proc.stdout)[Symbol.asyncIterator]();
  }

  /** Writes `line` and returns the reply line. */
  async ask(line: string): Promise<string> {
    await this.#writer.write(new TextEncoder().encode(line + "\n"));
    const r = await this.#lines.next();
    if (r.done) throw new Error(`the ${this.name} worker exited`);
    return r.value;
  }

  async close(): Promise<void> {
    await this.#writer.close();
    await this.#proc.status;
  }
}

/** The Python worker running `script` (a file beside this one). */
export class TorchWorker {
  readonly #worker: LineWorker;

  constructor(python: string, script: string) {
    this.#worker = new LineWorker(
      python,
      [new URL(`./${script}`, import.meta.url).pathname],
      "PyTorch",
    );
  }

  async call(req: Record<string, unknown>): Promise<Record<string, unknown>> {
    const reply = JSON.parse(await this.#worker.ask(JSON.stringify(req)));
    if (!reply.ok) throw new Error(`PyTorch: ${reply.error}`);
    return reply;
  }

  close(): Promise<void> {
    return this.#worker.close();
  }
}

/** The lines of a process's output, without their line ends. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
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
