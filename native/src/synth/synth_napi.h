#pragma once
#include <napi.h>

namespace rr {
// Exports synthesize() and meanBestPatchError().
void InitSynth(Napi::Env env, Napi::Object exports);
}  // namespace rr
