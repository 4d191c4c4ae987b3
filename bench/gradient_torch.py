"""The PyTorch side of bench/gradient_bench.ts: Adam steps on an image toward a target with the
reference implementation's own LPIPS (unmodified; _testing/reference_lpips.py), 2 threads
(`TORCH_THREADS` to change).

A worker: one JSON request per stdin line, one JSON reply per stdout line.
  {"cmd": "setup", "net": "alex", "shape": [N, 3, H, W], "lr": 0.01}
  {"cmd": "run", "steps": K}: K steps (zero_grad, forward, backward of the summed distances, Adam
     step, clamp to [-1, 1]); replies the seconds they took and the last summed distance.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "_testing"))
from reference_lpips import reference_model, torch  # noqa: E402

torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))

models = {}
state = {}


def handle(req):
    if req["cmd"] == "setup":
        net = req["net"]
        if net not in models:
            models[net] = reference_model(net)
            for p in models[net].parameters():
                p.requires_grad_(False)
        g = torch.Generator().manual_seed(0)
        shape = req["shape"]
        x = (torch.rand(*shape, generator=g) * 2 - 1).requires_grad_(True)
        target = torch.rand(*shape, generator=g) * 2 - 1
        state.update(model=models[net], x=x, target=target, opt=torch.optim.Adam([x], lr=req["lr"]))
        return {}
    if req["cmd"] == "run":
        m, x, target, opt = state["model"], state["x"], state["target"], state["opt"]
        t0 = time.perf_counter()
        for _ in range(req["steps"]):
            opt.zero_grad()
            loss = m(x, target).sum()
            loss.backward()
            opt.step()
            with torch.no_grad():
                x.clamp_(-1, 1)
        return {"seconds": time.perf_counter() - t0, "loss": float(loss)}
    raise ValueError("unknown cmd " + req["cmd"])


for line in sys.stdin:
    try:
        reply = {"ok": True, **handle(json.loads(line))}
    except Exception as e:  # the reply carries the error to the Deno side
        reply = {"ok": False, "error": repr(e)}
    print(json.dumps(reply), flush=True)
