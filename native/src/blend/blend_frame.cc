#include "blend_frame.h"

#include <cmath>

#include "histogram_blend.h"

namespace blend {

std::vector<uint8_t> frameMask(const BlendFrameInput& in, const SelectionParams& params) {
  const int64_t count = static_cast<int64_t>(in.width) * in.height;
  std::vector<uint8_t> carried;
  if (in.prevMask != nullptr) {
    if (in.flow != nullptr) {
      carried.resize(count);
      warpMask(in.prevMask, in.flow, in.width, in.height, carried.data());
    } else {
      carried.assign(in.prevMask, in.prevMask + count);  // static camera: carry as is
    }
  }
  std::vector<uint8_t> mask(count);
  selectMaskRule(in.errA, in.errB, in.w, carried.empty() ? nullptr : carried.data(), in.width,
                 in.height, params, mask.data());
  return mask;
}

namespace {

// Where neither side is clearly better, the composite is replaced (in part) by a mix weighted by
// the inverse errors: the one place mixing helps, since a wrong pick there is a coin toss.
void mixUncertain(const cv::Mat& a, const cv::Mat& b, const BlendFrameInput& in, double band,
                  cv::Mat& data) {
  const int64_t count = static_cast<int64_t>(in.width) * in.height;
  const float* pa = a.ptr<float>();
  const float* pb = b.ptr<float>();
  float* pd = data.ptr<float>();
  const int ch = a.channels();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    // The small offset keeps 0/0 (both perfect) an even mix rather than NaN.
    const double ea = in.w * in.errA[i] + 1e-6;
    const double eb = (1.0 - in.w) * in.errB[i] + 1e-6;
    const double m = 1.0 - std::fabs(std::log(ea / eb)) / band;
    if (!(m > 0)) continue;  // also NaN, from negative errors: keep the pick
    const double wb = ea / (ea + eb);
    for (int c = 0; c < ch; ++c) {
      const double mixed = (1.0 - wb) * pa[ch * i + c] + wb * pb[ch * i + c];
      pd[ch * i + c] = static_cast<float>(pd[ch * i + c] + m * (mixed - pd[ch * i + c]));
    }
  }
}

}  // namespace

BlendFrameOutput blendFrame(const BlendFrameInput& in, const BlendOptions& options) {
  const int64_t count = static_cast<int64_t>(in.width) * in.height;
  BlendFrameOutput result;
  result.mask = frameMask(in, options.selection);
  result.composite.resize(count * 3);
  compositeRgb(in.a, in.b, result.mask.data(), count, result.composite.data());

  const cv::Mat a = rgb8ToWork(in.a, in.width, in.height, options.space);
  const cv::Mat b = rgb8ToWork(in.b, in.width, in.height, options.space);
  cv::Mat fused;
  if (options.selection.rule == Selection::Crossfade) {
    fused = alphaBlend(a, b, in.w);  // the naive baseline: no selection, no fusion
  } else {
    cv::Mat data;
    if (options.mix == Mix::Pick) {
      data = rgb8ToWork(result.composite.data(), in.width, in.height, options.space);
      if (options.mixBand > 0) mixUncertain(a, b, in, options.mixBand, data);
    } else if (options.mix == Mix::Histogram) {
      const cv::Mat comp = rgb8ToWork(result.composite.data(), in.width, in.height, options.space);
      data = histogramBlend(a, b, comp, in.w);
    } else {
      data = alphaBlend(a, b, in.w);
    }
    fused = options.poisson ? poissonFuse(a, b, result.mask.data(), data, options.poissonParams)
                            : data;
  }
  result.out.resize(count * 3);
  workToRgb8(fused, options.space, result.out.data());
  if (in.prevOut != nullptr && options.deflicker.strength > 0) {
    // No flow means a static camera, as for the carried mask.
    std::vector<float> still;
    if (in.flow == nullptr) still.assign(count * 2, 0.0f);
    deflicker(result.out.data(), in.prevOut, in.flow != nullptr ? in.flow : still.data(), in.width,
              in.height, options.deflicker);
  }
  return result;
}

}  // namespace blend
