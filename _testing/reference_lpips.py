"""The reference implementation's `lpips.LPIPS` (PerceptualSimilarity 082bb24, unmodified), importable
offline: unpacks $LPIPS_TEST_DATA/reference-code once and applies its refenv.py shims, as its
setup.sh does, and gives VGG16 the test data's random-weight trunk (no download possible here).
Shared by _testing/gradient_goldens.py and bench/gradient_torch.py. Needs Debian's python3-torch,
python3-torchvision and python3-skimage (/usr/bin/python3).
"""
import os
import subprocess
import sys
import tarfile

_here = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.abspath(os.environ.get("LPIPS_TEST_DATA", os.path.join(_here, "..", "..", "shared")))
REF = os.path.join(SHARED, "reference-code")
WEIGHTS = os.path.join(SHARED, "weights")
CACHE = os.path.expanduser(os.environ.get("REFERENCE_CACHE", "~/.cache/lpips-reference"))

# Unpack the reference and export its trunk weights once, as reference-code/setup.sh does.
if not os.path.exists(os.path.join(CACHE, "src", "train.py")):
    os.makedirs(os.path.join(CACHE, "src"), exist_ok=True)
    with tarfile.open(os.path.join(REF, "PerceptualSimilarity-082bb24.tar.gz")) as t:
        t.extractall(os.path.join(CACHE, "src"))
if not os.path.exists(os.path.join(CACHE, "npy", "alexnet", "features.0.weight.npy")):
    subprocess.run([sys.executable, os.path.join(REF, "export_npy.py"), WEIGHTS, os.path.join(CACHE, "npy")], check=True)
os.environ["LPIPS_REF_SRC"] = os.path.join(CACHE, "src")
os.environ["LPIPS_REF_NPY"] = os.path.join(CACHE, "npy")
sys.path.insert(0, REF)

import refenv  # noqa: E402  (shims; imports the reference's lpips package)
import lpips  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402

torch.set_num_threads(2)
_vgg16 = torchvision.models.vgg16


def vgg16(pretrained=False, **kw):
    """torchvision's VGG16 with the shared random-weight features (no download possible here)."""
    m = _vgg16(weights=None, **kw)
    if pretrained:
        sd = torch.load(os.path.join(WEIGHTS, "vgg16-random-seed0.pth"), map_location="cpu")
        missing = m.load_state_dict(sd, strict=False).missing_keys
        assert not [k for k in missing if k.startswith("features.")], missing
    return m


lpips.pretrained_networks.tv.vgg16 = vgg16


def reference_model(net, version="0.1", lin=True):
    """The reference's LPIPS in eval mode with the test data's weights."""
    return lpips.LPIPS(
        net=net, version=version, lpips=lin, verbose=False,
        model_path=os.path.join(WEIGHTS, "lpips", "v" + version, net + ".pth"),
    )
