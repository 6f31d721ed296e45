// N-API entry point of guided upsampling; addon.cc calls InitUpsample from its Init.
#pragma once
#include <napi.h>

namespace rr {

void InitUpsample(Napi::Env env, Napi::Object exports);

}  // namespace rr
