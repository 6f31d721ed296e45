// N-API entry point of the blending stage; addon.cc calls InitBlend from its module Init.
#pragma once
#include <napi.h>

void InitBlend(Napi::Env env, Napi::Object exports);
