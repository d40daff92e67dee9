#!/usr/bin/env bash
# On the GPU machine: configure and build the CUDA backend and its tests, run them, run the PyTorch
# anchors (what a user would pick instead of qrt) in the same job, and print a short summary last.
#
# Usage: scripts/gpu-bench.sh [DEPS_DIR]
#   DEPS_DIR            headers + flatc made by scripts/make-deps.sh (default: .deps at the repo root)
#   QRT_BUILD_DIR       build folder (default: build-gpu at the repo root)
#   QRT_RESULTS_DIR     where logs and gpu_anchor.json go (default: the build folder)
#   QRT_ANCHORS_DIR     folder holding gpu_anchor.py (default: shared/anchors inside the repository,
#                       else ../shared/anchors beside it)
#   QRT_SKIP_ANCHORS=1  skip the anchors (they take a few minutes)
# Exits non-zero when the build or a CUDA test fails (the anchors and the summary still run).
set -uo pipefail
QRT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$QRT_ROOT/scripts/common.sh"

DEPS_DIR="${1:-$QRT_ROOT/.deps}"
if [ ! -d "$DEPS_DIR" ]; then
  echo "gpu-bench: dependency folder '$DEPS_DIR' not found (run scripts/make-deps.sh where the" \
    "packages are installed and carry the folder)" >&2
  exit 2
fi
DEPS_DIR="$(cd "$DEPS_DIR" && pwd)"  # CMake resolves relative cache paths against its own cwd
BUILD_DIR="${QRT_BUILD_DIR:-$QRT_ROOT/build-gpu}"
RESULTS_DIR="${QRT_RESULTS_DIR:-$BUILD_DIR}"
mkdir -p "$BUILD_DIR" "$RESULTS_DIR"
JOBS="$(nproc)"

status_build="not run"
status_tests="not run"
status_anchors="not run"
exit_code=0

echo "== configure + build (deps: $DEPS_DIR)"
if qrt_configure "$BUILD_DIR" -DQRT_DEPS_DIR="$DEPS_DIR" -DQRT_BUILD_TESTS=ON \
  >"$RESULTS_DIR/configure.log" 2>&1 &&
  cmake --build "$BUILD_DIR" -j"$JOBS" --target qrt_cuda_tests >"$RESULTS_DIR/build.log" 2>&1; then
  status_build="ok"
  grep -i "warning" "$RESULTS_DIR/build.log" | head -20
else
  status_build="FAILED (see $RESULTS_DIR/configure.log, build.log)"
  tail -40 "$RESULTS_DIR/configure.log" "$RESULTS_DIR/build.log" 2>/dev/null
  exit_code=1
fi

if [ "$status_build" = "ok" ]; then
  echo "== CUDA tests"
  # -V shows each test's MESSAGE lines (device summary, or why a part was skipped).
  (cd "$BUILD_DIR" && ctest -L cuda -V --timeout 300) >"$RESULTS_DIR/ctest.log" 2>&1
  ctest_rc=$?
  grep -E "MESSAGE|SKIPPED|test cases|tests passed|Failed|FAILED|ERROR" "$RESULTS_DIR/ctest.log"
  status_tests="$(grep -E "tests passed" "$RESULTS_DIR/ctest.log" | tail -1)"
  if [ "$ctest_rc" -ne 0 ]; then
    status_tests="FAILED: $status_tests (see $RESULTS_DIR/ctest.log)"
    exit_code=1
  fi
fi

anchors_dir="${QRT_ANCHORS_DIR:-}"
if [ -z "$anchors_dir" ]; then
  for candidate in "$QRT_ROOT/shared/anchors" "$QRT_ROOT/../shared/anchors"; do
    if [ -f "$candidate/gpu_anchor.py" ]; then anchors_dir="$candidate"; break; fi
  done
fi
if [ "${QRT_SKIP_ANCHORS:-0}" = "1" ]; then
  status_anchors="skipped (QRT_SKIP_ANCHORS=1)"
elif [ -z "$anchors_dir" ] || [ ! -f "$anchors_dir/gpu_anchor.py" ]; then
  status_anchors="skipped (no gpu_anchor.py in shared/anchors or ../shared/anchors)"
else
  echo "== anchors: $anchors_dir/gpu_anchor.py"
  if PYTHONUNBUFFERED=1 python3 "$anchors_dir/gpu_anchor.py" "$RESULTS_DIR" \
    >"$RESULTS_DIR/gpu_anchor.log" 2>&1; then
    status_anchors="ok ($RESULTS_DIR/gpu_anchor.json)"
  else
    status_anchors="FAILED (see $RESULTS_DIR/gpu_anchor.log)"
    tail -20 "$RESULTS_DIR/gpu_anchor.log"
  fi
fi

echo
echo "== summary"
echo "device:  $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  2>/dev/null || echo 'nvidia-smi unavailable')"
echo "nvcc:    $(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*' || echo 'not found')"
echo "cmake:   $(cmake --version | head -1)"
echo "build:   $status_build"
echo "tests:   $status_tests"
echo "anchors: $status_anchors"
if [ -f "$RESULTS_DIR/gpu_anchor.json" ]; then
  python3 - "$RESULTS_DIR/gpu_anchor.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"  {r['device']}, torch {r['torch']}")
print(f"  HBM copy (read + write)        {r['copy_TBps_rw']:.2f} TB/s")
for g in r.get("gemm", []):
    if g["M"] in (1, 8192) and g["N"] == g["K"] == 8192:
        print(f"  GEMM M={g['M']:<5} N=K=8192      fp16 {g['fp16_ms']:.3f} ms ({g['fp16_TFLOPs']:.0f} TFLOP/s)"
              f", int8 {g['int8_ms']:.3f} ms ({g['int8_TOPs']:.0f} TOP/s)")
for l in r.get("lstm", []):
    if l["B"] == 1 and l["H"] == 128:
        print(f"  LSTM B=1 T=96 H=128 L=2 {l['dtype']:<14} {l['ms']:.3f} ms")
for f in r.get("forecaster_b1", []):
    print(f"  forecaster B=1 {f['dtype']:<14} eager {f['eager_ms']:.3f} ms, CUDA graph {f['graph_ms']:.3f} ms")
PY
fi
exit "$exit_code"
