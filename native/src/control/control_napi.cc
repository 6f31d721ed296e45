// canny(image, options?, cancelToken?) → Promise<{data, width, height, channels: 3}>.
#include "control/control_napi.h"

#include <cmath>
#include <cstring>
#include <memory>

#include "common/napi_args.h"
#include "common/promise_worker.h"
#include "control/canny.h"

namespace rr {

namespace {

Napi::Value CannyJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ParsedImage parsed = ParseImage(env, info[0], "image", 4);
  const Image& img = parsed.image;
  if (img.channels == 2) throw Napi::RangeError::New(env, "image.channels must be 1, 3 or 4");
  if (img.width < 3 || img.height < 3) throw Napi::RangeError::New(env, "image must be at least 3x3");
  Napi::Object opt = OptionsObject(env, info[1], "options");
  CannyParams p;
  p.low = OptNumber(env, opt, "low", 100, 0, 1e6);
  p.high = OptNumber(env, opt, "high", 200, 0, 1e6);
  if (p.high < p.low) throw Napi::RangeError::New(env, "option high must be >= low");
  p.blurKernel = OptInt(env, opt, "blur", 0, 0, 99);
  if (p.blurKernel != 0 && (p.blurKernel < 3 || p.blurKernel % 2 == 0)) {
    throw Napi::RangeError::New(env, "option blur must be 0 (none) or an odd kernel size >= 3");
  }
  p.blurSigma = OptNumber(env, opt, "blurSigma", 0, 0, 100);
  p.aperture = OptInt(env, opt, "aperture", 3, 3, 7);
  if (p.aperture % 2 == 0) throw Napi::RangeError::New(env, "option aperture must be 3, 5 or 7");
  p.l2Gradient = OptBool(env, opt, "l2Gradient", false);

  auto pixels = std::make_shared<std::vector<uint8_t>>(img.data.size());
  for (size_t i = 0; i < img.data.size(); ++i) {
    (*pixels)[i] = static_cast<uint8_t>(std::lround(std::fmin(255.f, std::fmax(0.f, img.data[i]))));
  }
  const int w = img.width, h = img.height, c = img.channels;
  auto out = std::make_shared<std::vector<uint8_t>>();
  return FnWorker::Start(env, CancelFlagFrom(env, info[2], "cancelToken"),
      [=](const CancelFlag& cancel) {
        ThrowIfCancelled(cancel);
        *out = CannyEdges(*pixels, w, h, c, p);
      },
      [=](Napi::Env e) {
        Napi::Object o = Napi::Object::New(e);
        Napi::Uint8Array a = Napi::Uint8Array::New(e, out->size());
        std::memcpy(a.Data(), out->data(), out->size());
        o.Set("data", a);
        o.Set("width", Napi::Number::New(e, w));
        o.Set("height", Napi::Number::New(e, h));
        o.Set("channels", Napi::Number::New(e, 3));
        return o;
      });
}

}  // namespace

void InitControl(Napi::Env env, Napi::Object exports) {
  exports.Set("canny", Napi::Function::New(env, CannyJs, "canny"));
}

}  // namespace rr
