#!/usr/bin/env bash
# Runs qrt_bench_cpu and the PyTorch CPU anchor in the same session so their numbers sit side by
# side (same machine, same load).
#   tools/bench/bench_cpu.sh PATH/TO/cpu_anchor.py [BUILD_DIR]
# The anchor is run where it lies (not copied); it writes cpu_anchor.json into a temporary folder.
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

echo "== qrt ($(uname -m), $(nproc) cores) =="
"$bench" --threads 2

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo
echo "== PyTorch anchor (torch.set_num_threads(2)) =="
/usr/bin/python3 "$anchor" "$out"
echo
echo "== PyTorch Linear 4096x4096 (fp32 vs dynamic int8), ms =="
/usr/bin/python3 - "$out/cpu_anchor.json" <<'PY'
import json, sys
rows = [r for r in json.load(open(sys.argv[1])) if r["model"].startswith("linear")]
print("| engine | M | fp32 ms | int8 dyn ms | fp32/int8 |")
print("|---|---|---|---|---|")
for r in rows:
    print(f"| {r['engine']} | {r['B']} | {r['fp32_ms']:.3f} | {r['int8dyn_ms']:.3f} | {r['fp32_ms'] / r['int8dyn_ms']:.2f} |")
PY
