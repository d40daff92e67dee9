#!/usr/bin/env bash
# Demo: builds the `forecast` sample and evaluates the committed ETTh1 forecaster on the test split.
# For a fresh Debian machine (run as root, or with sudo available): installs the missing build
# packages, builds Release, then writes out/forecast.json and out/forecast.svg. Uses the GPU when
# `nvidia-smi -L` lists one. No Python is needed: the model file is committed.
set -euo pipefail
QRT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$QRT_ROOT/scripts/common.sh"

qrt_install_packages cmake g++ make libflatbuffers-dev flatbuffers-compiler libxtensor-dev doctest-dev

BUILD_DIR="${QRT_BUILD_DIR:-$QRT_ROOT/build}"
OUT_DIR="$QRT_ROOT/out"
qrt_configure "$BUILD_DIR"
cmake --build "$BUILD_DIR" -j"$(nproc)" --target forecast

DEVICE=cpu
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  DEVICE=cuda
fi

mkdir -p "$OUT_DIR"
SAMPLE="$QRT_ROOT/samples/forecasting"
"$BUILD_DIR/samples/forecast" \
  --model "$SAMPLE/forecaster.qrt" \
  --data "$SAMPLE/data/ETTh1.csv" \
  --lookback 96 --horizon 96 \
  --device "$DEVICE" \
  --json "$OUT_DIR/forecast.json" \
  --plot "$OUT_DIR/forecast.svg"
echo "demo: results in $OUT_DIR/forecast.json and $OUT_DIR/forecast.svg"
