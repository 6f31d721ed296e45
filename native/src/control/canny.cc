#include "control/canny.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace rr {

std::vector<uint8_t> CannyEdges(const std::vector<uint8_t>& pixels, int width, int height, int channels,
                                const CannyParams& params) {
  cv::Mat src(height, width, CV_8UC(channels), const_cast<uint8_t*>(pixels.data()));
  cv::Mat img;
  if (channels == 4) {
    cv::cvtColor(src, img, cv::COLOR_RGBA2RGB);
  } else {
    img = src;
  }
  if (params.blurKernel > 0) {
    cv::Mat blurred;
    cv::GaussianBlur(img, blurred, cv::Size(params.blurKernel, params.blurKernel), params.blurSigma);
    img = blurred;
  }
  cv::Mat edges;
  cv::Canny(img, edges, params.low, params.high, params.aperture, params.l2Gradient);
  std::vector<uint8_t> out(static_cast<size_t>(width) * height * 3);
  cv::Mat rgb(height, width, CV_8UC3, out.data());
  cv::cvtColor(edges, rgb, cv::COLOR_GRAY2RGB);
  return out;
}

}  // namespace rr
