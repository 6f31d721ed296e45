// synthesize(style, guides, options?, cancelToken?, onProgress?) -> Promise<{image, error, nnf}>
// meanBestPatchError(target, source, options?, cancelToken?) -> Promise<number>
#include "synth/synth_napi.h"

#include <cmath>
#include <cstring>

#include "common/napi_args.h"
#include "common/promise_worker.h"
#include "synth/synth.h"

namespace rr {

namespace {

constexpr int kMaxGuides = 16;

class SynthWorker : public PromiseWorker {
 public:
  SynthWorker(Napi::Env env, CancelFlag cancel, Napi::Function onProgress, Image style, PixelType type,
              std::vector<GuidePair> guides, SynthParams params, std::unique_ptr<Nnf> init)
      : PromiseWorker(env, std::move(cancel), onProgress), style_(std::move(style)), type_(type),
        guides_(std::move(guides)), params_(params), init_(std::move(init)) {}

 protected:
  void Compute(const std::function<void(double)>& report) override {
    result_ = Synthesize(style_, guides_, params_, init_.get(), report, cancel());
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("image", MakeImage(env, result_.image, type_));
    o.Set("error", MakeFloat32(env, result_.error));
    Napi::Int32Array nnf = Napi::Int32Array::New(env, result_.nnf.xy.size());
    std::memcpy(nnf.Data(), result_.nnf.xy.data(), result_.nnf.xy.size() * sizeof(int32_t));
    o.Set("nnf", nnf);
    return o;
  }

 private:
  Image style_;
  PixelType type_;
  std::vector<GuidePair> guides_;
  SynthParams params_;
  std::unique_ptr<Nnf> init_;
  SynthResult result_;
};

Napi::Value SynthesizeJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ParsedImage style = ParseImage(env, info[0], "style");
  if (!info[1].IsArray()) throw Napi::TypeError::New(env, "guides must be an array of {source, target, weight}");
  Napi::Array garr = info[1].As<Napi::Array>();
  if (garr.Length() > kMaxGuides) throw Napi::RangeError::New(env, "at most 16 guides are supported");
  Napi::Object opt = OptionsObject(env, info[2], "options");

  SynthParams p;
  p.targetWidth = style.image.width;
  p.targetHeight = style.image.height;
  std::vector<GuidePair> guides;
  for (uint32_t i = 0; i < garr.Length(); ++i) {
    const std::string name = "guides[" + std::to_string(i) + "]";
    Napi::Value gv = garr.Get(i);
    if (!gv.IsObject()) throw Napi::TypeError::New(env, name + " must be an object {source, target, weight}");
    Napi::Object g = gv.As<Napi::Object>();
    GuidePair pair;
    pair.source = ParseImage(env, g.Get("source"), name + ".source").image;
    pair.target = ParseImage(env, g.Get("target"), name + ".target").image;
    Napi::Value wv = g.Get("weight");
    if (!wv.IsNumber()) throw Napi::TypeError::New(env, name + ".weight must be a number");
    const double w = wv.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(w) || w < 0) throw Napi::RangeError::New(env, name + ".weight must be finite and >= 0, got " + std::to_string(w));
    pair.weight = static_cast<float>(w);
    if (pair.source.width != style.image.width || pair.source.height != style.image.height) {
      throw Napi::RangeError::New(env, name + ".source is " + std::to_string(pair.source.width) + "x" +
                                           std::to_string(pair.source.height) + " but the style image is " +
                                           std::to_string(style.image.width) + "x" + std::to_string(style.image.height));
    }
    if (pair.target.channels != pair.source.channels) {
      throw Napi::RangeError::New(env, name + ": source and target channel counts differ");
    }
    if (i == 0) {
      p.targetWidth = pair.target.width;
      p.targetHeight = pair.target.height;
    } else if (pair.target.width != p.targetWidth || pair.target.height != p.targetHeight) {
      throw Napi::RangeError::New(env, name + ".target size differs from guides[0].target");
    }
    guides.push_back(std::move(pair));
  }
  if (guides.empty()) {
    p.targetWidth = OptInt(env, opt, "width", style.image.width, 1, kMaxSide);
    p.targetHeight = OptInt(env, opt, "height", style.image.height, 1, kMaxSide);
  }
  p.patchSize = OptInt(env, opt, "patchSize", 5, 3, 15);
  if (p.patchSize % 2 == 0) throw Napi::RangeError::New(env, "option patchSize must be odd");
  p.levels = OptInt(env, opt, "pyramidLevels", 0, 0, 16);
  p.searchVoteIters = OptInt(env, opt, "searchVoteIters", 12, 1, 1000);
  p.patchMatchIters = OptInt(env, opt, "patchMatchIters", 6, 0, 1000);
  p.uniformityWeight = static_cast<float>(OptNumber(env, opt, "uniformityWeight", 3500, 0, 1e9));
  p.styleWeight = static_cast<float>(OptNumber(env, opt, "styleWeight", 1, 0, 1e6));
  p.extraPass3x3 = OptBool(env, opt, "extraPass3x3", false);
  p.stopThreshold = static_cast<float>(OptNumber(env, opt, "stopThreshold", 5, 0, 255));
  p.stopDilate = OptBool(env, opt, "stopDilate", false);
  p.convergence = static_cast<float>(OptNumber(env, opt, "convergence", 0, 0, 1));
  p.seed = OptUint32(env, opt, "seed", 1);
  p.threads = OptInt(env, opt, "threads", 0, 0, 256);
  Napi::Value vm = opt.Get("voteMode");
  if (!vm.IsUndefined()) {
    const std::string mode = vm.IsString() ? vm.As<Napi::String>().Utf8Value() : "";
    if (mode != "weighted" && mode != "plain") throw Napi::TypeError::New(env, "option voteMode must be 'weighted' or 'plain'");
    p.weightedVote = mode == "weighted";
  }
  const int minSide = std::min({style.image.width, style.image.height, p.targetWidth, p.targetHeight});
  if (minSide < p.patchSize) {
    throw Napi::RangeError::New(env, "images must be at least patchSize (" + std::to_string(p.patchSize) +
                                         ") pixels on each side");
  }
  std::unique_ptr<Nnf> init;
  Napi::Value iv = opt.Get("initNnf");
  if (!iv.IsUndefined() && !iv.IsNull()) {
    if (!iv.IsTypedArray() || iv.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      throw Napi::TypeError::New(env, "option initNnf must be an Int32Array");
    }
    Napi::Int32Array a = iv.As<Napi::Int32Array>();
    const size_t n = static_cast<size_t>(p.targetWidth) * p.targetHeight * 2;
    if (a.ElementLength() != n) throw Napi::RangeError::New(env, "option initNnf must hold width*height*2 = " + std::to_string(n) + " values");
    init = std::make_unique<Nnf>();
    init->width = p.targetWidth;
    init->height = p.targetHeight;
    init->xy.assign(a.Data(), a.Data() + n);
  }
  CancelFlag cancel = CancelFlagFrom(env, info[3], "cancelToken");
  Napi::Function onProgress;
  if (!info[4].IsUndefined() && !info[4].IsNull()) {
    if (!info[4].IsFunction()) throw Napi::TypeError::New(env, "onProgress must be a function");
    onProgress = info[4].As<Napi::Function>();
  }
  auto* w = new SynthWorker(env, cancel, onProgress, std::move(style.image), style.type, std::move(guides), p,
                            std::move(init));
  Napi::Promise promise = w->Promise();
  w->Queue();
  return promise;
}

