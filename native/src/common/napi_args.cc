#include "common/napi_args.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace rr {

static int RequireDim(Napi::Env env, Napi::Object o, const char* key, const std::string& what,
                      int lo, int hi) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(env, what + "." + key + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < lo || d > hi) {
    throw Napi::RangeError::New(env, what + "." + key + " must be an integer in [" +
                                         std::to_string(lo) + ", " + std::to_string(hi) +
                                         "], got " + std::to_string(d));
  }
  return static_cast<int>(d);
}

ParsedImage ParseImage(Napi::Env env, Napi::Value v, const std::string& what, int maxChannels) {
  if (!v.IsObject()) throw Napi::TypeError::New(env, what + " must be an image object {data, width, height, channels}");
  Napi::Object o = v.As<Napi::Object>();
  const int w = RequireDim(env, o, "width", what, 1, kMaxSide);
  const int h = RequireDim(env, o, "height", what, 1, kMaxSide);
  const int c = RequireDim(env, o, "channels", what, 1, maxChannels);
  Napi::Value d = o.Get("data");
  if (!d.IsTypedArray()) throw Napi::TypeError::New(env, what + ".data must be a Uint8Array or Float32Array");
  Napi::TypedArray ta = d.As<Napi::TypedArray>();
  const size_t n = static_cast<size_t>(w) * h * c;
  if (ta.ElementLength() != n) {
    throw Napi::RangeError::New(env, what + ".data has " + std::to_string(ta.ElementLength()) +
                                         " elements, expected width*height*channels = " + std::to_string(n));
  }
  ParsedImage out;
  out.image = Image(w, h, c);
  float* dst = out.image.data.data();
  if (ta.TypedArrayType() == napi_uint8_array || ta.TypedArrayType() == napi_uint8_clamped_array) {
    const uint8_t* src = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    for (size_t i = 0; i < n; ++i) dst[i] = src[i];
    out.type = PixelType::U8;
  } else if (ta.TypedArrayType() == napi_float32_array) {
    const uint8_t* bytes = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    for (size_t i = 0; i < n; ++i) {
      float f;
      std::memcpy(&f, bytes + i * 4, 4);
      if (!std::isfinite(f)) throw Napi::RangeError::New(env, what + ".data contains a non-finite value at index " + std::to_string(i));
      dst[i] = f * 255.f;
    }
    out.type = PixelType::F32;
  } else {
    throw Napi::TypeError::New(env, what + ".data must be a Uint8Array or Float32Array");
  }
  return out;
}

Image ParseFloatField(Napi::Env env, Napi::Value v, const std::string& what, int width, int height,
                      int channels) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, what + " must be a Float32Array");
  }
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  const size_t n = static_cast<size_t>(width) * height * channels;
  if (a.ElementLength() != n) {
    throw Napi::RangeError::New(env, what + " has " + std::to_string(a.ElementLength()) +
                                         " elements, expected " + std::to_string(n));
  }
  Image img(width, height, channels);
  for (size_t i = 0; i < n; ++i) {
    const float f = a[i];
    if (!std::isfinite(f)) throw Napi::RangeError::New(env, what + " contains a non-finite value at index " + std::to_string(i));
    img.data[i] = f;
  }
  return img;
}

Napi::Object OptionsObject(Napi::Env env, Napi::Value v, const std::string& what) {
  if (v.IsUndefined() || v.IsNull()) return Napi::Object::New(env);
  if (!v.IsObject()) throw Napi::TypeError::New(env, what + " must be an object");
  return v.As<Napi::Object>();
}

double OptNumber(Napi::Env env, Napi::Object o, const char* key, double def, double lo, double hi) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return def;
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("option ") + key + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < lo || d > hi) {
    throw Napi::RangeError::New(env, std::string("option ") + key + " must be finite and in [" +
                                         std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                                         std::to_string(d));
  }
  return d;
}

int OptInt(Napi::Env env, Napi::Object o, const char* key, int def, int lo, int hi) {
  const double d = OptNumber(env, o, key, def, lo, hi);
  if (d != std::floor(d)) throw Napi::RangeError::New(env, std::string("option ") + key + " must be an integer");
  return static_cast<int>(d);
}

uint32_t OptUint32(Napi::Env env, Napi::Object o, const char* key, uint32_t def) {
  return static_cast<uint32_t>(OptNumber(env, o, key, def, 0, 4294967295.0));
}

bool OptBool(Napi::Env env, Napi::Object o, const char* key, bool def) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return def;
  if (!v.IsBoolean()) throw Napi::TypeError::New(env, std::string("option ") + key + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

Napi::Function OptFunction(Napi::Env env, Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return Napi::Function();
  if (!v.IsFunction()) throw Napi::TypeError::New(env, std::string("option ") + key + " must be a function");
  return v.As<Napi::Function>();
}

Napi::Object MakeImage(Napi::Env env, const Image& img, PixelType type) {
  Napi::Object o = Napi::Object::New(env);
  const size_t n = img.data.size();
  if (type == PixelType::U8) {
    Napi::Uint8Array a = Napi::Uint8Array::New(env, n);
    for (size_t i = 0; i < n; ++i) {
      a[i] = static_cast<uint8_t>(std::clamp(std::lround(img.data[i]), 0L, 255L));
    }
    o.Set("data", a);
  } else {
    Napi::Float32Array a = Napi::Float32Array::New(env, n);
    for (size_t i = 0; i < n; ++i) a[i] = img.data[i] / 255.f;
    o.Set("data", a);
  }
  o.Set("width", img.width);
  o.Set("height", img.height);
  o.Set("channels", img.channels);
  return o;
}

Napi::Float32Array MakeFloat32(Napi::Env env, const std::vector<float>& v) {
  Napi::Float32Array a = Napi::Float32Array::New(env, v.size());
  if (!v.empty()) std::memcpy(a.Data(), v.data(), v.size() * sizeof(float));
  return a;
}

}  // namespace rr
