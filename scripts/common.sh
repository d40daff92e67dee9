# Shared by scripts/demo.sh and scripts/test.sh: install what is missing, then configure a build.
# Usage: source scripts/common.sh; qrt_install_packages PKG...; qrt_configure BUILD_DIR [cmake args]

qrt_install_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "qrt: installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

qrt_configure() {
  local build_dir="$1"
  shift
  # nvcc lives outside PATH in the CUDA toolkit's default location; the CUDA backend is built
  # whenever it is present (a GPU is not needed to compile).
  if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
    export PATH="/usr/local/cuda/bin:$PATH"
  fi
  cmake -S "$QRT_ROOT" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release "$@"
}
