#include "blend_frame.h"

#include "histogram_blend.h"
#include "mask_select.h"

namespace blend {

std::vector<uint8_t> frameMask(const BlendFrameInput& in) {
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
  selectMask(in.errA, in.errB, in.w, carried.empty() ? nullptr : carried.data(), count, mask.data());
  return mask;
}

BlendFrameOutput blendFrame(const BlendFrameInput& in, const BlendOptions& options) {
  const int64_t count = static_cast<int64_t>(in.width) * in.height;
  BlendFrameOutput result;
  result.mask = frameMask(in);
  result.composite.resize(count * 3);
  compositeRgb(in.a, in.b, result.mask.data(), count, result.composite.data());

  const cv::Mat a = rgb8ToWork(in.a, in.width, in.height, options.space);
  const cv::Mat b = rgb8ToWork(in.b, in.width, in.height, options.space);
  cv::Mat data;
  if (options.histogram) {
    const cv::Mat comp = rgb8ToWork(result.composite.data(), in.width, in.height, options.space);
    data = histogramBlend(a, b, comp, in.w);
  } else {
    data = alphaBlend(a, b, in.w);
  }
  const cv::Mat fused =
      options.poisson ? poissonFuse(a, b, result.mask.data(), data, options.poissonParams) : data;
  result.out.resize(count * 3);
  workToRgb8(fused, options.space, result.out.data());
  return result;
}

}  // namespace blend
