#!/usr/bin/env bash
# Packs what `npm run bench:gpu` needs into .gpu-node/ (git-ignored), for a GPU machine that cannot
# install anything, under the device tool's 64 MiB limit for everything that travels (the tracked
# tree is about 18 MB of it):
#   node.tar.xz       the Node 24 binary (stripped) and the engine's runtime packages: onnxruntime-node
#                     with only its linux-x64 binaries, onnxruntime-common, protobufjs, long (~40 MB)
#   diffusers.tar.xz  when .whl/diffusers-*.whl exists: diffusers without the pipelines the benchmark
#                     never imports (only stable_diffusion and controlnet stay), about 1 MB instead of
#                     the wheel's 6 MB
# Run it once, here, from the repository root; see bench/gpu/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x node_modules/node/bin/node ] || { echo "pack.sh: node_modules/node/bin/node missing: run npm install first" >&2; exit 2; }
grep -qx '/.gpu-node/' .git/info/exclude 2>/dev/null || echo '/.gpu-node/' >>.git/info/exclude
rm -rf .gpu-node && mkdir -p .gpu-node
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
# Only the x64 Linux binaries of onnxruntime-node: the other platforms' are most of its size.
tar -cf - --exclude='node_modules/onnxruntime-node/bin/napi-v6/darwin' --exclude='node_modules/onnxruntime-node/bin/napi-v6/win32' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/linux/arm64' \
  node_modules/node/bin/node node_modules/node/package.json \
  node_modules/onnxruntime-node node_modules/onnxruntime-common node_modules/protobufjs node_modules/long \
  | tar -xf - -C "$stage"
# The symbol table is 18 MB of Node's 127 MB and nothing at run time reads it.
command -v strip >/dev/null && strip "$stage/node_modules/node/bin/node"
tar -cf - -C "$stage" node_modules | xz -T0 -9e >.gpu-node/node.tar.xz
wheel=$(ls .whl/diffusers-*.whl 2>/dev/null | head -1 || true)
if [ -n "$wheel" ]; then
  mkdir -p "$stage/py" && (cd "$stage/py" && unzip -q "$OLDPWD/$wheel" 'diffusers/*')
  find "$stage/py/diffusers/pipelines" -mindepth 1 -maxdepth 1 -type d ! -name controlnet ! -name stable_diffusion -exec rm -rf {} +
  find "$stage/py/diffusers/modular_pipelines" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
  tar -cf - -C "$stage/py" diffusers | xz -T0 -9e >.gpu-node/diffusers.tar.xz
fi
ls -l .gpu-node/
