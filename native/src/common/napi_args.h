// Argument parsing for every N-API entry point: anything malformed becomes a TypeError or
// RangeError naming the offending argument, before any native work is queued.
#pragma once
#include <napi.h>

#include <string>

#include "common/image.h"

namespace rr {

constexpr int kMaxChannels = 8;
constexpr int kMaxSide = 16384;

enum class PixelType { U8, F32 };

struct ParsedImage {
  Image image;  // values on a 0..255 scale (float inputs are 0..1 and get scaled)
  PixelType type = PixelType::U8;
};

// Reads {data: Uint8Array|Float32Array, width, height, channels}. maxChannels bounds channels.
ParsedImage ParseImage(Napi::Env env, Napi::Value v, const std::string& what,
                       int maxChannels = kMaxChannels);

// Reads a raw Float32Array of exactly `expected` finite values (flow fields, coordinate maps).
Image ParseFloatField(Napi::Env env, Napi::Value v, const std::string& what, int width, int height,
                      int channels);

// Options object readers: a missing/undefined key yields the default; anything else is checked.
Napi::Object OptionsObject(Napi::Env env, Napi::Value v, const std::string& what);
int OptInt(Napi::Env env, Napi::Object o, const char* key, int def, int lo, int hi);
double OptNumber(Napi::Env env, Napi::Object o, const char* key, double def, double lo, double hi);
bool OptBool(Napi::Env env, Napi::Object o, const char* key, bool def);
uint32_t OptUint32(Napi::Env env, Napi::Object o, const char* key, uint32_t def);
Napi::Function OptFunction(Napi::Env env, Napi::Object o, const char* key);

// Builds a JS image object from a 0..255 float image, as uint8 (rounded, clamped) or float 0..1.
Napi::Object MakeImage(Napi::Env env, const Image& img, PixelType type);
Napi::Float32Array MakeFloat32(Napi::Env env, const std::vector<float>& v);

}  // namespace rr
