// upsample(low, guide, options?, cancelToken?) -> Promise<Uint8Array> (guide-sized RGB).
// low: {data: Uint8Array, width, height, channels: 3}, the working-size output; guide: the same
// for the full-resolution source. options: {method, rect: {x, y, width, height} (the part of the
// guide `low` shows; default all of it), radius, eps, sigmaSpatial, sigmaRange}.
#include "upsample/upsample_napi.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "common/napi_args.h"
#include "common/promise_worker.h"
#include "upsample/upsample.h"

namespace rr {

namespace {

struct Bytes {
  int width = 0, height = 0;
  std::shared_ptr<std::vector<uint8_t>> data;
};

int Dim(Napi::Env env, Napi::Object o, const char* key, const std::string& what, int lo, int hi) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(env, what + "." + key + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < lo || d > hi) {
    throw Napi::RangeError::New(env, what + "." + key + " must be an integer in [" + std::to_string(lo) + ", " +
                                         std::to_string(hi) + "], got " + v.ToString().Utf8Value());
  }
  return static_cast<int>(d);
}

// RGB bytes only: the frames are 8-bit, and a float copy of a 4K guide would cost 100 MB.
Bytes ParseRgb(Napi::Env env, Napi::Value v, const std::string& what) {
  if (!v.IsObject()) throw Napi::TypeError::New(env, what + " must be an image object {data, width, height, channels: 3}");
  Napi::Object o = v.As<Napi::Object>();
  Bytes b;
  b.width = Dim(env, o, "width", what, 1, kMaxSide);
  b.height = Dim(env, o, "height", what, 1, kMaxSide);
  Dim(env, o, "channels", what, 3, 3);
  Napi::Value d = o.Get("data");
  if (!d.IsTypedArray() || (d.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array &&
                            d.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_clamped_array)) {
    throw Napi::TypeError::New(env, what + ".data must be a Uint8Array of RGB bytes");
  }
  Napi::TypedArray ta = d.As<Napi::TypedArray>();
  const size_t n = static_cast<size_t>(b.width) * b.height * 3;
  if (ta.ElementLength() != n) {
    throw Napi::RangeError::New(env, what + ".data has " + std::to_string(ta.ElementLength()) + " bytes, expected " +
                                         std::to_string(b.width) + "x" + std::to_string(b.height) + "x3 = " + std::to_string(n));
  }
  const uint8_t* src = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  // Copied: the worker runs after this call returns, and JS may reuse the buffer meanwhile.
  b.data = std::make_shared<std::vector<uint8_t>>(src, src + n);
  return b;
}

UpsampleMethod ParseMethod(Napi::Env env, Napi::Object opt) {
  Napi::Value v = opt.Get("method");
  if (v.IsUndefined()) return UpsampleMethod::Detail;
  const std::string m = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (m == "bicubic") return UpsampleMethod::Bicubic;
  if (m == "joint-bilateral") return UpsampleMethod::JointBilateral;
  if (m == "guided") return UpsampleMethod::Guided;
  if (m == "guided-luma") return UpsampleMethod::GuidedLuma;
  if (m == "detail") return UpsampleMethod::Detail;
  throw Napi::RangeError::New(env, "options.method must be 'bicubic', 'joint-bilateral', 'guided', 'guided-luma' or 'detail'");
}

Napi::Value UpsampleJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes low = ParseRgb(env, info[0], "low");
  Bytes guide = ParseRgb(env, info[1], "guide");
  Napi::Object opt = OptionsObject(env, info[2], "options");
  UpsampleParams p;
  p.method = ParseMethod(env, opt);
  p.radius = OptInt(env, opt, "radius", 2, 1, 64);
  p.eps = OptNumber(env, opt, "eps", 1e-4, 1e-8, 1.0);
  p.sigmaSpatial = OptNumber(env, opt, "sigmaSpatial", 1.0, 0.1, 16.0);
  p.sigmaRange = OptNumber(env, opt, "sigmaRange", 24.0, 1.0, 765.0);
  UpsampleRect r{0, 0, guide.width, guide.height};
  Napi::Value rv = opt.Get("rect");
  if (!rv.IsUndefined()) {
    if (!rv.IsObject()) throw Napi::TypeError::New(env, "options.rect must be {x, y, width, height}");
    Napi::Object ro = rv.As<Napi::Object>();
    r.x = Dim(env, ro, "x", "options.rect", 0, guide.width - 1);
    r.y = Dim(env, ro, "y", "options.rect", 0, guide.height - 1);
    r.width = Dim(env, ro, "width", "options.rect", 1, guide.width - r.x);
    r.height = Dim(env, ro, "height", "options.rect", 1, guide.height - r.y);
  }
  auto out = std::make_shared<std::vector<uint8_t>>();
  const int gw = guide.width, gh = guide.height;
  return FnWorker::Start(env, CancelFlagFrom(env, info[3], "cancelToken"),
      [=](const CancelFlag& cancel) {
        *out = Upsample(low.data->data(), low.width, low.height, guide.data->data(), gw, gh, r, p, cancel);
      },
      [=](Napi::Env e) -> Napi::Value {
        Napi::Uint8Array a = Napi::Uint8Array::New(e, out->size());
        std::memcpy(a.Data(), out->data(), out->size());
        return a;
      });
}

}  // namespace

void InitUpsample(Napi::Env env, Napi::Object exports) {
  exports.Set("upsample", Napi::Function::New(env, UpsampleJs, "upsample"));
}

}  // namespace rr
