// rerender_native: one N-API module for stage 2 (propagation) and ControlNet preprocessing.
// Each stage registers its exports.
#include <napi.h>

#include "common/cancel_token.h"
#include "control/control_napi.h"
#include "flow/flow_napi.h"
#include "synth/synth_napi.h"

#if __has_include("blend/blend_napi.h")
#include "blend/blend_napi.h"
#define RR_HAVE_BLEND 1
#endif

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  rr::CancelToken::Init(env, exports);
  rr::InitSynth(env, exports);
  rr::InitFlow(env, exports);
  rr::InitControl(env, exports);
#ifdef RR_HAVE_BLEND
  InitBlend(env, exports);
#endif
  return exports;
}

NODE_API_MODULE(rerender_native, Init)
