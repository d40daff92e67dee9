#!/usr/bin/env bash
# Installs what the build and the tests need (Debian packages), builds everything in Release and runs
# every test: the C++ doctest suites and the PyTorch exporter tests, through CTest.
set -euo pipefail
QRT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$QRT_ROOT/scripts/common.sh"

qrt_install_packages cmake g++ make libflatbuffers-dev flatbuffers-compiler libxtensor-dev doctest-dev \
  python3 python3-numpy python3-flatbuffers python3-torch

BUILD_DIR="${QRT_BUILD_DIR:-$QRT_ROOT/build}"
qrt_configure "$BUILD_DIR" -DQRT_BUILD_TESTS=ON
cmake --build "$BUILD_DIR" -j"$(nproc)"
cd "$BUILD_DIR"
ctest --output-on-failure -j"$(nproc)" --timeout 600
