#!/usr/bin/env bash
# Prepares .tools/gpu/ (git-ignored) so that bench/gpu.sh runs on a GPU machine WITHOUT network:
# a copy of the working tree plus this folder is all it needs (carried files: 64 MiB at most).
#
#   bench/gpu_prepare.sh            # here, with npm reachable and LPIPS_TEST_DATA (or ../shared)
#
# What it writes, each xz-compressed (xz or Python's lzma unpacks it there):
#   deno.xz       the Deno binary that `npx -y deno@2.9.6` runs (about 96 MB, 30 MB packed)
#   npm.tar.xz    a DENO_DIR holding only the npm files the GPU run reads (traced with strace
#                 while a tiny run of bench/gpu_bench.ts --touch goes through every code path):
#                 the TF.js node bundles, fast-png/jpeg-js, onnxruntime-node's Linux x64 binary
#                 (libonnxruntime.so.1 is 46 MB of the total) and nothing else
#   data.tar.xz   alex and squeeze trunks, the linear heads, tensors.tsv, and the inputs and golden
#                 values of the lpips cases of reference/cases.json, with the full distance maps
#                 (*.spatial.npy) but not the per-layer maps (*_layers.npy, 15 MB): those are
#                 checked through cases.json's per-layer means and samples. The random VGG16
#                 stand-in (59 MB, incompressible) is NOT carried: gpu.sh regenerates it with
#                 PyTorch from its recipe and checks it against tensors.tsv
#   debs/         the Vulkan loader (libvulkan1), unpacked there when the machine lacks one
# Then it checks the carried total against 64 MiB and runs bench/gpu.sh --touch from the packed
# files (network-free: --cached-only) to prove they are complete.
set -euo pipefail
cd "$(dirname "$0")/.."

DENO_VERSION=2.9.6
DEST=.tools/gpu
DATA=${LPIPS_TEST_DATA:-../shared}
LIMIT=$((64 * 1024 * 1024))

die() { echo "gpu_prepare: $*" >&2; exit 1; }
[ -f "$DATA/reference/cases.json" ] || die "no test data at $DATA: set LPIPS_TEST_DATA"
command -v strace >/dev/null || die "strace is needed to find the npm files the run reads"
command -v xz >/dev/null || die "xz is needed (Debian: xz-utils)"

deno_bin=$(npx -y "deno@$DENO_VERSION" eval 'console.log(Deno.execPath())')
deno_dir=$("$deno_bin" info --json | "$deno_bin" eval \
  'const j = JSON.parse(await new Response(Deno.stdin.readable).text()); console.log(j.denoDir)')
[ -d "$deno_dir/npm" ] || die "no npm cache under $deno_dir"

