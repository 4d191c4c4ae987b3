"""Executes one notebook on the Deno Jupyter kernel and writes the executed copy.

Usage: /usr/bin/python3 notebooks/_run.py IN.ipynb OUT.ipynb [--timeout SECONDS] [--cwd DIR]

The kernel's working directory is DIR (default: the folder of IN.ipynb).

Run by `deno task notebooks` (notebooks/_run.ts); it uses Debian's Jupyter modules, hence
/usr/bin/python3. Why not `jupyter nbconvert --execute`: Deno's kernel can publish a cell's output
after the cell's "idle" status, and stock runners stop listening at "idle", so they drop outputs
at random. This driver routes every iopub message to its cell by the parent msg_id, keeps
listening after "idle" until the kernel has been quiet for NB_QUIET_SECONDS (default 0.75 s; 2 s
after the last cell), and gives late messages to the cell they belong to, even while a later cell
runs. It prints how many outputs came late.

Then it checks that every code cell that should show something did. A cell must show output when
  - its last code line (ignoring blank lines and // comments) does not end in ";", "{" or "}",
    i.e. it ends in a bare expression, which the kernel displays; or
  - it has the tag "output" in its metadata.
A cell tagged "no-output" is exempt (a bare expression that evaluates to undefined).

Exit status 0 on success. On a cell error, a missing output or a timeout it writes what it has,
prints one line "NOTEBOOK cell N: what happened" on stderr and exits 1.
"""

import os
import queue
import sys
import time

import nbformat
from jupyter_client.manager import KernelManager

QUIET = float(os.environ.get("NB_QUIET_SECONDS", "0.75"))
KERNEL = "deno"


def expects_output(cell):
    tags = cell.get("metadata", {}).get("tags", [])
    if "no-output" in tags:
        return False
    if "output" in tags:
        return True
    lines = [l.strip() for l in cell.source.splitlines()]
    lines = [l for l in lines if l and not l.startswith("//")]
    if not lines:
        return False
    return not lines[-1].endswith((";", "{", "}"))


def output_from_msg(msg):
    kind = msg["msg_type"]
    content = msg["content"]
    if kind == "stream":
        return nbformat.v4.new_output("stream", name=content["name"], text=content["text"])
    if kind in ("display_data", "execute_result"):
        out = nbformat.v4.new_output(
            kind, data=content.get("data", {}), metadata=content.get("metadata", {})
        )
        if kind == "execute_result":
            out["execution_count"] = content.get("execution_count")
        return out
    if kind == "error":
        return nbformat.v4.new_output(
            "error",
            ename=content.get("ename", ""),
            evalue=content.get("evalue", ""),
            traceback=content.get("traceback", []),
        )
    return None


class Runner:
    def __init__(self, cwd, timeout):
        env = dict(os.environ, NO_COLOR="1")
        self.km = KernelManager(kernel_name=KERNEL)
        self.km.start_kernel(cwd=cwd, env=env)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)
        self.timeout = timeout
        self.outputs = {}  # msg_id -> list of outputs
        self.errors = {}  # msg_id -> "ename: evalue"
        self.idle = set()
        self.late = 0  # outputs that arrived after their cell's "idle"
        self.early = 0  # outputs that arrived before their cell's "busy"
        self.busy = set()

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    def _route(self, msg):
        parent = msg.get("parent_header", {}).get("msg_id")
        if parent not in self.outputs:
            return False
        kind = msg["msg_type"]
        if kind == "status" and msg["content"].get("execution_state") == "idle":
            self.idle.add(parent)
        elif kind == "status" and msg["content"].get("execution_state") == "busy":
            self.busy.add(parent)
        elif kind == "clear_output":
            self.outputs[parent].clear()
        else:
            out = output_from_msg(msg)
            if out is not None:
                self.outputs[parent].append(out)
                if parent in self.idle:
                    self.late += 1
                elif parent not in self.busy:
                    self.early += 1
            if kind == "error":
                c = msg["content"]
                self.errors[parent] = f"{c.get('ename', 'Error')}: {c.get('evalue', '')}"
        return True

    def drain(self, until_idle=None, quiet=QUIET):
        """Reads iopub until `until_idle` is idle (if given) and then `quiet` seconds pass."""
        deadline = time.monotonic() + self.timeout
        last = time.monotonic()
        while True:
            now = time.monotonic()
            if until_idle is not None and until_idle not in self.idle and now > deadline:
                raise TimeoutError(f"no result after {self.timeout:.0f} s")
            done = until_idle is None or until_idle in self.idle
            if done and now - last >= quiet:
                return
            try:
                msg = self.kc.get_iopub_msg(timeout=0.1)
            except queue.Empty:
                continue
            if self._route(msg):
                last = time.monotonic()

    def execute(self, source):
        msg_id = self.kc.execute(source, store_history=True, allow_stdin=False)
        self.outputs[msg_id] = []
        self.drain(until_idle=msg_id)
        # The shell reply carries the execution count and the error status.
        count = None
        try:
            while True:
                reply = self.kc.get_shell_msg(timeout=5)
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    content = reply["content"]
                    count = content.get("execution_count")
                    if content.get("status") == "error" and msg_id not in self.errors:
                        self.errors[msg_id] = (
                            f"{content.get('ename', 'Error')}: {content.get('evalue', '')}"
                        )
                    break
        except queue.Empty:
            pass
        return msg_id, count


def one_line(text):
    return " ".join(str(text).split())[:400]


def main(argv):
    args, options = [], {}
    rest = list(argv[1:])
    while rest:
        a = rest.pop(0)
        if a in ("--timeout", "--cwd") and rest:
            options[a] = rest.pop(0)
        else:
            args.append(a)
    if len(args) != 2:
        print("usage: _run.py IN.ipynb OUT.ipynb [--timeout SECONDS] [--cwd DIR]", file=sys.stderr)
        return 2
    src, dst = args
    timeout = float(options.get("--timeout", 600))
    name = os.path.basename(src)
    nb = nbformat.read(src, as_version=4)
    cwd = options.get("--cwd") or os.path.dirname(os.path.abspath(src))
    runner = Runner(cwd, timeout)
    failure = None
    cells = []  # (cell index, code cell number, msg_id)
    try:
        number = 0
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            number += 1
            cell.outputs = []
            started = time.monotonic()
            try:
                msg_id, count = runner.execute(cell.source)
            except TimeoutError as e:
                failure = f"{name} cell {number}: {e}"
                break
            cell.execution_count = count
            cell.outputs = runner.outputs[msg_id]
            cell.metadata.setdefault("execution", {})["wall_s"] = round(
                time.monotonic() - started, 3
            )
            cells.append((index, number, msg_id))
            if msg_id in runner.errors:
                failure = f"{name} cell {number}: {one_line(runner.errors[msg_id])}"
                break
        # Late outputs of the last cells.
        runner.drain(quiet=max(2.0, QUIET))
    finally:
        runner.close()
    for index, number, msg_id in cells:
        nb.cells[index].outputs = runner.outputs[msg_id]
    if failure is None:
        for index, number, msg_id in cells:
            cell = nb.cells[index]
            if expects_output(cell) and not cell.outputs:
                failure = (
                    f"{name} cell {number}: no output (the cell ends in an expression or is "
                    f"tagged 'output'; tag it 'no-output' if it shows nothing on purpose)"
                )
                break
    print(f"  {name}: {len(cells)} code cells run; {runner.late} output(s) came after "
          f"'idle', {runner.early} before 'busy'")
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    nbformat.write(nb, dst)
    if failure:
        print(failure, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
