"""The golden cases' inputs, shared by _testing/gradient_goldens.py and
_testing/weight_gradient_goldens.py (and rebuilt the same way by lpips/_gradient_goldens.ts)."""
import numpy as np


def lcg_image(shape, seed):
    """The LCG of the TS tests: s <- s * 1664525 + 1013904223 (mod 2^32), value fround(2 s / 2^32 - 1)."""
    n = int(np.prod(shape))
    out = np.empty(n, dtype=np.float32)
    s = seed & 0xFFFFFFFF
    for i in range(n):
        s = (s * 1664525 + 1013904223) & 0xFFFFFFFF
        out[i] = np.float32(s / 2**32 * 2 - 1)
    return out.reshape(shape)


# The v0.1 scaling maps this colour to exactly 0 (v0.0 feeds 0 as is): with VGG's zero biases the
# features of a flat region of it are exactly zero, the reference's NaN trap (its SqrtBackward
# returns NaN there, which the ReLU backward then masks).
FLAT = {"0.1": [-0.030, -0.088, -0.188], "0.0": [0.0, 0.0, 0.0]}

# name, net, version, lpips, shape, seed a, seed b, flat region [y0, y1, x0, x1] (in a; "both":
# in b too)
CASES = [
    ("alex-0.1-lin", "alex", "0.1", True, [1, 3, 35, 33], 1, 2, None),
    ("alex-0.1-raw", "alex", "0.1", False, [1, 3, 33, 31], 3, 4, None),
    ("alex-0.0-lin", "alex", "0.0", True, [1, 3, 31, 34], 5, 6, None),
    ("alex-0.0-raw", "alex", "0.0", False, [1, 3, 32, 31], 7, 8, None),
    ("squeeze-0.1-lin", "squeeze", "0.1", True, [1, 3, 37, 36], 9, 10, None),
    ("squeeze-0.1-raw", "squeeze", "0.1", False, [1, 3, 27, 26], 11, 12, None),
    ("squeeze-0.0-lin", "squeeze", "0.0", True, [1, 3, 29, 26], 13, 14, None),
    ("squeeze-0.0-raw", "squeeze", "0.0", False, [1, 3, 26, 27], 15, 16, None),
    ("vgg-0.1-lin", "vgg", "0.1", True, [1, 3, 18, 17], 17, 18, None),
    ("vgg-0.1-raw", "vgg", "0.1", False, [1, 3, 17, 18], 19, 20, None),
    ("vgg-0.0-lin", "vgg", "0.0", True, [1, 3, 18, 18], 21, 22, None),
    ("vgg-0.0-raw", "vgg", "0.0", False, [1, 3, 17, 17], 23, 24, None),
    ("vgg-0.1-lin-batch2", "vgg", "0.1", True, [2, 3, 16, 17], 25, 26, None),
    ("vgg-0.1-lin-zero-norm", "vgg", "0.1", True, [1, 3, 24, 24], 27, 28, [4, 20, 4, 20, "a"]),
    ("vgg-0.0-raw-zero-norm-both", "vgg", "0.0", False, [1, 3, 24, 24], 29, 30, [4, 20, 4, 20, "both"]),
    # SqueezeNet's biases are not zero: no zero norms, but its first pool sees windows of nine
    # equal inputs (exact ties; the gradient goes to the first of them). The region is small
    # enough that no later pool sees a flat window: PyTorch's convolutions round a constant field
    # differently from position to position, so ties there are broken by its rounding.
    ("squeeze-0.1-lin-flat", "squeeze", "0.1", True, [1, 3, 40, 40], 31, 32, [12, 28, 12, 28, "a"]),
]



def case_inputs(name):
    """(net, a, b) of the case called `name`, flat region painted."""
    for n, net, version, lin, shape, sa, sb, flat in CASES:
        if n != name:
            continue
        sa, sb = sa * 2654435761 % 2**32, sb * 2654435761 % 2**32
        a, b = lcg_image(shape, sa), lcg_image(shape, sb)
        if flat:
            y0, y1, x0, x1, where = flat
            colour = np.array(FLAT[version], dtype=np.float32).reshape(1, 3, 1, 1)
            a[:, :, y0:y1, x0:x1] = colour
            if where == "both":
                b[:, :, y0:y1, x0:x1] = colour
        return net, a, b
    raise KeyError(name)
