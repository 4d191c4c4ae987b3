"""The PyTorch side of bench/eval_bench.ts: the reference's BAPPS 2AFC evaluation pipeline.

Mirrors the reference's `test_dataset_model.py` path (docs/algorithm.md §3 and §4.1), written from
the spec: the file lists (recursive walk, full paths sorted), a `Dataset` whose items are
`PIL.Image.open(p).convert('RGB')` -> torchvision `Resize(64)` -> `ToTensor()` ->
`Normalize((0.5,) * 3, (0.5,) * 3)` for ref/p0/p1 and `np.load(judge).reshape(1, 1, 1)` as a
`FloatTensor`, a serial `torch.utils.data.DataLoader` (batch 50, `num_workers` as asked), and
per batch `d0 = LPIPS(ref, p0)`, `d1 = LPIPS(ref, p1)`, each call running the trunk on both of its
inputs as the reference's `LPIPS.forward` does (no reuse of the ref features). The LPIPS model is
`Lpips` of bench/lpips_torch.py (same weight files as our side). Scored as docs/algorithm.md §4.1.

Worker mode (default): one JSON request per stdin line, one JSON reply per stdout line.
  {"cmd": "load", "trunk": PATH, "lin": PATH, "threads": 2}
  {"cmd": "run", "root": DIR, "dataset": "val/bench", "workers": 2, "batch_size": 50,
   "decode_only": false, "out": PATH}
     one pass over the dataset, timed from listing the files to the score; writes d0 then d1
     (float32) to `out` unless `decode_only`; replies {"seconds", "n", "score"}.
Stand-alone: `python3 eval_torch.py --root DIR [--dataset val/bench] [--workers 2]
  [--threads 2] --trunk PATH --lin PATH [--decode-only]` prints one JSON line.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torchvision
import torchvision.transforms as transforms
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lpips_torch import Lpips  # noqa: E402

IMAGE_EXTENSIONS = (
    ".jpg", ".JPG", ".jpeg", ".JPEG", ".png", ".PNG", ".ppm", ".PPM", ".bmp", ".BMP",
)


def list_files(folder, extensions):
    """Every matching file under `folder` (walked recursively), full paths sorted."""
    found = []
    for root, _, names in sorted(os.walk(folder)):
        found.extend(os.path.join(root, n) for n in names if n.endswith(extensions))
    return sorted(found)


class TwoAFC(torch.utils.data.Dataset):
    def __init__(self, folder, load_size=64):
        self.ref = list_files(os.path.join(folder, "ref"), IMAGE_EXTENSIONS)
        self.p0 = list_files(os.path.join(folder, "p0"), IMAGE_EXTENSIONS)
        self.p1 = list_files(os.path.join(folder, "p1"), IMAGE_EXTENSIONS)
        self.judge = list_files(os.path.join(folder, "judge"), (".npy",))
        self.transform = transforms.Compose([
            transforms.Resize(load_size),
            transforms.ToTensor(),
            transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
        ])

    def __len__(self):
        return len(self.p0)

    def _image(self, path):
        return self.transform(Image.open(path).convert("RGB"))

    def __getitem__(self, i):
        judge = torch.FloatTensor(np.load(self.judge[i]).reshape((1, 1, 1)))
        return {
            "p0": self._image(self.p0[i]), "p1": self._image(self.p1[i]),
            "ref": self._image(self.ref[i]), "judge": judge,
            "p0_path": self.p0[i], "p1_path": self.p1[i], "ref_path": self.ref[i],
            "judge_path": self.judge[i],
        }


def score_2afc(d0, d1, judge):
    d0, d1, g = (np.asarray(x, dtype=np.float64) for x in (d0, d1, judge))
    return float(np.mean((d0 < d1) * (1 - g) + (d1 < d0) * g + (d0 == d1) * 0.5))


def run_pass(model, root, dataset, workers, batch_size=50, decode_only=False):
    """One timed pass: (seconds, n, score or None, d0, d1)."""
    t0 = time.perf_counter()
    data = TwoAFC(os.path.join(root, "2afc", dataset))
    loader = torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=False,
                                         num_workers=workers)
    d0s, d1s, gts = [], [], []

    def lpips(a, b):
        return model.compare(model.features(a), model.features(b), a.shape[2:], False)

    with torch.no_grad():
        for batch in loader:
            if decode_only:
                continue
            d0s.append(lpips(batch["ref"], batch["p0"]).numpy().reshape(-1))
            d1s.append(lpips(batch["ref"], batch["p1"]).numpy().reshape(-1))
            gts.append(batch["judge"].numpy().reshape(-1))
    if decode_only:
        return time.perf_counter() - t0, len(data), None, None, None
    d0, d1 = np.concatenate(d0s), np.concatenate(d1s)
    score = score_2afc(d0, d1, np.concatenate(gts))
    return time.perf_counter() - t0, len(data), score, d0, d1


def load(trunk, lin, threads):
    torch.set_num_threads(threads)
    return Lpips("alex", "0.1", True, trunk, lin)


def serve():
    model = None
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["cmd"] == "load":
                t0 = time.perf_counter()
                model = load(req["trunk"], req["lin"], req["threads"])
                reply = {"ok": True, "seconds": time.perf_counter() - t0,
                         "torch": torch.__version__, "torchvision": torchvision.__version__}
            elif req["cmd"] == "run":
                secs, n, score, d0, d1 = run_pass(model, req["root"], req["dataset"],
                                                  req["workers"], req.get("batch_size", 50),
                                                  req.get("decode_only", False))
                if d0 is not None:
                    np.concatenate([d0, d1]).astype(np.float32).tofile(req["out"])
                reply = {"ok": True, "seconds": secs, "n": n, "score": score}
            else:
                reply = {"ok": False, "error": f"unknown command {req['cmd']}"}
        except Exception as e:  # reported to the caller, which stops
            reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--root")
    p.add_argument("--dataset", default="val/bench")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--trunk")
    p.add_argument("--lin")
    p.add_argument("--decode-only", action="store_true")
    a = p.parse_args()
    if a.root is None:
        serve()
        return
    torch.set_num_threads(a.threads)
    model = None if a.decode_only else load(a.trunk, a.lin, a.threads)
    secs, n, score, _, _ = run_pass(model, a.root, a.dataset, a.workers, a.batch_size,
                                    a.decode_only)
    print(json.dumps({"seconds": secs, "n": n, "score": score, "triplets_per_s": n / secs}))


if __name__ == "__main__":
    main()
