#!/usr/bin/env bash
# Installs the project's npm dependencies (and builds native/) when they are missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."
# onnxruntime-node fetches its CUDA execution provider from NuGet at install time. Machines without
# an NVIDIA driver cannot use it, and dev/CI machines cannot reach NuGet: skip it there only.
if [ -z "${ONNXRUNTIME_NODE_INSTALL:-}" ] && ! command -v nvidia-smi >/dev/null 2>&1; then
  export ONNXRUNTIME_NODE_INSTALL=skip
fi
export JOBS="${JOBS:-2}"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ "${1:-}" = "--clean" ]; then
  npm ci --no-audit --no-fund
fi
