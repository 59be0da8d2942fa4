#!/usr/bin/env bash
# The main job on a fresh machine: set up, then train, compress, evaluate and report a `quick`
# run on Fashion-MNIST into ./runs (local files, no cloud account).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npm start -- "$@"
