#!/usr/bin/env python3
"""DISTS golden values from the official PyTorch code (metric-references/dists/DISTS_pt.py,
unchanged) on a list of image pairs; called by make_dists_goldens.ts, which writes the pairs.

  /usr/bin/python3 _testing/metric_goldens/dists_goldens.py REFS_DIR VGG16.pth LIST

REFS_DIR: metric-references/dists of the test data; VGG16.pth: a torchvision VGG16 state dict
(the tests use weights/vgg16-random-seed0.pth); LIST: lines `name<TAB>ref.png<TAB>dist.png`.
Prints one JSON line per pair: {"name", "size", "resize", "no_resize", "resize_f64",
"no_resize_f64"}: "resize" is the score with the official `prepare_image` (shorter side to 256 when
larger), "no_resize" without it, both as the official code computes (float32); the `_f64` values are
the same code with the model and inputs in float64 (`.double()`), the exact value up to rounding.
"""
import copy
import json
import sys

import torch
import torchvision
from PIL import Image

refs, vgg_file, list_file = sys.argv[1:4]
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
DISTS_pt.sys.prefix = refs  # where the official class reads weights.pt
model = DISTS_pt.DISTS().eval()
model64 = copy.deepcopy(model).double()

for line in open(list_file):
    name, ref, dist = line.rstrip("\n").split("\t")
    a = Image.open(ref).convert("RGB")
    b = Image.open(dist).convert("RGB")
    out = {"name": name, "size": list(a.size)}
    for key, resize in (("resize", True), ("no_resize", False)):
        x = DISTS_pt.prepare_image(a, resize=resize)
        y = DISTS_pt.prepare_image(b, resize=resize)
        out[key] = float(model(x, y).item())
        out[key + "_f64"] = float(model64(x.double(), y.double()).item())
    print(json.dumps(out), flush=True)
