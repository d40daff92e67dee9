#!/usr/bin/env bash
# File sizes of a weight-dominated MLP (1024-4096-4096-1024 by default) at each precision, with
# and without the first/last fp16 policy, as a table with ratios to fp32 (tools/bench/file_sizes.py).
#   tools/bench/file_sizes.sh [BUILD_DIR] [--widths W0,W1,...] [--check]
# Uses /usr/bin/python3, the interpreter with torch installed.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
build="$repo/build"
if [[ $# -gt 0 && "$1" != --* ]]; then
  build="$1"
  shift
fi
cli="$build/tools/qrt"
if [[ ! -x "$cli" ]]; then
  echo "$0: $cli not built (cmake --build $build --target qrt)" >&2
  exit 2
fi
exec /usr/bin/python3 "$repo/tools/bench/file_sizes.py" --qrt "$cli" "$@"
