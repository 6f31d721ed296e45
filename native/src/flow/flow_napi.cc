// Flow/guide entry points; all return Promises and run off the JS thread.
#include "flow/flow_napi.h"

#include <cstring>
#include <memory>

#include "common/napi_args.h"
#include "common/promise_worker.h"
#include "flow/flow.h"

namespace rr {

namespace {

int RequireSide(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string(what) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 1 && d <= kMaxSide) || d != static_cast<int>(d)) {
    throw Napi::RangeError::New(env, std::string(what) + " must be an integer in [1, 16384]");
  }
  return static_cast<int>(d);
}

std::vector<uint8_t> ParseMask(Napi::Env env, Napi::Value v, const char* what, size_t n) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(env, std::string(what) + " must be a Uint8Array");
  }
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  if (a.ElementLength() != n) throw Napi::RangeError::New(env, std::string(what) + " must hold width*height = " + std::to_string(n) + " values");
  return std::vector<uint8_t>(a.Data(), a.Data() + n);
}

Napi::Value ComputeFlowJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto a = std::make_shared<Image>(ParseImage(env, info[0], "a").image);
  auto b = std::make_shared<Image>(ParseImage(env, info[1], "b").image);
  if (a->width != b->width || a->height != b->height) throw Napi::RangeError::New(env, "frames a and b differ in size");
  Napi::Object opt = OptionsObject(env, info[2], "options");
  FlowMethod method = FlowMethod::DisMedium;
  Napi::Value m = opt.Get("method");
  if (!m.IsUndefined()) {
    if (!m.IsString()) throw Napi::TypeError::New(env, "option method must be a string");
    try {
      method = ParseFlowMethod(m.As<Napi::String>().Utf8Value());
    } catch (const std::invalid_argument& e) {
      throw Napi::RangeError::New(env, e.what());
    }
  }
  if (a->width < 8 || a->height < 8) throw Napi::RangeError::New(env, "frames must be at least 8x8 for optical flow");
  auto out = std::make_shared<std::pair<Image, Image>>();
  return FnWorker::Start(env, CancelFlagFrom(env, info[3], "cancelToken"),
      [=](const CancelFlag& c) {
        // One direction at full size can take a second (dis-fine): check for cancel between the two.
        ThrowIfCancelled(c);
        out->first = ComputeFlow(*a, *b, method);
        ThrowIfCancelled(c);
        out->second = ComputeFlow(*b, *a, method);
      },
      [=](Napi::Env e) {
        Napi::Object o = Napi::Object::New(e);
        o.Set("forward", MakeFloat32(e, out->first.data));
        o.Set("backward", MakeFloat32(e, out->second.data));
        return o;
      });
}

Napi::Value OcclusionMaskJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int w = RequireSide(env, info[2], "width"), h = RequireSide(env, info[3], "height");
  auto flow = std::make_shared<Image>(ParseFloatField(env, info[0], "flow", w, h, 2));
  auto other = std::make_shared<Image>(ParseFloatField(env, info[1], "other", w, h, 2));
  auto out = std::make_shared<std::vector<uint8_t>>();
  return FnWorker::Start(env, CancelFlagFrom(env, info[4], "cancelToken"),
      [=](const CancelFlag&) { *out = OcclusionMask(*flow, *other); },
      [=](Napi::Env e) {
        Napi::Uint8Array a = Napi::Uint8Array::New(e, out->size());
        std::memcpy(a.Data(), out->data(), out->size());
        return a;
      });
}

Napi::Value WarpJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ParsedImage img = ParseImage(env, info[0], "image");
  auto src = std::make_shared<Image>(std::move(img.image));
  auto flow = std::make_shared<Image>(ParseFloatField(env, info[1], "flow", src->width, src->height, 2));
  Napi::Object opt = OptionsObject(env, info[2], "options");
  const bool nearest = OptBool(env, opt, "nearest", false);
  const int threads = OptInt(env, opt, "threads", 0, 0, 256);
  const PixelType type = img.type;
  auto out = std::make_shared<Image>();
  return FnWorker::Start(env, CancelFlagFrom(env, info[3], "cancelToken"),
      [=](const CancelFlag&) { *out = Warp(*src, *flow, nearest, threads); },
      [=](Napi::Env e) { return MakeImage(e, *out, type); });
}

Napi::Value FillHolesJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ParsedImage img = ParseImage(env, info[0], "image");
  auto src = std::make_shared<Image>(std::move(img.image));
  auto mask = std::make_shared<std::vector<uint8_t>>(ParseMask(env, info[1], "mask", src->pixels()));
  const PixelType type = img.type;
  auto out = std::make_shared<Image>();
  return FnWorker::Start(env, CancelFlagFrom(env, info[2], "cancelToken"),
      [=](const CancelFlag&) { *out = FillHoles(*src, *mask); },
      [=](Napi::Env e) { return MakeImage(e, *out, type); });
}

Napi::Value EdgeGuideJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ParsedImage img = ParseImage(env, info[0], "image");
  auto src = std::make_shared<Image>(std::move(img.image));
  const PixelType type = img.type;
  auto out = std::make_shared<Image>();
  return FnWorker::Start(env, CancelFlagFrom(env, info[1], "cancelToken"),
      [=](const CancelFlag&) { *out = EdgeGuide(*src); },
      [=](Napi::Env e) { return MakeImage(e, *out, type); });
}

Napi::Value AdvectNnfJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int w = RequireSide(env, info[2], "width"), h = RequireSide(env, info[3], "height");
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(env, "nnf must be an Int32Array");
  }
  Napi::Int32Array a = info[0].As<Napi::Int32Array>();
  const size_t n = static_cast<size_t>(w) * h * 2;
  if (a.ElementLength() != n) throw Napi::RangeError::New(env, "nnf must hold width*height*2 values");
  auto nnf = std::make_shared<std::vector<int32_t>>(a.Data(), a.Data() + n);
  auto flow = std::make_shared<Image>(ParseFloatField(env, info[1], "flow", w, h, 2));
  auto out = std::make_shared<std::vector<int32_t>>();
  return FnWorker::Start(env, CancelFlagFrom(env, info[4], "cancelToken"),
      [=](const CancelFlag&) { *out = AdvectNnf(*nnf, *flow); },
      [=](Napi::Env e) {
        Napi::Int32Array r = Napi::Int32Array::New(e, out->size());
        std::memcpy(r.Data(), out->data(), out->size() * sizeof(int32_t));
        return r;
      });
}

}  // namespace

void InitFlow(Napi::Env env, Napi::Object exports) {
  exports.Set("computeFlow", Napi::Function::New(env, ComputeFlowJs, "computeFlow"));
  exports.Set("occlusionMask", Napi::Function::New(env, OcclusionMaskJs, "occlusionMask"));
  exports.Set("warp", Napi::Function::New(env, WarpJs, "warp"));
  exports.Set("fillHoles", Napi::Function::New(env, FillHolesJs, "fillHoles"));
  exports.Set("edgeGuide", Napi::Function::New(env, EdgeGuideJs, "edgeGuide"));
  exports.Set("advectNnf", Napi::Function::New(env, AdvectNnfJs, "advectNnf"));
}

}  // namespace rr
