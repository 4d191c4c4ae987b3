"""Makes bappsloader/_bicubic_golden.json: Pillow's Image.resize(size, BICUBIC) on a synthetic
RGB8 pattern and on float ("F") planes, for bappsloader/resize_test.ts.

Run with Debian's Pillow 9.4 (python3-pil): /usr/bin/python3 bappsloader/_bicubic_golden.py
"""
import json
import numpy as np
from PIL import Image


def pattern(w, h):
    y, x = np.mgrid[0:h, 0:w]
    chans = [(x * 37 + y * 91 + c * 53 + x * y * 7 + (x * x) % 29) % 256 for c in range(3)]
    return np.stack(chans, axis=-1).astype(np.uint8)


def plane(w, h, c):
    y, x = np.mgrid[0:h, 0:w]
    return np.sin(x * 0.9 + y * 1.7 + c).astype(np.float32) * 0.95


cases = []
for (w, h), (ow, oh) in [((9, 7), (20, 13)), ((9, 7), (4, 3)), ((13, 11), (29, 5)), ((40, 30), (23, 47))]:
    src = pattern(w, h)
    out = np.asarray(Image.fromarray(src, "RGB").resize((ow, oh), Image.BICUBIC))
    planes = [np.asarray(Image.fromarray(plane(w, h, c), "F").resize((ow, oh), Image.BICUBIC))
              for c in range(3)]
    cases.append({
        "from_wh": [w, h], "to_wh": [ow, oh],
        "rgb8": out.reshape(-1).tolist(),
    })
    if ow * oh <= 300:  # float planes of the small cases only (keeps the file small)
        cases[-1]["float_planes"] = [float(v) for v in np.stack(planes).reshape(-1)]
with open("bappsloader/_bicubic_golden.json", "w") as f:
    json.dump({"pillow": Image.__version__, "cases": cases}, f, separators=(",", ":"))
