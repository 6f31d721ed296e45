#include "common/cancel_token.h"

namespace rr {

// Type tag instead of a stored constructor: instance data is a single per-addon slot that the
// blend stage may want, and tags also survive several Node environments (worker threads).
static const napi_type_tag kTokenTag = {0x7a1c3e5b9d2f4a61ULL, 0x8e0b6c4d2a193f75ULL};

void CancelToken::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "CancelToken",
                                    {InstanceMethod("cancel", &CancelToken::Cancel),
                                     InstanceAccessor("cancelled", &CancelToken::Cancelled, nullptr)});
  exports.Set("CancelToken", ctor);
}

CancelToken::CancelToken(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<CancelToken>(info), flag_(std::make_shared<std::atomic<bool>>(false)) {
  info.This().As<Napi::Object>().TypeTag(&kTokenTag);
}

Napi::Value CancelToken::Cancel(const Napi::CallbackInfo& info) {
  flag_->store(true);
  return info.Env().Undefined();
}

Napi::Value CancelToken::Cancelled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), flag_->load());
}

bool CancelToken::IsToken(Napi::Env env, Napi::Value v) {
  (void)env;
  return v.IsObject() && v.As<Napi::Object>().CheckTypeTag(&kTokenTag);
}

CancelFlag CancelFlagFrom(Napi::Env env, Napi::Value v, const char* what) {
  if (v.IsUndefined() || v.IsNull()) return std::make_shared<std::atomic<bool>>(false);
  if (!CancelToken::IsToken(env, v)) {
    throw Napi::TypeError::New(env, std::string(what) + " must be a CancelToken (or undefined)");
  }
  return CancelToken::Unwrap(v.As<Napi::Object>())->flag();
}

}  // namespace rr
