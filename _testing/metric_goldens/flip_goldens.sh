#!/usr/bin/env bash
# Regenerates _testing/metric_goldens/flip.json from NVIDIA's FLIP tool v1.6 (never committed:
# it lives in the shared test data, LPIPS_TEST_DATA, default ../shared). Run from the repository
# root:
#   _testing/metric_goldens/flip_goldens.sh [WORK_DIR]      (WORK_DIR default /tmp/flip-goldens)
# It builds the unmodified tool (metric-references/flip/build.sh) and flip_dump.cpp (the tool's
# path, dumping the float32 map) into WORK_DIR, writes the case images there as PNG, and runs
# baselines/_flip_goldens.ts (beside the cases it shares with the tests). Nothing is built or
# written inside the repository except flip.json.
set -euo pipefail
data=${LPIPS_TEST_DATA:-../shared}
flip=$(cd "$data/metric-references/flip" && pwd)
work=${1:-/tmp/flip-goldens}
mkdir -p "$work"
[ -x "$work/flip-tool" ] || "$flip/build.sh" "$work/flip-tool"
[ -x "$work/flip-dump" ] ||
  g++ -O2 -std=c++17 -fopenmp -I "$flip" _testing/metric_goldens/flip_dump.cpp -o "$work/flip-dump"
deno run --allow-read --allow-write --allow-run --allow-env \
  baselines/_flip_goldens.ts "$work/flip-tool" "$work/flip-dump" "$work"
deno fmt _testing/metric_goldens/flip.json
