#!/usr/bin/env bash
# On the GPU machine: configure and build the CUDA backend, its tests and qrt_bench_cuda; run the
# CUDA tests, then the small-shape tests under compute-sanitizer (memcheck; racecheck for the
# shared-memory pipeline of the int8 GEMM); run qrt_bench_cuda (kernels, then the anchor's own
# forecaster end to end through a CUDA Session) and the PyTorch anchors (what a user would pick
# instead of qrt) in the same job; print a summary with same-run ratios last.
#
# Usage: scripts/gpu-bench.sh [DEPS_DIR]
#   DEPS_DIR              headers + flatc made by scripts/make-deps.sh (default: .deps at the repo
#                         root)
#   QRT_BUILD_DIR         build folder (default: build-gpu at the repo root)
#   QRT_RESULTS_DIR       where logs and JSON go (default: the build folder)
#   QRT_ANCHORS_DIR       folder holding gpu_anchor.py (default: shared/anchors inside the
#                         repository, else ../shared/anchors beside it)
#   QRT_SKIP_ANCHORS=1    skip the full anchors (they take a few minutes); the short same-shape
#                         anchor below still runs unless QRT_SKIP_SHAPE_ANCHOR=1
#   QRT_SKIP_SANITIZER=1  skip the compute-sanitizer runs
#   QRT_SKIP_BENCH=1      skip qrt_bench_cuda
#   QRT_BENCH_WHICH       qrt_bench_cuda argument: gemm, lstm or all (default all)
#   QRT_SKIP_MODEL=1      skip the whole-model benchmark (the anchor's forecaster exported from
#                         gpu_anchor.py, run through a CUDA Session in every precision)
#   QRT_SKIP_FORECAST=1   skip the forecasting sample on the GPU (its CPU-vs-GPU test, then
#                         `forecast --device cuda` on every precision but the QAT rows)
# Exits non-zero when the build, a CUDA test, a sanitizer run or the benchmark fails (the anchors
# and the summary still run).
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
status_sanitizer="not run"
status_bench="not run"
status_anchors="not run"
status_shape_anchor="not run"
status_model="not run"
status_forecast="not run"
exit_code=0

anchors_dir="${QRT_ANCHORS_DIR:-}"
if [ -z "$anchors_dir" ]; then
  for candidate in "$QRT_ROOT/shared/anchors" "$QRT_ROOT/../shared/anchors"; do
    if [ -f "$candidate/gpu_anchor.py" ]; then anchors_dir="$candidate"; break; fi
  done
