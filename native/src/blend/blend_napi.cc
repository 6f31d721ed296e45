// JS surface of the blending stage. Arguments are validated and copied on the JS thread; the work
// runs on the libuv pool and settles a Promise, so the event loop never waits on a frame.
#include "blend_napi.h"

#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "blend_args.h"
#include "blend_frame.h"
#include "color_space.h"
#include "histogram_blend.h"
#include "mask_select.h"
#include "poisson_fuse.h"

namespace {

using blend::args::FrameSize;

// Runs compute() off the JS thread, then convert() on it to build the resolved value.
template <typename Result>
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Compute = std::function<Result()>;
  using Convert = std::function<Napi::Value(Napi::Env, Result&)>;

  static Napi::Promise Start(Napi::Env env, const char* name, Compute compute, Convert convert) {
    auto* worker = new PromiseWorker(env, name, std::move(compute), std::move(convert));
    Napi::Promise promise = worker->deferred_.Promise();
    worker->Queue();  // the worker deletes itself after settling
    return promise;
  }

 protected:
  void Execute() override {
    try {
      result_ = compute_();
    } catch (const std::exception& e) {
      SetError(name_ + ": " + e.what());
    } catch (...) {
      SetError(name_ + ": unknown native error");
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      deferred_.Resolve(convert_(env, result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  PromiseWorker(Napi::Env env, const char* name, Compute compute, Convert convert)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        name_(name),
        compute_(std::move(compute)),
        convert_(std::move(convert)) {}

  Napi::Promise::Deferred deferred_;
  std::string name_;
  Compute compute_;
  Convert convert_;
  Result result_{};
};

Napi::Uint8Array toUint8Array(Napi::Env env, const std::vector<uint8_t>& v) {
  Napi::Uint8Array arr = Napi::Uint8Array::New(env, v.size());
  if (!v.empty()) std::memcpy(arr.Data(), v.data(), v.size());
  return arr;
}

Napi::Float32Array toFloat32Array(Napi::Env env, const cv::Mat& m) {
  CV_Assert(m.depth() == CV_32F && m.isContinuous());
  const size_t n = m.total() * m.channels();
  Napi::Float32Array arr = Napi::Float32Array::New(env, n);
  if (n > 0) std::memcpy(arr.Data(), m.ptr<float>(), n * sizeof(float));
  return arr;
}

// Owned copies of the per-frame inputs shared by blendFrame and selectMask.
struct FrameArgs {
  FrameSize size{};
  std::vector<uint8_t> a, b, prevMask, prevOut;
  std::vector<float> errA, errB, flow;
  double w = 0;

  blend::BlendFrameInput view() const {
    blend::BlendFrameInput in;
    in.a = a.empty() ? nullptr : a.data();
    in.b = b.empty() ? nullptr : b.data();
    in.errA = errA.data();
    in.errB = errB.data();
    in.w = w;
    in.prevMask = prevMask.empty() ? nullptr : prevMask.data();
    in.flow = flow.empty() ? nullptr : flow.data();
    in.prevOut = prevOut.empty() ? nullptr : prevOut.data();
    in.width = size.width;
    in.height = size.height;
    return in;
  }
};

std::shared_ptr<FrameArgs> readFrameArgs(const Napi::Object& o, bool withImages, const char* fn) {
  namespace args = blend::args;
  auto f = std::make_shared<FrameArgs>();
  f->size = args::frameSize(o, fn);
  const size_t n = f->size.count;
  if (withImages) {
    f->a = args::bytes(o, "a", n * 3, false, fn);
    f->b = args::bytes(o, "b", n * 3, false, fn);
    f->prevOut = args::bytes(o, "prevOut", n * 3, true, fn);
  }
  f->errA = args::floats(o, "errA", n, false, true, fn);
  f->errB = args::floats(o, "errB", n, false, true, fn);
  f->w = args::unitWeight(o, "w", fn);
  f->prevMask = args::bytes(o, "prevMask", n, true, fn);
  args::checkBinary(o.Env(), f->prevMask, "prevMask", fn);
  f->flow = args::floats(o, "flow", n * 2, true, false, fn);
  return f;
}

// blendFrame({a, b, errA, errB, w, prevMask?, flow?, prevOut?, width, height, options?})
//   -> Promise<{out, mask, composite}>
Napi::Value BlendFrameJs(const Napi::CallbackInfo& info) {
  const char* fn = "blendFrame";
  const Napi::Object o = blend::args::argumentObject(info, fn);
  auto in = readFrameArgs(o, true, fn);
  const blend::BlendOptions options = blend::args::blendOptions(o, fn);
  return PromiseWorker<blend::BlendFrameOutput>::Start(
      info.Env(), fn, [in, options] { return blend::blendFrame(in->view(), options); },
      [](Napi::Env env, blend::BlendFrameOutput& r) -> Napi::Value {
        Napi::Object res = Napi::Object::New(env);
        res.Set("out", toUint8Array(env, r.out));
        res.Set("mask", toUint8Array(env, r.mask));
        res.Set("composite", toUint8Array(env, r.composite));
        return res;
      });
}

// selectMask({errA, errB, w, prevMask?, flow?, width, height, options?}) -> Promise<Uint8Array>;
// options: the selection fields of blendFrame's options (others are ignored).
Napi::Value SelectMaskJs(const Napi::CallbackInfo& info) {
  const char* fn = "selectMask";
  const Napi::Object o = blend::args::argumentObject(info, fn);
  auto in = readFrameArgs(o, false, fn);
  const blend::SelectionParams params =
      blend::args::selectionParams(blend::args::optionsObject(o, fn), fn);
  return PromiseWorker<std::vector<uint8_t>>::Start(
      info.Env(), fn, [in, params] { return blend::frameMask(in->view(), params); },
      [](Napi::Env env, std::vector<uint8_t>& r) -> Napi::Value { return toUint8Array(env, r); });
}

struct HistogramResult {
  std::vector<uint8_t> rgb;
  cv::Mat working;
};

// histogramBlend({a, b, composite, w, width, height, colorSpace?})
//   -> Promise<{out: Uint8Array (RGB), working: Float32Array (Lab or RGB floats)}>
Napi::Value HistogramBlendJs(const Napi::CallbackInfo& info) {
  namespace args = blend::args;
  const char* fn = "histogramBlend";
  const Napi::Object o = args::argumentObject(info, fn);
  const FrameSize size = args::frameSize(o, fn);
  auto a = std::make_shared<std::vector<uint8_t>>(args::bytes(o, "a", size.count * 3, false, fn));
  auto b = std::make_shared<std::vector<uint8_t>>(args::bytes(o, "b", size.count * 3, false, fn));
  auto c = std::make_shared<std::vector<uint8_t>>(
      args::bytes(o, "composite", size.count * 3, false, fn));
  const double w = args::unitWeight(o, "w", fn);
  const blend::WorkSpace space = args::workSpace(o.Get("colorSpace"), fn);
  return PromiseWorker<HistogramResult>::Start(
      info.Env(), fn,
      [=] {
        const cv::Mat wa = blend::rgb8ToWork(a->data(), size.width, size.height, space);
        const cv::Mat wb = blend::rgb8ToWork(b->data(), size.width, size.height, space);
        const cv::Mat wc = blend::rgb8ToWork(c->data(), size.width, size.height, space);
        HistogramResult r;
        r.working = blend::histogramBlend(wa, wb, wc, w);
        r.rgb.resize(size.count * 3);
        blend::workToRgb8(r.working, space, r.rgb.data());
        return r;
      },
      [](Napi::Env env, HistogramResult& r) -> Napi::Value {
        Napi::Object res = Napi::Object::New(env);
        res.Set("out", toUint8Array(env, r.rgb));
        res.Set("working", toFloat32Array(env, r.working));
        return res;
      });
}

// poissonFuse({a, b?, mask?, target, width, height, channels?, gradClip?, screening?})
//   -> Promise<Float32Array>; a, b, target interleaved float images with `channels` channels.
Napi::Value PoissonFuseJs(const Napi::CallbackInfo& info) {
  namespace args = blend::args;
  const char* fn = "poissonFuse";
  const Napi::Object o = args::argumentObject(info, fn);
  const FrameSize size = args::frameSize(o, fn);
  const int channels = args::integerIn(o, "channels", 1, 4, 3, fn);
  const size_t n = size.count * channels;
  auto a = std::make_shared<std::vector<float>>(args::floats(o, "a", n, false, true, fn));
  auto b = std::make_shared<std::vector<float>>(args::floats(o, "b", n, true, true, fn));
  auto target = std::make_shared<std::vector<float>>(args::floats(o, "target", n, false, true, fn));
  auto mask = std::make_shared<std::vector<uint8_t>>(args::bytes(o, "mask", size.count, true, fn));
  args::checkBinary(o.Env(), *mask, "mask", fn);
  const blend::PoissonParams params = args::poissonParams(o, channels, fn);
  return PromiseWorker<cv::Mat>::Start(
      info.Env(), fn,
      [=] {
        const int type = CV_32FC(channels);
        const cv::Mat ma(size.height, size.width, type, a->data());
        const cv::Mat mb = b->empty() ? ma : cv::Mat(size.height, size.width, type, b->data());
        const cv::Mat mt(size.height, size.width, type, target->data());
        return blend::poissonFuse(ma, mb, mask->empty() ? nullptr : mask->data(), mt, params);
      },
      [](Napi::Env env, cv::Mat& r) -> Napi::Value { return toFloat32Array(env, r); });
}

// rgbToLab({rgb, width, height}) -> Promise<Float32Array> (L, a, b interleaved)
Napi::Value RgbToLabJs(const Napi::CallbackInfo& info) {
  namespace args = blend::args;
  const char* fn = "rgbToLab";
  const Napi::Object o = args::argumentObject(info, fn);
  const FrameSize size = args::frameSize(o, fn);
  auto rgb = std::make_shared<std::vector<uint8_t>>(args::bytes(o, "rgb", size.count * 3, false, fn));
  return PromiseWorker<cv::Mat>::Start(
      info.Env(), fn,
      [=] { return blend::rgb8ToWork(rgb->data(), size.width, size.height, blend::WorkSpace::Lab); },
      [](Napi::Env env, cv::Mat& r) -> Napi::Value { return toFloat32Array(env, r); });
}

// labToRgb({lab, width, height}) -> Promise<Uint8Array>
Napi::Value LabToRgbJs(const Napi::CallbackInfo& info) {
  namespace args = blend::args;
  const char* fn = "labToRgb";
  const Napi::Object o = args::argumentObject(info, fn);
  const FrameSize size = args::frameSize(o, fn);
  auto lab = std::make_shared<std::vector<float>>(args::floats(o, "lab", size.count * 3, false, true, fn));
  return PromiseWorker<std::vector<uint8_t>>::Start(
      info.Env(), fn,
      [=] {
        const cv::Mat m(size.height, size.width, CV_32FC3, lab->data());
        std::vector<uint8_t> out(size.count * 3);
        blend::workToRgb8(m, blend::WorkSpace::Lab, out.data());
        return out;
      },
      [](Napi::Env env, std::vector<uint8_t>& r) -> Napi::Value { return toUint8Array(env, r); });
}

}  // namespace

void InitBlend(Napi::Env env, Napi::Object exports) {
  exports.Set("blendFrame", Napi::Function::New(env, BlendFrameJs, "blendFrame"));
  exports.Set("selectMask", Napi::Function::New(env, SelectMaskJs, "selectMask"));
  exports.Set("histogramBlend", Napi::Function::New(env, HistogramBlendJs, "histogramBlend"));
  exports.Set("poissonFuse", Napi::Function::New(env, PoissonFuseJs, "poissonFuse"));
  exports.Set("rgbToLab", Napi::Function::New(env, RgbToLabJs, "rgbToLab"));
  exports.Set("labToRgb", Napi::Function::New(env, LabToRgbJs, "labToRgb"));
}
