#!/usr/bin/env bash
# Copies the build's header-only dependencies and the schema compiler from this Debian machine into
# .deps/ (git-ignored), for a machine that lacks the -dev packages (the GPU machine):
#   include/{flatbuffers,xtensor,xtl,doctest}, lib/cmake/doctest (find_package(doctest)), bin/flatc,
#   python/flatbuffers (the pure-Python runtime the PyTorch exporter's generated code imports).
# There: cmake -DQRT_DEPS_DIR=/abs/path/.deps ... (scripts/gpu-bench.sh does this).
# Usage: scripts/make-deps.sh [DEST]   (default: .deps at the repository root)
set -euo pipefail
QRT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$QRT_ROOT/.deps}"

for path in /usr/include/flatbuffers /usr/include/xtensor /usr/include/xtl /usr/include/doctest \
  /usr/lib/cmake/doctest /usr/bin/flatc /usr/lib/python3/dist-packages/flatbuffers; do
  if [ ! -e "$path" ]; then
    echo "make-deps: $path is missing; install libflatbuffers-dev flatbuffers-compiler" \
      "libxtensor-dev doctest-dev python3-flatbuffers" >&2
    exit 1
  fi
done
# flatc must run on the other machine: it may depend only on the C/C++ runtime libraries.
if ldd /usr/bin/flatc | grep -q libflatbuffers; then
  echo "make-deps: /usr/bin/flatc links libflatbuffers.so, which is not copied" >&2
  exit 1
fi

rm -rf "$DEST"
mkdir -p "$DEST/include" "$DEST/bin" "$DEST/lib/cmake" "$DEST/python"
cp -r /usr/include/flatbuffers /usr/include/xtensor /usr/include/xtl /usr/include/doctest \
  "$DEST/include/"
# doctest's package files locate the headers relative to themselves (<prefix>/lib/cmake/doctest).
cp -r /usr/lib/cmake/doctest "$DEST/lib/cmake/"
cp /usr/bin/flatc "$DEST/bin/"
cp -r /usr/lib/python3/dist-packages/flatbuffers "$DEST/python/"
find "$DEST/python" -name __pycache__ -prune -exec rm -rf {} +
echo "make-deps: $(du -sh "$DEST" | cut -f1) in $DEST ($("$DEST/bin/flatc" --version))"