fi

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

  # compute-sanitizer: QRT_CUDA_SANITIZE=1 makes the GEMM tests keep only their small shapes
  # (every tail path still runs; checked accesses are far slower).
  sanitizer="$(command -v compute-sanitizer || true)"
  [ -z "$sanitizer" ] && [ -x /usr/local/cuda/bin/compute-sanitizer ] &&
    sanitizer=/usr/local/cuda/bin/compute-sanitizer
  if [ "${QRT_SKIP_SANITIZER:-0}" = "1" ]; then
    status_sanitizer="skipped (QRT_SKIP_SANITIZER=1)"
  elif [ -z "$sanitizer" ]; then
    status_sanitizer="skipped (compute-sanitizer not found)"
  else
    echo "== compute-sanitizer"
    status_sanitizer="ok"
    : >"$RESULTS_DIR/sanitizer.log"
    # "tool test [doctest test-case filter]": racecheck (much slower) runs one case per kernel.
    for run in "memcheck test_cuda_quantize_rows *" "memcheck test_cuda_gemm_int8 *" \
      "memcheck test_cuda_weight_only *" "racecheck test_cuda_gemm_int8 s32 output*" \
      "racecheck test_cuda_weight_only W8A16*"; do
      read -r tool test_name filter <<<"$run"
      test_binary="$BUILD_DIR/tests/cuda/$test_name"
      [ -x "$test_binary" ] || continue
      echo "-- $tool $test_name ($filter)" | tee -a "$RESULTS_DIR/sanitizer.log"
      if ! (cd "$QRT_ROOT" && QRT_CUDA_SANITIZE=1 timeout 600 "$sanitizer" --tool "$tool" \
        --error-exitcode 3 "$test_binary" --test-case="$filter") \
        >>"$RESULTS_DIR/sanitizer.log" 2>&1; then
        status_sanitizer="FAILED: $tool $test_name (see $RESULTS_DIR/sanitizer.log)"
        exit_code=1
      fi
    done
    grep -E "ERROR SUMMARY|^-- " "$RESULTS_DIR/sanitizer.log"
  fi

  if [ "${QRT_SKIP_BENCH:-0}" = "1" ]; then
    status_bench="skipped (QRT_SKIP_BENCH=1)"
  else
    echo "== qrt_bench_cuda ${QRT_BENCH_WHICH:-all}"
    # Built separately so that a benchmark that does not compile still leaves the tests' results.
    if ! cmake --build "$BUILD_DIR" -j"$JOBS" --target qrt_bench_cuda \
      >"$RESULTS_DIR/build_bench.log" 2>&1; then
      status_bench="build FAILED (see $RESULTS_DIR/build_bench.log)"
      tail -20 "$RESULTS_DIR/build_bench.log"
      exit_code=1
    elif "$BUILD_DIR/tools/bench/qrt_bench_cuda" "${QRT_BENCH_WHICH:-all}" \
      >"$RESULTS_DIR/bench_cuda.log" 2>&1; then
      status_bench="ok ($RESULTS_DIR/bench_cuda.log)"
    else
      status_bench="FAILED (see $RESULTS_DIR/bench_cuda.log)"
      exit_code=1
    fi
    [ -f "$RESULTS_DIR/bench_cuda.log" ] && cat "$RESULTS_DIR/bench_cuda.log"
  fi

  # The anchor's forecaster (gpu_anchor.py's class F, exported with qrt's PyTorch exporter; flatc
  # and the flatbuffers Python package come from the deps folder) through a CUDA Session in every
  # precision, batch 1 and 32: compared below with PyTorch's CUDA graph of the same network.
  if [ "${QRT_SKIP_MODEL:-0}" = "1" ]; then
    status_model="skipped (QRT_SKIP_MODEL=1)"
  elif [ -z "$anchors_dir" ]; then
    status_model="skipped (no gpu_anchor.py to export the forecaster from)"
  elif [ ! -x "$BUILD_DIR/tools/bench/qrt_bench_cuda" ]; then
    status_model="skipped (qrt_bench_cuda not built)"
  else
    echo "== whole model: the anchor's forecaster through a CUDA Session"
    if PYTHONPATH="$DEPS_DIR/python${PYTHONPATH:+:$PYTHONPATH}" QRT_FLATC="$DEPS_DIR/bin/flatc" \
      python3 "$QRT_ROOT/tools/bench/export_anchor_forecaster.py" "$anchors_dir/gpu_anchor.py" \
      "$RESULTS_DIR/anchor_forecaster.qrt" >"$RESULTS_DIR/bench_model.log" 2>&1 &&
      "$BUILD_DIR/tools/bench/qrt_bench_cuda" model "$RESULTS_DIR/anchor_forecaster.qrt" 1,32 \
        >>"$RESULTS_DIR/bench_model.log" 2>&1; then
      status_model="ok ($RESULTS_DIR/bench_model.log)"
    else
      status_model="FAILED (see $RESULTS_DIR/bench_model.log)"
      exit_code=1
    fi
    cat "$RESULTS_DIR/bench_model.log"
  fi

  # The committed ETTh1 forecaster on the GPU: every precision's CUDA session against its CPU
  # session (test_forecasting_sample), then the demo's table with GPU latencies (the QAT rows
  # fine-tune on the CPU for minutes and add nothing GPU-specific, so they are left out here).
  if [ "${QRT_SKIP_FORECAST:-0}" = "1" ]; then
    status_forecast="skipped (QRT_SKIP_FORECAST=1)"
  else
    echo "== forecasting sample on the GPU"
    forecast_on_gpu() {  # each row comes with the fp32 row (whose Linears run on the CPU)
      for precision in fp16 w8a16 dynamic static nf4; do
        "$BUILD_DIR/samples/forecast" --model "$1/forecaster.qrt" --data "$1/data/ETTh1.csv" \
          --device cuda --precision "$precision" --json "$RESULTS_DIR/forecast_$precision.json" ||
          return 1
      done
    }
    sample="$QRT_ROOT/samples/forecasting"
    if cmake --build "$BUILD_DIR" -j"$JOBS" --target forecast test_forecasting_sample \
      >"$RESULTS_DIR/build_forecast.log" 2>&1 &&
      (cd "$QRT_ROOT" && "$BUILD_DIR/samples/test_forecasting_sample" --test-case="*GPU*") \
        >"$RESULTS_DIR/forecast.log" 2>&1 &&
      forecast_on_gpu "$sample" >>"$RESULTS_DIR/forecast.log" 2>&1; then
      status_forecast="ok ($RESULTS_DIR/forecast.log)"
    else
      status_forecast="FAILED (see $RESULTS_DIR/forecast.log, build_forecast.log)"
      exit_code=1
    fi
    cat "$RESULTS_DIR/forecast.log"
  fi
