#pragma once
#include <napi.h>

namespace rr {
// Exports computeFlow, occlusionMask, warp, fillHoles, edgeGuide, advectNnf.
void InitFlow(Napi::Env env, Napi::Object exports);
}  // namespace rr
