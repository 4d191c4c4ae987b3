"""The PyTorch side of `deno task bench:torch` (bench/torch_side_by_side.ts) and bench/forward_layers.ts.

LPIPS written from docs/algorithm.md §1 on torchvision's trunks, loading the same weight files
(torch.load), timed on the same inputs. A worker: one JSON request per stdin line, one JSON reply
per stdout line.

Requests:
  {"cmd": "load", "net": "alex", "version": "0.1", "lpips": true, "trunk": PATH, "lin": PATH,
   "threads": 2, "device": "cpu"}
     device: "cpu" (default), "cuda", or "auto" (cuda when torch sees a GPU); the reply names the
     device used ("device") and, on CUDA, the GPU ("gpu").
  {"cmd": "run", "inputs": [PATH, ...], "shape": [N, 3, H, W], "pairs": [[0, 1]],
   "spatial": false, "iters": K, "warmup_s": S, "out": PATH}
     times K forward passes (after warm-up passes for S seconds, at least one), each image's trunk once per pass, writes the
     distances of the last pass (float32, pairs in order) to `out`; replies the fastest pass's
     seconds (the least disturbed by other processes). On CUDA each pass ends with a synchronize,
     and the inputs are copied to the GPU once, before timing.
  {"cmd": "sgemm", "n": 1024, "threads": T}: the best GFLOP/s of torch.mm on n x n float32 matrices
    (the machine's SGEMM peak, for the fraction of it the trunks reach).
  {"cmd": "conv", "shape": [N, C, H, W], "out": O, "kernel": K, "stride": S, "pad": P,
   "threads": T, "seconds": s}: the best time of one convolution + ReLU (random weights) on that
   input, in seconds.
  {"cmd": "reset_peak"} / {"cmd": "peak"}: the process's peak RSS (VmHWM) reset / read, bytes.
"""

import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

SHIFT = [-0.030, -0.088, -0.188]
SCALE = [0.458, 0.448, 0.450]

# Index of the last module of each tapped slice of torchvision's `features` (docs/algorithm.md §1.2).
TAPS = {
    "alex": [1, 4, 7, 9, 11],
    "squeeze": [1, 4, 7, 9, 10, 11, 12],
    "vgg": [3, 8, 15, 22, 29],
}


class Lpips(torch.nn.Module):
    def __init__(self, net, version, lpips, trunk_path, lin_path):
        super().__init__()
        ctor = {
            "alex": torchvision.models.alexnet,
            "squeeze": torchvision.models.squeezenet1_1,
            "vgg": torchvision.models.vgg16,
        }[net]
        features = ctor().features
        sd = torch.load(trunk_path, map_location="cpu")
        sd = {k[len("features."):]: v for k, v in sd.items() if k.startswith("features.")}
        features.load_state_dict(sd)
        taps = TAPS[net]
        self.slices = torch.nn.ModuleList(
            torch.nn.Sequential(*[features[i] for i in range(lo, hi + 1)])
            for lo, hi in zip([0] + [t + 1 for t in taps[:-1]], taps)
        )
        self.version = version
        self.lpips = lpips
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))
        if lpips:
            lin = torch.load(lin_path, map_location="cpu")
            for k in range(len(taps)):
                # Buffers, so that .to(device) moves them with the trunk.
                self.register_buffer(f"lin{k}", lin[f"lin{k}.model.1.weight"])
        self.eval()

    def features(self, x):
        if self.version == "0.1":
            x = (x - self.shift) / self.scale
        out = []
        for s in self.slices:
            x = s(x)
            n = torch.sqrt(torch.sum(x * x, dim=1, keepdim=True))
            out.append(x / (n + 1e-10))
        return out

    def compare(self, f0, f1, size, spatial):
        total = None
        for k, (a, b) in enumerate(zip(f0, f1)):
            d = (a - b) ** 2
            m = F.conv2d(d, getattr(self, f"lin{k}")) if self.lpips else d.sum(dim=1, keepdim=True)
            if spatial:
                r = F.interpolate(m, size=size, mode="bilinear", align_corners=False)
            else:
                r = m.mean(dim=[2, 3], keepdim=True)
            total = r if total is None else total + r
        return total


