"""Golden weight gradients of LPIPS (what `tune`/`scratch` training differentiates) from the
reference implementation's own autograd: d(sum of distances) / d(every trunk convolution's weight
and bias, and every linear head), for one case per trunk (v0.1, calibrated; the inputs of the
same-named cases of _testing/gradient_goldens.json).

The arrays are large (AlexNet's trunk alone has 2.5 M parameters), so the file keeps per tensor
(our key: `features.{j}...` as torchvision, `lin{k}.model.1.weight`) 11 float32 numbers, base64
of their little-endian bytes: the sum, the sum of absolute values, the largest absolute value and
the values at 8 fixed positions (C-order index i * 7919 * 104729 mod size, i = 0..7).

Command (Debian python3-torch, python3-torchvision, python3-skimage; /usr/bin/python3):
    /usr/bin/python3 _testing/weight_gradient_goldens.py   (test data: $LPIPS_TEST_DATA)
"""
import base64
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradient_goldens_inputs import case_inputs  # noqa: E402
from reference_lpips import reference_model, torch  # noqa: E402

SAMPLES = 8
out = {"command": "/usr/bin/python3 _testing/weight_gradient_goldens.py", "torch": torch.__version__, "cases": []}
for name in ["alex-0.1-lin", "squeeze-0.1-lin", "vgg-0.1-lin"]:
    net, a, b = case_inputs(name)
    m = reference_model(net)
    for p in m.parameters():
        p.requires_grad_(True)
    d = m(torch.from_numpy(a), torch.from_numpy(b))
    d.sum().backward()
    tensors = {}
    for key, p in m.named_parameters():
        parts = key.split(".")
        if parts[0] == "net":
            ours = "features." + ".".join(parts[2:])
        elif parts[0].startswith("lin"):
            ours = key
        else:
            continue
        g = p.grad.numpy().astype(np.float64).reshape(-1)
        idx = [(i * 7919 * 104729) % g.size for i in range(SAMPLES)]
        stats = [g.sum(), np.abs(g).sum(), np.abs(g).max()] + [g[i] for i in idx]
        tensors[ours] = base64.b64encode(np.array(stats, dtype="<f4").tobytes()).decode()
    out["cases"].append({"name": name, "tensors": tensors})
    print(name, len(tensors), "tensors", file=sys.stderr)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weight_gradient_goldens.json")
with open(path, "w") as f:
    json.dump(out, f, indent=2)  # as deno fmt writes it
    f.write("\n")
print(path, os.path.getsize(path), "bytes", file=sys.stderr)
