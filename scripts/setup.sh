#!/usr/bin/env bash
# Installs what PIE Lens needs on a fresh Debian/Ubuntu machine: the Fashion-MNIST package,
# Chromium (the web page's tests drive it) and the npm dependencies. Safe to run again: it skips
# what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

need_apt=()
[[ -f /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ]] || need_apt+=(dataset-fashion-mnist)
[[ -x /usr/bin/chromium ]] || need_apt+=(chromium)
if ((${#need_apt[@]})); then
  if command -v apt-get >/dev/null; then
    echo "setup: installing ${need_apt[*]} (Debian packages)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: please install ${need_apt[*]} (or point 'pie run --data-dir' at IDX files)" >&2
  fi
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi

# The WebAssembly kernels (lib/model/wasm/kernels.wasm) are built from their source, never committed.
npm run -s build:wasm
