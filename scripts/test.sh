#!/usr/bin/env bash
# The README's test command: installs the project (offline-safe) and runs the whole suite
# (type-check, lint, unit/integration tests, browser end-to-end tests).
set -euo pipefail
cd "$(dirname "$0")/.."
# The CUDA EP download of onnxruntime-node needs NuGet, which dev and CI machines cannot reach.
export ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}"
export JOBS="${JOBS:-2}"
npm ci --no-audit --no-fund
npm test