class PatchErrorWorker : public PromiseWorker {
 public:
  PatchErrorWorker(Napi::Env env, CancelFlag cancel, Image target, Image source, int patch, int iters,
                   uint32_t seed, int threads)
      : PromiseWorker(env, std::move(cancel), Napi::Function()), target_(std::move(target)),
        source_(std::move(source)), patch_(patch), iters_(iters), seed_(seed), threads_(threads) {}

 protected:
  void Compute(const std::function<void(double)>&) override {
    value_ = MeanBestPatchError(target_, source_, patch_, iters_, seed_, threads_, cancel());
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, value_); }

 private:
  Image target_, source_;
  int patch_, iters_;
  uint32_t seed_;
  int threads_;
  double value_ = 0;
};

Napi::Value MeanBestPatchErrorJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ParsedImage target = ParseImage(env, info[0], "target");
  ParsedImage source = ParseImage(env, info[1], "source");
  if (target.image.channels != source.image.channels) throw Napi::RangeError::New(env, "target and source channel counts differ");
  Napi::Object opt = OptionsObject(env, info[2], "options");
  const int patch = OptInt(env, opt, "patchSize", 5, 3, 15);
  if (patch % 2 == 0) throw Napi::RangeError::New(env, "option patchSize must be odd");
  if (std::min({target.image.width, target.image.height, source.image.width, source.image.height}) < patch) {
    throw Napi::RangeError::New(env, "images must be at least patchSize pixels on each side");
  }
  const int iters = OptInt(env, opt, "iterations", 8, 1, 1000);
  const uint32_t seed = OptUint32(env, opt, "seed", 1);
  const int threads = OptInt(env, opt, "threads", 0, 0, 256);
  CancelFlag cancel = CancelFlagFrom(env, info[3], "cancelToken");
  auto* w = new PatchErrorWorker(env, cancel, std::move(target.image), std::move(source.image), patch, iters, seed, threads);
  Napi::Promise promise = w->Promise();
  w->Queue();
  return promise;
}

}  // namespace

void InitSynth(Napi::Env env, Napi::Object exports) {
  exports.Set("synthesize", Napi::Function::New(env, SynthesizeJs, "synthesize"));
  exports.Set("meanBestPatchError", Napi::Function::New(env, MeanBestPatchErrorJs, "meanBestPatchError"));
}

}  // namespace rr
