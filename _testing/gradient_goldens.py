"""Golden input gradients of LPIPS from the reference implementation's own autograd.

Writes _testing/gradient_goldens.json: for each case the distances and d(sum of distances)/d(in0)
(float32, base64 of the little-endian C-order bytes), computed by the reference's `lpips.LPIPS`
(PerceptualSimilarity 082bb24, unmodified, through the offline shims of
$LPIPS_TEST_DATA/reference-code/refenv.py) with the weights of $LPIPS_TEST_DATA/weights (VGG16:
the random-weight file, whose biases are all zero). Inputs are not stored: both sides draw them
from the same LCG (`lcgImage` in lpips/_gradient_goldens.ts).

Command (Debian python3-torch, python3-torchvision, python3-skimage; /usr/bin/python3):
    /usr/bin/python3 _testing/gradient_goldens.py   (test data: $LPIPS_TEST_DATA, default ../shared)
"""
import base64
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gradient_goldens_inputs import CASES, FLAT, lcg_image  # noqa: E402
from reference_lpips import reference_model, torch  # noqa: E402


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode()


models = {}
out = {"command": "/usr/bin/python3 _testing/gradient_goldens.py", "torch": torch.__version__, "cases": []}
for name, net, version, lin, shape, sa, sb, flat in CASES:
    key = (net, version, lin)
    if key not in models:
        models[key] = reference_model(net, version, lin)
    m = models[key]
    # Seeds spread over 32 bits: nearby seeds give nearly the same LCG sequence.
    sa, sb = sa * 2654435761 % 2**32, sb * 2654435761 % 2**32
    a, b = lcg_image(shape, sa), lcg_image(shape, sb)
    zero_norm = 0
    if flat:
        y0, y1, x0, x1, where = flat
        colour = np.array(FLAT[version], dtype=np.float32).reshape(1, 3, 1, 1)
        a[:, :, y0:y1, x0:x1] = colour
        if where == "both":
            b[:, :, y0:y1, x0:x1] = colour
    x = torch.from_numpy(a).requires_grad_(True)
    d = m(x, torch.from_numpy(b))
    d.sum().backward()
    grad = x.grad.numpy()
    assert np.isfinite(grad).all(), name
    if flat:
        with torch.no_grad():
            h = m.scaling_layer(x) if version == "0.1" else x
            zero_norm = sum(int((f.pow(2).sum(1) == 0).sum()) for f in m.net(h))
        assert zero_norm > 0 or net != "vgg", name  # VGG's zero biases zero its flat features
    out["cases"].append({
        "name": name, "net": net, "version": version, "lpips": lin, "shape": shape,
        "seeds": [sa, sb], "flat": flat, "flatColour": FLAT[version] if flat else None,
        "zeroNormPositions": zero_norm,
        "distance": b64(d.detach().numpy().reshape(-1)), "gradient": b64(grad),
        "maxAbsGradient": float(np.abs(grad).max()),
    })
    print(name, d.detach().numpy().reshape(-1), float(np.abs(grad).max()), zero_norm, file=sys.stderr)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gradient_goldens.json")
with open(path, "w") as f:
    json.dump(out, f, indent=2)  # as deno fmt writes it
    f.write("\n")
print(path, os.path.getsize(path), "bytes", file=sys.stderr)