def peak_rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    model = None
    device = "cpu"
    for line in sys.stdin:
        try:
            req = json.loads(line)
            cmd = req["cmd"]
            if cmd == "load":
                torch.set_num_threads(req["threads"])
                device = req.get("device", "cpu")
                if device == "auto":
                    device = "cuda" if torch.cuda.is_available() else "cpu"
                # Full float32 on CUDA, as the other engines compute (else cuDNN uses TF32).
                torch.backends.cudnn.allow_tf32 = False
                torch.backends.cuda.matmul.allow_tf32 = False
                model = Lpips(req["net"], req["version"], req["lpips"], req["trunk"],
                              req.get("lin"))
                model = model.to(device)
                reply = {"ok": True, "torch": torch.__version__,
                         "torchvision": torchvision.__version__, "device": device}
                if device == "cuda":
                    reply["gpu"] = torch.cuda.get_device_name()
            elif cmd == "run":
                shape = req["shape"]
                xs = [torch.from_numpy(np.fromfile(p, dtype=np.float32).reshape(shape)).to(device)
                      for p in req["inputs"]]
                size = tuple(shape[2:])

                def one_pass():
                    feats = [model.features(x) for x in xs]
                    out = [model.compare(feats[i], feats[j], size, req["spatial"])
                           for i, j in req["pairs"]]
                    if device == "cuda":
                        torch.cuda.synchronize()
                    return out

                with torch.inference_mode():
                    t0 = time.perf_counter()
                    one_pass()
                    while time.perf_counter() - t0 < req.get("warmup_s", 0):
                        one_pass()
                    secs = float("inf")
                    for _ in range(req["iters"]):
                        t0 = time.perf_counter()
                        out = one_pass()
                        secs = min(secs, time.perf_counter() - t0)
                flat = np.concatenate([o.cpu().numpy().reshape(-1) for o in out])
                flat.astype(np.float32).tofile(req["out"])
                reply = {"ok": True, "seconds": secs}
            elif cmd == "sgemm":
                torch.set_num_threads(req["threads"])
                n = req.get("n", 1024)
                a, b = torch.rand(n, n), torch.rand(n, n)
                best = float("inf")
                t_end = time.perf_counter() + req.get("seconds", 2)
                while time.perf_counter() < t_end:
                    t0 = time.perf_counter()
                    torch.mm(a, b)
                    best = min(best, time.perf_counter() - t0)
                reply = {"ok": True, "gflops": 2 * n ** 3 / best / 1e9}
            elif cmd == "conv":
                torch.set_num_threads(req["threads"])
                x = torch.rand(req["shape"])
                w = torch.randn(req["out"], req["shape"][1], req["kernel"], req["kernel"]) * 0.01
                b = torch.randn(req["out"]) * 0.01
                best = float("inf")
                with torch.inference_mode():
                    t_end = time.perf_counter() + req.get("seconds", 1)
                    while time.perf_counter() < t_end:
                        t0 = time.perf_counter()
                        torch.nn.functional.conv2d(x, w, b, req["stride"], req["pad"]).relu_()
                        best = min(best, time.perf_counter() - t0)
                reply = {"ok": True, "seconds": best}
            elif cmd == "reset_peak":
                with open("/proc/self/clear_refs", "w") as f:
                    f.write("5")
                reply = {"ok": True}
            elif cmd == "peak":
                reply = {"ok": True, "bytes": peak_rss()}
            else:
                reply = {"ok": False, "error": f"unknown command {cmd}"}
        except Exception as e:  # e.g. CUDA out of memory: this request fails, the worker lives
            reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
