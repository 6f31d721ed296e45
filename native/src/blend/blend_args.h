// Validation of the JS arguments of the blend functions. Every failure throws a JS TypeError or
// RangeError (through node-addon-api's C++ exceptions) naming the function and the field.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <napi.h>

#include "blend_frame.h"

namespace blend::args {

// The single options-bag argument every blend function takes.
Napi::Object argumentObject(const Napi::CallbackInfo& info, const char* fn);

// A positive integer pixel count along one axis.
int dimension(const Napi::Object& o, const char* key, const char* fn);

struct FrameSize {
  int width;
  int height;
  size_t count;  // width * height
};

// width and height of the argument object, capped so buffers stay allocatable.
FrameSize frameSize(const Napi::Object& o, const char* fn);

// A finite number in [0, 1].
double unitWeight(const Napi::Object& o, const char* key, const char* fn);

// Integer in [lo, hi]; fallback when absent.
int integerIn(const Napi::Object& o, const char* key, int lo, int hi, int fallback, const char* fn);

// Uint8Array (or Uint8ClampedArray / Buffer) of exactly `length` bytes, copied. When optional,
// undefined/null yields an empty vector.
std::vector<uint8_t> bytes(const Napi::Object& o, const char* key, size_t length, bool optional,
                           const char* fn);

// Float32Array of exactly `length` values, copied. NaN (and, with finiteOnly, infinities) reject.
std::vector<float> floats(const Napi::Object& o, const char* key, size_t length, bool optional,
                          bool finiteOnly, const char* fn);

// Mask bytes must be 0 or 1.
void checkBinary(Napi::Env env, const std::vector<uint8_t>& mask, const char* key, const char* fn);

// colorSpace: 'lab' (default) or 'rgb'.
WorkSpace workSpace(const Napi::Value& v, const char* fn);

// gradClip and screening (per channel count), from an object that may lack them.
PoissonParams poissonParams(const Napi::Object& o, int channels, const char* fn);

// The `options` field (absent: an empty object); TypeError when it is not an object.
Napi::Object optionsObject(const Napi::Object& o, const char* fn);

// selection, hysteresis and selectionRadius of an options object.
SelectionParams selectionParams(const Napi::Object& opt, const char* fn);

// The `options` field of blendFrame (absent: defaults).
BlendOptions blendOptions(const Napi::Object& o, const char* fn);

}  // namespace blend::args
