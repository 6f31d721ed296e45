// packFlow / unpackFlow: the inputs are copied on the JS thread (a memcpy), the work runs off it.
#include "flow/flow_codec_napi.h"

#include <atomic>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "common/napi_args.h"
#include "common/promise_worker.h"
#include "flow/flow_codec.h"

namespace rr {

namespace {

int RequireInt(Napi::Env env, Napi::Value v, const char* what, double lo, double hi) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string(what) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo && d <= hi) || d != static_cast<double>(static_cast<long long>(d))) {
    throw Napi::RangeError::New(env, std::string(what) + " must be an integer in [" + std::to_string(static_cast<long long>(lo)) +
                                         ", " + std::to_string(static_cast<long long>(hi)) + "]");
  }
  return static_cast<int>(d);
}

// packFlow(flow: Float32Array, width, height, log2Scale) -> Promise<{ payload: Uint8Array, outOfRange }>
Napi::Value PackFlowJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int w = RequireInt(env, info[1], "width", 1, kMaxSide), h = RequireInt(env, info[2], "height", 1, kMaxSide);
  const int log2Scale = RequireInt(env, info[3], "log2Scale", 0, 14);
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, "flow must be a Float32Array");
  }
  Napi::Float32Array f = info[0].As<Napi::Float32Array>();
  const size_t n = static_cast<size_t>(w) * h * 2;
  if (f.ElementLength() != n) throw Napi::RangeError::New(env, "flow must hold width*height*2 = " + std::to_string(n) + " values");
  auto flow = std::make_shared<std::vector<float>>(f.Data(), f.Data() + n);
  auto out = std::make_shared<PackedFlow>();
  return FnWorker::Start(env, std::make_shared<std::atomic<bool>>(false),
      [=](const CancelFlag&) { *out = PackFlow(flow->data(), w, h, log2Scale); },
      [=](Napi::Env e) {
        Napi::Object o = Napi::Object::New(e);
        Napi::Uint8Array payload = Napi::Uint8Array::New(e, out->payload.size());
        if (!out->payload.empty()) std::memcpy(payload.Data(), out->payload.data(), out->payload.size());
        o.Set("payload", payload);
        o.Set("outOfRange", out->outOfRange);
        return o;
      });
}

// unpackFlow(payload: Uint8Array, width, height, log2Scale, outOfRange) -> Promise<Float32Array | null>
Napi::Value UnpackFlowJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int w = RequireInt(env, info[1], "width", 1, kMaxSide), h = RequireInt(env, info[2], "height", 1, kMaxSide);
  const int log2Scale = RequireInt(env, info[3], "log2Scale", 0, 14);
  const int outOfRange = RequireInt(env, info[4], "outOfRange", 0, 2.0 * kMaxSide * kMaxSide);
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(env, "payload must be a Uint8Array");
  }
  Napi::Uint8Array p = info[0].As<Napi::Uint8Array>();
  auto payload = std::make_shared<std::vector<uint8_t>>(p.Data(), p.Data() + p.ElementLength());
  auto out = std::make_shared<std::optional<std::vector<float>>>();
  return FnWorker::Start(env, std::make_shared<std::atomic<bool>>(false),
      [=](const CancelFlag&) {
        *out = UnpackFlow(payload->data(), payload->size(), w, h, log2Scale, static_cast<uint32_t>(outOfRange));
      },
      [=](Napi::Env e) -> Napi::Value {
        if (!out->has_value()) return e.Null();  // damaged: the cache recomputes the flow
        return MakeFloat32(e, **out);
      });
}

}  // namespace

void InitFlowCodec(Napi::Env env, Napi::Object exports) {
  exports.Set("packFlow", Napi::Function::New(env, PackFlowJs, "packFlow"));
  exports.Set("unpackFlow", Napi::Function::New(env, UnpackFlowJs, "unpackFlow"));
}

}  // namespace rr
