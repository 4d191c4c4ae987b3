#!/usr/bin/env python3
"""The official DISTS PyTorch code (metric-references/dists/DISTS_pt.py of the test data,
unchanged), timed for bench/metrics_bench.ts. A worker (bench/_torch_worker.ts): one JSON request
per stdin line, one JSON reply per stdout line.

Requests:
  {"cmd": "load", "refs": DIR_OF_DISTS_PT, "vgg": VGG16.pth, "threads": 2}
  {"cmd": "run", "ref": REF.png, "dist": DIST.png, "resize": true}
     replies {"ok": true, "ms": ..., "score": ...}: the milliseconds of `prepare_image` of both
     decoded images plus the model's forward (the files are decoded once, before timing).
"""
import json
import sys
import time

import torch
import torchvision
from PIL import Image


def load(refs, vgg_file, threads):
    sys.path.insert(0, refs)
    import DISTS_pt

    torch.set_num_threads(threads)
    make_vgg16 = torchvision.models.vgg16

    def vgg16_from_file(pretrained=False, **kw):
        model = make_vgg16(weights=None)
        state = torch.load(vgg_file, map_location="cpu")
        model.features.load_state_dict(
            {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")})
        return model

    DISTS_pt.models.vgg16 = vgg16_from_file
    DISTS_pt.sys.prefix = refs
    return DISTS_pt, DISTS_pt.DISTS().eval()


def main():
    dists_pt = model = None
    images = {}

    def image(path):
        if path not in images:
            images[path] = Image.open(path).convert("RGB")
            images[path].load()
        return images[path]

    for line in sys.stdin:
        try:
            req = json.loads(line)
            if req["cmd"] == "load":
                dists_pt, model = load(req["refs"], req["vgg"], req["threads"])
                reply = {"ok": True, "torch": torch.__version__}
            elif req["cmd"] == "run":
                a, b = image(req["ref"]), image(req["dist"])
                # As the official script calls it (its parameters are frozen: no graph is kept).
                t0 = time.perf_counter()
                x = dists_pt.prepare_image(a, resize=req["resize"])
                y = dists_pt.prepare_image(b, resize=req["resize"])
                score = model(x, y).item()
                reply = {"ok": True, "ms": (time.perf_counter() - t0) * 1000, "score": score}
            else:
                reply = {"ok": False, "error": f"unknown command {req['cmd']}"}
        except Exception as e:
            reply = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
