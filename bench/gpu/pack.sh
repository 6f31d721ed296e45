#!/usr/bin/env bash
# Packs what `npm run bench:gpu` needs from node_modules into .gpu-node/node.tar.xz, for a GPU
# machine that cannot install anything: the Node 24 binary and the runtime packages of the engine
# (onnxruntime-node with only its linux-x64 binaries, onnxruntime-common, protobufjs, long).
# node_modules is about 1 GB; this is about 45 MB, under the device tool's 64 MiB carry limit.
# Run it once, here, from the repository root; see bench/gpu/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x node_modules/node/bin/node ] || { echo "pack.sh: node_modules/node/bin/node missing: run npm install first" >&2; exit 2; }
grep -qx '/.gpu-node/' .git/info/exclude 2>/dev/null || echo '/.gpu-node/' >>.git/info/exclude
rm -rf .gpu-node && mkdir -p .gpu-node
# Only the x64 Linux binaries of onnxruntime-node: the other platforms' are most of its size.
tar -cf - --exclude='node_modules/onnxruntime-node/bin/napi-v6/darwin' --exclude='node_modules/onnxruntime-node/bin/napi-v6/win32' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/linux/arm64' \
  node_modules/node/bin/node node_modules/node/package.json \
  node_modules/onnxruntime-node node_modules/onnxruntime-common node_modules/protobufjs node_modules/long \
  | xz -T0 -6 >.gpu-node/node.tar.xz
ls -l .gpu-node/node.tar.xz
