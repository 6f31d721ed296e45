// rerender_native: one N-API module for stage 2 (propagation, blending, full-size
// upsampling) and ControlNet preprocessing.
// Each stage registers its exports.
#include <napi.h>

#include "common/cancel_token.h"
#include "control/control_napi.h"
#include "flow/flow_codec_napi.h"
#include "flow/flow_napi.h"
#include "synth/synth_napi.h"
#include "blend/blend_napi.h"
#include "upsample/upsample_napi.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  rr::CancelToken::Init(env, exports);
  rr::InitSynth(env, exports);
  rr::InitFlow(env, exports);
  rr::InitFlowCodec(env, exports);
  rr::InitControl(env, exports);
  InitBlend(env, exports);
  rr::InitUpsample(env, exports);
  return exports;
}

NODE_API_MODULE(rerender_native, Init)