fi

# The anchor at exactly the benchmark's shapes: cuBLASLt int8 TN (torch._int_mm with the weight
# given as [N, K], K contiguous, transposed: the layout it prefers) and cuBLAS FP16, weights rotated
# past the L2 like qrt_bench_cuda does, CUDA events, median.
if [ "${QRT_SKIP_SHAPE_ANCHOR:-0}" = "1" ]; then
  status_shape_anchor="skipped (QRT_SKIP_SHAPE_ANCHOR=1)"
else
  echo "== same-shape anchor (torch._int_mm TN, cuBLAS FP16, cuDNN LSTM)"
  if PYTHONUNBUFFERED=1 python3 - "$RESULTS_DIR/same_shape_anchor.json" \
    >"$RESULTS_DIR/same_shape_anchor.log" 2>&1 <<'PY'; then
import json, sys, torch
def median_ms(fn, iters=30, warm=10):
    for _ in range(warm): fn()
    torch.cuda.synchronize(); ts = []
    for _ in range(iters):
        s = torch.cuda.Event(enable_timing=True); e = torch.cuda.Event(enable_timing=True)
        s.record(); fn(); e.record(); torch.cuda.synchronize(); ts.append(s.elapsed_time(e))
    ts.sort(); return ts[len(ts) // 2]
rot = 120 << 20
res = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "int8_tn": [], "fp16": []}
for (N, K) in [(4096, 4096), (8192, 8192)]:
    sets = max(1, -(-rot // (N * K)))
    W8 = [torch.randint(-127, 127, (N, K), device="cuda", dtype=torch.int8) for _ in range(sets)]
    for M in [1024, 2048, 4096, 8192]:
        X = torch.randint(-127, 127, (M, K), device="cuda", dtype=torch.int8)
        i = [0]
        def f():
            i[0] = (i[0] + 1) % sets; return torch._int_mm(X, W8[i[0]].t())
        t = median_ms(f)
        res["int8_tn"].append(dict(M=M, N=N, K=K, ms=t, TOPs=2 * M * N * K / t / 1e9)); print(res["int8_tn"][-1])
    del W8
for (N, K) in [(8192, 8192), (4096, 4096), (256, 256), (512, 512)]:
    sets = max(1, -(-rot // (2 * N * K)))
    W16 = [torch.randn(N, K, device="cuda", dtype=torch.float16) for _ in range(sets)]
    for M in [1, 16]:
        X = torch.randn(M, K, device="cuda", dtype=torch.float16)
        i = [0]
        def g():
            i[0] = (i[0] + 1) % sets; return torch.nn.functional.linear(X, W16[i[0]])
        t = median_ms(g)
        res["fp16"].append(dict(M=M, N=N, K=K, us=t * 1e3)); print(res["fp16"][-1])
    del W16
# cuDNN LSTM at the LSTM benchmark's shapes (gpu_anchor.py has H=128, 512, 1024 only).
res["lstm"] = []
for (B, H) in [(1, 128), (1, 256), (32, 256)]:
    for dt in [torch.float16, torch.float32]:
        m = torch.nn.LSTM(7, H, 2, batch_first=True).to("cuda", dt)
        x = torch.randn(B, 96, 7, device="cuda", dtype=dt)
        with torch.no_grad():
            t = median_ms(lambda: m(x))
        res["lstm"].append(dict(B=B, T=96, I=7, H=H, L=2, dtype=str(dt), ms=t)); print(res["lstm"][-1])
json.dump(res, open(sys.argv[1], "w"), indent=1)
PY
    status_shape_anchor="ok ($RESULTS_DIR/same_shape_anchor.json)"
  else
    status_shape_anchor="FAILED (see $RESULTS_DIR/same_shape_anchor.log)"
    tail -20 "$RESULTS_DIR/same_shape_anchor.log"
  fi
fi

if [ "${QRT_SKIP_ANCHORS:-0}" = "1" ]; then
  status_anchors="skipped (QRT_SKIP_ANCHORS=1)"
elif [ -z "$anchors_dir" ] || [ ! -f "$anchors_dir/gpu_anchor.py" ]; then
  status_anchors="skipped (no gpu_anchor.py in shared/anchors or ../shared/anchors)"
else
  echo "== anchors: $anchors_dir/gpu_anchor.py, gpu_anchor2.py"
  status_anchors="ok ($RESULTS_DIR/gpu_anchor.json)"
  for script in gpu_anchor.py gpu_anchor2.py; do
    [ -f "$anchors_dir/$script" ] || continue
    if ! PYTHONUNBUFFERED=1 python3 "$anchors_dir/$script" "$RESULTS_DIR" \
      >"$RESULTS_DIR/${script%.py}.log" 2>&1; then
      status_anchors="FAILED (see $RESULTS_DIR/${script%.py}.log)"
      tail -20 "$RESULTS_DIR/${script%.py}.log"
    fi
  done
fi

echo
echo "== summary"
echo "device:    $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  2>/dev/null || echo 'nvidia-smi unavailable')"
echo "nvcc:      $(nvcc --version 2>/dev/null | grep -o 'release [0-9.]*' || echo 'not found')"
echo "cmake:     $(cmake --version | head -1)"
echo "build:     $status_build"
echo "tests:     $status_tests"
echo "sanitizer: $status_sanitizer"
echo "bench:     $status_bench"
echo "model:     $status_model"
echo "forecast:  $status_forecast"
echo "anchor:    $status_shape_anchor (same shapes)"
echo "anchors:   $status_anchors"
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
# Same-run ratios: qrt_bench_cuda's rows against the same-shape anchor.
if [ -f "$RESULTS_DIR/bench_cuda.log" ] && [ -f "$RESULTS_DIR/same_shape_anchor.json" ]; then
  python3 - "$RESULTS_DIR/bench_cuda.log" "$RESULTS_DIR/same_shape_anchor.json" <<'PY'
import json, re, sys
log = open(sys.argv[1]).read().splitlines()
anchor = json.load(open(sys.argv[2]))
tn = {(a["M"], a["N"], a["K"]): a["TOPs"] for a in anchor["int8_tn"]}
fp16 = {(a["M"], a["N"], a["K"]): a["us"] for a in anchor["fp16"]}
gemm_row = re.compile(r"^(\d+)x(\d+)x(\d+)\s+(\S+)\s+(\S+)\s+([\d.]+)\s+([\d.]+)")
wo_row = re.compile(r"^(nf4|w8a16)\s+(\d+)\s+(\d+)x(\d+)\s+([\d.]+)\s+([\d.]+)")
best = {}
for line in log:
    m = gemm_row.match(line)
    if m and m.group(5) == "scales+bias->f16":
        key = tuple(int(m.group(i)) for i in (1, 2, 3))
        tops = float(m.group(7))
        if key not in best or tops > best[key][1]:
            best[key] = (m.group(4), tops, "(auto)" in line)
print("  int8 GEMM + epilogue (best config) vs cuBLASLt int8 TN without one (target >= 1.0x):")
for key, (config, tops, _) in sorted(best.items()):
    a = tn.get(key)
    ratio = f"{tops / a:.2f}x" if a else "-"
    print(f"    {key[0]}x{key[1]}x{key[2]:<6} {config:<22} {tops:7.1f} TOP/s  anchor {a or 0:7.1f}  {ratio}")
print("  weight-only vs cuBLAS FP16 (targets at 8192^2: NF4 M=1 >= 4x, M=16 >= 3x; W8A16 M=1 >= 1.8x):")
for line in log:
    m = wo_row.match(line)
    if not m:
        continue
    M, N, K = int(m.group(2)), int(m.group(3)), int(m.group(4))
    us = float(m.group(5))
    a = fp16.get((M, N, K))
    ratio = f"{a / us:.2f}x" if a else "-"
    print(f"    {m.group(1):<6} M={M:<3} {N}x{K:<6} {us:9.2f} us  fp16 {a or 0:8.2f} us  {ratio}")
lstm_anchor = {(a["B"], a["H"]): a["ms"] for a in anchor.get("lstm", []) if a["dtype"] == "torch.float16"}
lstm_row = re.compile(r"^LSTM B=(\d+)\s+T=96 C=7 H=(\d+)\s+L=2 (\S+)\s+cluster (\S+)(?: \(auto\))?\s+([\d.]+) ms")
print("  persistent LSTM T=96 C=7 L=2 vs cuDNN FP16 (target: int8 at B=1 H=256 >= 5x):")
for line in log:
    m = lstm_row.match(line)
    if not m:
        continue
    B, H, ms = int(m.group(1)), int(m.group(2)), float(m.group(5))
    a = lstm_anchor.get((B, H))
    ratio = f"{a / ms:.2f}x" if a else "-"
    auto = " (auto)" if "(auto)" in line else ""
    print(f"    B={B:<3} H={H:<4} {m.group(3):<13} cluster {m.group(4)}{auto:<7} {ms:8.4f} ms  cuDNN fp16 {a or 0:7.4f} ms  {ratio}")
PY
fi
# The whole model against PyTorch's CUDA graph of the same network (gpu_anchor.json).
if [ -f "$RESULTS_DIR/bench_model.log" ] && [ -f "$RESULTS_DIR/gpu_anchor.json" ]; then
  python3 - "$RESULTS_DIR/bench_model.log" "$RESULTS_DIR/gpu_anchor.json" <<'PY'
import json, sys
rows = [l.split("|") for l in open(sys.argv[1]) if l.startswith("| ") and not l.startswith("| batch")]
graph_ms = {f["dtype"]: f["graph_ms"] for f in json.load(open(sys.argv[2])).get("forecaster_b1", [])}
fp16 = graph_ms.get("torch.float16")
print(f"  forecaster B=1 vs PyTorch FP16 CUDA graph {fp16 or 0:.4f} ms (target >= 5x):")
for r in rows:
    batch, variant, ms = int(r[1]), r[2].strip(), float(r[3])
    if batch == 1:
        ratio = f"{fp16 / ms:.2f}x" if fp16 else "-"
        print(f"    {variant:<30} {ms:8.4f} ms  {ratio}  ({r[8].strip()}; graph replay {r[7].strip()})")
PY
fi
exit "$exit_code"
