// CancelToken: a JS-visible object whose cancel() flips a flag that native workers poll
// between iterations; the flag is shared, so it outlives the JS object if needed.
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>

namespace rr {

using CancelFlag = std::shared_ptr<std::atomic<bool>>;

class CancelToken : public Napi::ObjectWrap<CancelToken> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit CancelToken(const Napi::CallbackInfo& info);
  CancelFlag flag() const { return flag_; }
  static bool IsToken(Napi::Env env, Napi::Value v);

 private:
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  Napi::Value Cancelled(const Napi::CallbackInfo& info);
  CancelFlag flag_;
};

// Extracts the flag of an optional CancelToken argument (undefined/null gives a fresh, never-set flag).
CancelFlag CancelFlagFrom(Napi::Env env, Napi::Value v, const char* what);

// Thrown inside workers when the flag is set; workers turn it into an AbortError.
struct Cancelled {};

inline void ThrowIfCancelled(const CancelFlag& f) {
  if (f && f->load(std::memory_order_relaxed)) throw Cancelled{};
}

}  // namespace rr
