#!/usr/bin/env bash
# LPIPS on a GPU machine without network: conformance on WebGPU, then throughput of the three GPU
# engines, TF.js WebGPU, ONNX Runtime's WebGPU execution provider and PyTorch CUDA, with ONNX
# Runtime on the CPU for scale, in one table (printed, and written as JSON).
#
#   bench/gpu.sh [--out FILE] [--quick] [--allow-fallback] [--nets alex,squeeze,vgg] [--seconds S]
#
# Run it from the repository root of a copy of the working tree that carries .tools/gpu/ (made by
# bench/gpu_prepare.sh on a machine with network). It unpacks Deno, the npm files and the test data
# into a temporary folder, installs the carried Vulkan loader when libvulkan.so.1 is missing (needs
# root), regenerates the random VGG16 stand-in weights with PyTorch (checked against tensors.tsv),
# and runs bench/gpu_bench.ts with --cached-only (no network). `--allow-fallback` accepts a
# software adapter (Mesa's lavapipe) and `--quick` uses small sizes: together they check the
# whole script on a machine without a GPU; their numbers are no GPU speed. Options go to
# bench/gpu_bench.ts (its header lists them). Default output: out/gpu_bench.json.
set -euo pipefail
cd "$(dirname "$0")/.."

T=.tools/gpu
die() { echo "gpu.sh: $*" >&2; exit 1; }
for f in deno.xz npm.tar.xz data.tar.xz; do
  [ -f "$T/$f" ] ||
    die "missing $T/$f: run bench/gpu_prepare.sh on a machine with network, and carry .tools"
done

# xz, or Python's lzma where xz-utils is missing.
unxz_to_stdout() {
  if command -v xz >/dev/null; then
    xz -dc "$1"
  else
    python3 -c 'import lzma, shutil, sys
shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"
  fi
}

work=$(mktemp -d /tmp/lpips-gpu.XXXXXX)
trap 'rm -rf "$work"' EXIT
unxz_to_stdout "$T/deno.xz" >"$work/deno"
chmod +x "$work/deno"
mkdir -p "$work/denodir" "$work/data"
unxz_to_stdout "$T/npm.tar.xz" | tar -C "$work/denodir" -xf -
unxz_to_stdout "$T/data.tar.xz" | tar -C "$work/data" -xf -
echo "deno: $("$work/deno" --version | sed -n 1p)"

# The Vulkan loader: Deno's WebGPU needs libvulkan.so.1; the GPU driver brings its own ICD.
# (grep without -q reads to the end: with pipefail, an early exit would fail ldconfig with SIGPIPE.)
if ! ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null; then
  [ "$(id -u)" = 0 ] || die "libvulkan.so.1 is missing; as root this script unpacks $T/debs/*.deb"
  for f in "$T"/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
  echo "installed the carried Vulkan loader: $(ls "$T"/debs)"
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$nvidia_icd" ] &&
  ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES=$nvidia_icd
  echo "Vulkan driver: $nvidia_icd"
fi

# The first python3 with torch and torchvision (the GPU image's venv, else Debian's).
python=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import torch, torchvision' 2>/dev/null; then
    python=$p
    break
  fi
done

# VGG16 stand-in: torch.manual_seed(0); torchvision.models.vgg16().features, as the reference was
# run with (weights/README.md). Every tensor is checked against the SHA-256 in tensors.tsv.
extra=()
vgg=$work/data/weights/vgg16-random-seed0.pth
if [ -n "$python" ]; then
  "$python" - "$vgg" "$work/data/weights/tensors.tsv" <<'PY' || extra+=(--vgg-unpinned)
import hashlib, sys
import torch, torchvision
out, tsv = sys.argv[1], sys.argv[2]
torch.manual_seed(0)
sd = {f"features.{k}": v for k, v in torchvision.models.vgg16().features.state_dict().items()}
torch.save(sd, out)
pinned = {}
for line in open(tsv):
    cols = line.rstrip("\n").split("\t")
    if cols[0] == "vgg16-random-seed0.pth":
        pinned[cols[1]] = cols[-1]
def sha(v):
    return hashlib.sha256(v.contiguous().numpy().astype("<f4").tobytes()).hexdigest()
bad = [k for k, v in sd.items() if sha(v) != pinned.get(k)]
print(f"vgg16 stand-in regenerated with torch {torch.__version__}: "
      + (f"{len(sd)} tensors match tensors.tsv" if not bad and len(pinned) == len(sd) else
         f"{len(bad)} of {len(sd)} tensors differ from tensors.tsv: vgg conformance cases skipped"))
sys.exit(1 if bad or len(pinned) != len(sd) else 0)
PY
else
  echo "no python3 with torch: no VGG weights, no PyTorch column"
  extra+=(--vgg-unpinned --nets alex,squeeze)
fi

export DENO_DIR=$work/denodir LPIPS_TEST_DATA=$work/data LPIPS_WEIGHTS_DIR=$work/data/weights
export DENO_NO_UPDATE_CHECK=1
if [ -n "$python" ]; then extra+=(--python "$python"); else extra+=(--no-torch); fi
"$work/deno" run --quiet --cached-only --allow-all bench/gpu_bench.ts "${extra[@]}" "$@"
