#!/usr/bin/env python3
"""Timing worker for bench/dists_side_by_side.ts: the official DISTS PyTorch code
(metric-references/dists/DISTS_pt.py of the test data, unchanged) on 2 threads.

  /usr/bin/python3 bench/dists_torch.py REFS_DIR VGG16.pth

Reads lines `REF.png<TAB>DIST.png<TAB>RESIZE(0|1)` on stdin; for each prints the milliseconds of
one `prepare_image` of both decoded images plus the model's forward, and the score.
"""
import sys
import time

import torch
import torchvision
from PIL import Image

refs, vgg_file = sys.argv[1:3]
sys.path.insert(0, refs)
import DISTS_pt  # noqa: E402

torch.set_num_threads(2)
make_vgg16 = torchvision.models.vgg16


def vgg16_from_file(pretrained=False, **kw):
    model = make_vgg16(weights=None)
    state = torch.load(vgg_file, map_location="cpu")
    model.features.load_state_dict(
        {k[len("features."):]: v for k, v in state.items() if k.startswith("features.")})
    return model


DISTS_pt.models.vgg16 = vgg16_from_file
DISTS_pt.sys.prefix = refs
model = DISTS_pt.DISTS().eval()
images = {}


def image(path):
    if path not in images:
        images[path] = Image.open(path).convert("RGB")
        images[path].load()
    return images[path]


for line in sys.stdin:
    ref, dist, resize = line.rstrip("\n").split("\t")
    a, b = image(ref), image(dist)
    t0 = time.perf_counter()
    x = DISTS_pt.prepare_image(a, resize=resize == "1")
    y = DISTS_pt.prepare_image(b, resize=resize == "1")
    score = model(x, y).item()
    print(f"{(time.perf_counter() - t0) * 1000:.3f}\t{score:.7f}", flush=True)