tmp=$(mktemp -d /tmp/lpips-gpu-prepare.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# Keep a packed Deno of the same version (packing it takes minutes); redo everything else.
if [ "$(cat "$DEST/deno.version" 2>/dev/null)" != "$DENO_VERSION" ]; then rm -rf "$DEST"; fi
rm -rf "$DEST/debs" "$DEST/npm.tar.xz" "$DEST/data.tar.xz"
mkdir -p "$DEST/debs"

echo "deno $DENO_VERSION: $deno_bin"
if [ ! -f "$DEST/deno.xz" ]; then
  xz -9 -T2 -c "$deno_bin" >"$DEST/deno.xz.tmp"
  mv "$DEST/deno.xz.tmp" "$DEST/deno.xz"
  echo "$DENO_VERSION" >"$DEST/deno.version"
fi

echo "tracing the npm files a --touch run reads (software WebGPU is fine here)..."
"$deno_bin" cache bench/gpu_bench.ts >/dev/null 2>&1 || die "deno cache bench/gpu_bench.ts failed"
LPIPS_TEST_DATA=$DATA strace -f -e trace=openat,open -o "$tmp/trace" \
  "$deno_bin" run -A bench/gpu_bench.ts --touch --allow-fallback --no-torch \
  --out "$tmp/touch.json" >"$tmp/touch.log" 2>&1 || {
  cat "$tmp/touch.log" >&2
  die "the traced --touch run failed"
}
mkdir -p "$tmp/denodir"
keep() { # keep FILE (relative to the DENO_DIR) in the packed copy
  if [ -f "$deno_dir/$1" ] && [ ! -f "$tmp/denodir/$1" ]; then
    mkdir -p "$tmp/denodir/$(dirname "$1")"
    cp -p "$deno_dir/$1" "$tmp/denodir/$1"
  fi
}
grep -o "\"$deno_dir/npm/[^\"]*\"" "$tmp/trace" | tr -d '"' | sort -u | while read -r f; do
  if [ -f "$f" ]; then keep "${f#"$deno_dir"/}"; fi
done
# Deno wants every package of the module graph in its cache at start-up, also those only behind
# a dynamic import the run never takes (the wasm backend): their manifest and registry entry.
"$deno_bin" info --json bench/gpu_bench.ts | "$deno_bin" eval '
  const info = JSON.parse(await new Response(Deno.stdin.readable).text());
  for (const p of Object.values(info.npmPackages)) console.log(p.localPath);
' | sort -u | while read -r dir; do
  rel=${dir#"$deno_dir"/}
  keep "$rel/package.json"
  keep "$(dirname "$rel")/registry.json"
done
tar -C "$tmp/denodir" -cf - npm | xz -9 -T2 >"$DEST/npm.tar.xz"

echo "weights and conformance data from $DATA..."
"$deno_bin" eval '
  const c = JSON.parse(Deno.readTextFileSync(Deno.args[0] + "/reference/cases.json"));
  const files = new Set(["reference/cases.json", "weights/tensors.tsv",
    "weights/alexnet-owt-7be5be79.pth", "weights/squeezenet1_1-b8a52dc0.pth"]);
  for (const v of ["v0.0", "v0.1"]) for (const n of ["alex", "squeeze", "vgg"]) {
    files.add(`weights/lpips/${v}/${n}.pth`);
  }
  for (const x of c.cases.filter((x) => x.type === "lpips")) {
    files.add(x.inputs.in0.file);
    files.add(x.inputs.in1.file);
    if (x.expected.map_npy) files.add(x.expected.map_npy);
  }
  console.log([...files].sort().join("\n"));
' "$DATA" >"$tmp/data_files"
tar -C "$DATA" -cf - -T "$tmp/data_files" | xz -9 -T2 >"$DEST/data.tar.xz"

echo "Vulkan loader .deb..."
(cd "$DEST/debs" && apt-get download libvulkan1 >/dev/null 2>&1) ||
  die "apt-get download libvulkan1 failed (run apt-get update?)"

# What travels: the tracked and untracked-not-ignored files, plus this folder.
tree_bytes=$(git ls-files -z --cached --others --exclude-standard |
  xargs -0 stat -c %s 2>/dev/null | awk '{s += $1} END {print s + 0}')
tools_bytes=$(find "$DEST" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
echo
(cd "$DEST" && find . -type f -printf '%s\t%p\n' | sort -n |
  awk -F'\t' '{printf "  %6.1f MiB  %s\n", $1 / 1048576, $2}')
total=$((tree_bytes + tools_bytes))
awk -v t="$tree_bytes" -v o="$tools_bytes" -v l="$LIMIT" 'BEGIN {
  printf "carried: working tree %.1f MiB + .tools/gpu %.1f MiB = %.1f MiB of %.0f MiB\n",
    t / 1048576, o / 1048576, (t + o) / 1048576, l / 1048576 }'
[ "$total" -le "$LIMIT" ] || die "over the 64 MiB limit"

echo "checking the packed files with bench/gpu.sh --touch (no network, --cached-only)..."
bench/gpu.sh --touch --allow-fallback --out "$tmp/check.json" >"$tmp/check.log" 2>&1 || {
  cat "$tmp/check.log" >&2
  die "the packed files do not run"
}
grep -E "^(WebGPU adapter|conformance)" "$tmp/check.log"
echo "ready: carry .tools (e.g. the device tool's carry: [\".tools\"]) and run bench/gpu.sh"
