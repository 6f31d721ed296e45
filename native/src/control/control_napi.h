// N-API entry points of the ControlNet preprocessors; addon.cc calls InitControl from its Init.
#pragma once
#include <napi.h>

namespace rr {

void InitControl(Napi::Env env, Napi::Object exports);

}  // namespace rr
