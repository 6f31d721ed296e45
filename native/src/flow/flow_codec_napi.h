#pragma once
#include <napi.h>

namespace rr {
// Exports packFlow and unpackFlow (the flow cache's entry payload, see flow_codec.h).
void InitFlowCodec(Napi::Env env, Napi::Object exports);
}  // namespace rr
