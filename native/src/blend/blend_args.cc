#include "blend_args.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

namespace blend::args {

namespace {

[[noreturn]] void typeError(Napi::Env env, const char* fn, const std::string& msg) {
  throw Napi::TypeError::New(env, std::string(fn) + ": " + msg);
}

[[noreturn]] void rangeError(Napi::Env env, const char* fn, const std::string& msg) {
  throw Napi::RangeError::New(env, std::string(fn) + ": " + msg);
}

std::string describe(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  std::ostringstream s;
  s << v;
  return s.str();
}

bool absent(const Napi::Value& v) { return v.IsUndefined() || v.IsNull(); }

double number(const Napi::Value& v, const char* key, const char* fn) {
  if (!v.IsNumber()) typeError(v.Env(), fn, std::string(key) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

bool boolean(const Napi::Object& o, const char* key, bool fallback, const char* fn) {
  const Napi::Value v = o.Get(key);
  if (absent(v)) return fallback;
  if (!v.IsBoolean()) typeError(o.Env(), fn, std::string(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

Napi::TypedArray typedArray(const Napi::Value& v, const char* key, const char* expected,
                            const char* fn) {
  if (!v.IsTypedArray()) typeError(v.Env(), fn, std::string(key) + " must be a " + expected);
  return v.As<Napi::TypedArray>();
}

void checkLength(Napi::Env env, size_t got, size_t length, const char* key, const char* fn) {
  if (got != length) {
    rangeError(env, fn,
               std::string(key) + " must hold " + std::to_string(length) + " values, got " +
                   std::to_string(got));
  }
}

}  // namespace

Napi::Object argumentObject(const Napi::CallbackInfo& info, const char* fn) {
  if (info.Length() < 1 || !info[0].IsObject() || info[0].IsArray()) {
    typeError(info.Env(), fn, "expects one argument object");
  }
  return info[0].As<Napi::Object>();
}

int dimension(const Napi::Object& o, const char* key, const char* fn) {
  const double v = number(o.Get(key), key, fn);
  if (!std::isfinite(v) || v != std::floor(v) || v < 1 || v > 32768) {
    rangeError(o.Env(), fn, std::string(key) + " must be an integer in [1, 32768], got " + describe(v));
  }
  return static_cast<int>(v);
}

FrameSize frameSize(const Napi::Object& o, const char* fn) {
  const int w = dimension(o, "width", fn);
  const int h = dimension(o, "height", fn);
  const size_t count = static_cast<size_t>(w) * static_cast<size_t>(h);
  if (count > (size_t{1} << 26)) {
    rangeError(o.Env(), fn, "width*height must be at most 2^26 pixels, got " + std::to_string(count));
  }
  return {w, h, count};
}

double unitWeight(const Napi::Object& o, const char* key, const char* fn) {
  const double v = number(o.Get(key), key, fn);
  if (!(v >= 0.0 && v <= 1.0)) {  // also rejects NaN
    rangeError(o.Env(), fn, std::string(key) + " must be a number in [0, 1], got " + describe(v));
  }
  return v;
}

int integerIn(const Napi::Object& o, const char* key, int lo, int hi, int fallback, const char* fn) {
  const Napi::Value v = o.Get(key);
  if (absent(v)) return fallback;
  const double d = number(v, key, fn);
  if (!std::isfinite(d) || d != std::floor(d) || d < lo || d > hi) {
    rangeError(o.Env(), fn,
               std::string(key) + " must be an integer in [" + std::to_string(lo) + ", " +
                   std::to_string(hi) + "], got " + describe(d));
  }
  return static_cast<int>(d);
}

std::vector<uint8_t> bytes(const Napi::Object& o, const char* key, size_t length, bool optional,
                           const char* fn) {
  const Napi::Value v = o.Get(key);
  if (optional && absent(v)) return {};
  const Napi::TypedArray ta = typedArray(v, key, "Uint8Array", fn);
  const napi_typedarray_type t = ta.TypedArrayType();
  if (t != napi_uint8_array && t != napi_uint8_clamped_array) {
    typeError(o.Env(), fn, std::string(key) + " must be a Uint8Array");
  }
  checkLength(o.Env(), ta.ElementLength(), length, key, fn);
  std::vector<uint8_t> out(length);
  const auto* src = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  std::memcpy(out.data(), src, length);
  return out;
}

std::vector<float> floats(const Napi::Object& o, const char* key, size_t length, bool optional,
                          bool finiteOnly, const char* fn) {
  const Napi::Value v = o.Get(key);
  if (optional && absent(v)) return {};
  const Napi::TypedArray ta = typedArray(v, key, "Float32Array", fn);
  if (ta.TypedArrayType() != napi_float32_array) {
    typeError(o.Env(), fn, std::string(key) + " must be a Float32Array");
  }
  checkLength(o.Env(), ta.ElementLength(), length, key, fn);
  std::vector<float> out(length);
  const auto* src = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
  std::memcpy(out.data(), src, length * sizeof(float));
  for (size_t i = 0; i < length; ++i) {
    const float x = out[i];
    if (std::isnan(x) || (finiteOnly && !std::isfinite(x))) {
      rangeError(o.Env(), fn,
                 std::string(key) + " must hold only " + (finiteOnly ? "finite numbers" : "numbers") +
                     ", index " + std::to_string(i) + " is " + describe(x));
    }
  }
  return out;
}

void checkBinary(Napi::Env env, const std::vector<uint8_t>& mask, const char* key, const char* fn) {
  for (size_t i = 0; i < mask.size(); ++i) {
    if (mask[i] > 1) {
      rangeError(env, fn,
                 std::string(key) + " must hold 0 (A) or 1 (B), index " + std::to_string(i) +
                     " is " + std::to_string(mask[i]));
    }
  }
}

WorkSpace workSpace(const Napi::Value& v, const char* fn) {
  if (absent(v)) return WorkSpace::Lab;
  if (v.IsString()) {
    const std::string s = v.As<Napi::String>().Utf8Value();
    if (s == "lab") return WorkSpace::Lab;
    if (s == "rgb") return WorkSpace::Rgb;
  }
  typeError(v.Env(), fn, "colorSpace must be 'lab' or 'rgb'");
}

PoissonParams poissonParams(const Napi::Object& o, int channels, const char* fn) {
  PoissonParams p;
  const Napi::Value clip = o.Get("gradClip");
  if (!absent(clip)) {
    const double c = number(clip, "gradClip", fn);
    if (!(c > 0)) rangeError(o.Env(), fn, "gradClip must be > 0 (Infinity: no clipping), got " + describe(c));
    p.gradClip = c;
  }
  const Napi::Value scr = o.Get("screening");
  if (absent(scr)) return p;
  auto check = [&](double s) {
    if (!std::isfinite(s) || s < 0) {
      rangeError(o.Env(), fn, "screening must be finite and >= 0, got " + describe(s));
    }
    return s;
  };
  if (scr.IsNumber()) {
    p.screening = {check(scr.As<Napi::Number>().DoubleValue())};
    return p;
  }
  if (!scr.IsArray()) typeError(o.Env(), fn, "screening must be a number or an array of numbers");
  const Napi::Array arr = scr.As<Napi::Array>();
  if (arr.Length() != 1 && arr.Length() != static_cast<uint32_t>(channels)) {
    rangeError(o.Env(), fn,
               "screening must have 1 or " + std::to_string(channels) + " values, got " +
                   std::to_string(arr.Length()));
  }
  p.screening.clear();
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    p.screening.push_back(check(number(arr.Get(i), "screening[i]", fn)));
  }
  return p;
}

namespace {

// A finite number in [lo, hi] (hiOpen: strictly below hi); fallback when absent.
double numberIn(const Napi::Object& o, const char* key, double lo, double hi, bool hiOpen,
                double fallback, const char* fn) {
  const Napi::Value v = o.Get(key);
  if (absent(v)) return fallback;
  const double d = number(v, key, fn);
  if (!std::isfinite(d) || d < lo || d > hi || (hiOpen && d == hi)) {
    std::ostringstream range;
    range << "[" << lo << ", " << hi << (hiOpen ? ")" : "]");
    rangeError(o.Env(), fn, std::string(key) + " must be a number in " + range.str() + ", got " + describe(d));
  }
  return d;
}

Selection selectionRule(const Napi::Value& v, const char* fn) {
  if (absent(v)) return SelectionParams{}.rule;
  if (v.IsString()) {
    const std::string s = v.As<Napi::String>().Utf8Value();
    if (s == "carry") return Selection::Carry;
    if (s == "hysteresis") return Selection::Hysteresis;
    if (s == "nearest") return Selection::Nearest;
    if (s == "crossfade") return Selection::Crossfade;
  }
  typeError(v.Env(), fn, "selection must be 'carry', 'hysteresis', 'nearest' or 'crossfade'");
}

Mix mixMode(const Napi::Object& opt, const char* fn) {
  const Napi::Value v = opt.Get("mix");
  const Napi::Value legacy = opt.Get("histogram");
  if (absent(v)) {
    if (absent(legacy)) return Mix::Pick;
    return boolean(opt, "histogram", true, fn) ? Mix::Histogram : Mix::Alpha;
  }
  if (!absent(legacy)) typeError(opt.Env(), fn, "give mix or histogram, not both");
  if (v.IsString()) {
    const std::string s = v.As<Napi::String>().Utf8Value();
    if (s == "histogram") return Mix::Histogram;
    if (s == "alpha") return Mix::Alpha;
    if (s == "pick") return Mix::Pick;
  }
  typeError(opt.Env(), fn, "mix must be 'histogram', 'alpha' or 'pick'");
}

}  // namespace

SelectionParams selectionParams(const Napi::Object& opt, const char* fn) {
  SelectionParams p;
  p.rule = selectionRule(opt.Get("selection"), fn);
  p.hysteresis = numberIn(opt, "hysteresis", 0.0, 100.0, false, p.hysteresis, fn);
  p.radius = integerIn(opt, "selectionRadius", 0, 64, p.radius, fn);
  return p;
}

Napi::Object optionsObject(const Napi::Object& o, const char* fn) {
  const Napi::Value v = o.Get("options");
  if (absent(v)) return Napi::Object::New(o.Env());
  if (!v.IsObject() || v.IsArray()) typeError(o.Env(), fn, "options must be an object");
  return v.As<Napi::Object>();
}

BlendOptions blendOptions(const Napi::Object& o, const char* fn) {
  BlendOptions opts;
  const Napi::Object opt = optionsObject(o, fn);
  opts.space = workSpace(opt.Get("colorSpace"), fn);
  opts.mix = mixMode(opt, fn);
  opts.poisson = boolean(opt, "poisson", true, fn);
  opts.mixBand = numberIn(opt, "mixBand", 0.0, 100.0, false, opts.mixBand, fn);
  opts.poissonParams = poissonParams(opt, 3, fn);
  opts.selection = selectionParams(opt, fn);
  opts.deflicker.strength = numberIn(opt, "deflicker", 0.0, 1.0, true, opts.deflicker.strength, fn);
  opts.deflicker.tolerance =
      numberIn(opt, "deflickerTolerance", 0.5, 255.0, false, opts.deflicker.tolerance, fn);
  return opts;
}

}  // namespace blend::args
