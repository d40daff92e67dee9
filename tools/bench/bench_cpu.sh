#!/usr/bin/env bash
# Runs qrt_bench_cpu and the PyTorch CPU anchor in the same session so their numbers sit side by
# side (same machine, same load).
#   tools/bench/bench_cpu.sh PATH/TO/cpu_anchor.py [BUILD_DIR]
# 1. exports the anchor's own forecaster (its `class F`, torch.manual_seed(0)) with the exporter
#    into a temporary folder (tools/bench/export_anchor_forecaster.py);
# 2. qrt_bench_cpu --threads 2: Linear 4096x4096 (f32, int8, NF4) and that forecaster at B = 1 and
#    32 in fp32 and dynamic int8 (every layer; first and last kept in fp16);
# 3. the anchor, run where it lies (not copied), writing cpu_anchor.json into the temporary folder;
# 4. both side by side with ratios.
# Uses /usr/bin/python3, the interpreter with torch installed.
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 PATH/TO/cpu_anchor.py [BUILD_DIR]" >&2
  exit 2
fi
anchor="$1"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
build="${2:-$repo/build}"
bench="$build/tools/bench/qrt_bench_cpu"
if [[ ! -f "$anchor" ]]; then
  echo "$0: anchor script not found: $anchor" >&2
  exit 2
fi
if [[ ! -x "$bench" ]]; then
  echo "$0: $bench not built (cmake --build $build --target qrt_bench_cpu)" >&2
  exit 2
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "== export the anchor's forecaster =="
/usr/bin/python3 "$repo/tools/bench/export_anchor_forecaster.py" "$anchor" "$out/anchor_forecaster.qrt"

echo
echo "== qrt ($(uname -m), $(nproc) cores) =="
"$bench" --threads 2 --model "$out/anchor_forecaster.qrt" --batches 1,32 --json "$out/qrt.json"

echo
echo "== PyTorch anchor (torch.set_num_threads(2)) =="
# qnnpack's dynamic Linear logs one "ignores reduce_range" warning per call (after a glog banner);
# drop those lines only.
/usr/bin/python3 "$anchor" "$out" 2> >(grep -v -e "incorrectly ignores reduce_range" \
  -e "Logging before InitGoogleLogging" >&2)

echo
/usr/bin/python3 "$repo/tools/bench/side_by_side.py" "$out/qrt.json" "$out/cpu_anchor.json"
