#include "synth/pyramid.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace rr {

int AutoLevels(int minSide, int patchSize) {
  int levels = 1;
  while (LevelSide(minSide, levels) >= 2 * patchSize && levels < 16) ++levels;
  return levels;
}

int LevelSide(int side, int level) {
  const int s = (side + (1 << level) - 1) >> level;
  return s < 1 ? 1 : s;
}

Image Downscale(const Image& img, int width, int height) {
  if (width == img.width && height == img.height) return img;
  Image out(width, height, img.channels);
  if (img.channels <= 4) {
    // Interleaved in place: no plane copies, and OpenCV runs it on its own threads (each output
    // pixel is computed the same way whatever the split).
    const cv::Mat in(img.height, img.width, CV_32FC(img.channels), const_cast<float*>(img.data.data()));
    cv::Mat dst(height, width, CV_32FC(img.channels), out.data.data());
    cv::resize(in, dst, cv::Size(width, height), 0, 0, cv::INTER_AREA);
    return out;
  }
  // Channel by channel: INTER_AREA handles any size ratio; per-plane keeps >4 channels simple.
  cv::Mat plane(img.height, img.width, CV_32F), small;
  for (int c = 0; c < img.channels; ++c) {
    for (size_t i = 0; i < img.pixels(); ++i) plane.ptr<float>()[i] = img.data[i * img.channels + c];
    cv::resize(plane, small, cv::Size(width, height), 0, 0, cv::INTER_AREA);
    for (size_t i = 0; i < out.pixels(); ++i) out.data[i * img.channels + c] = small.ptr<float>()[i];
  }
  return out;
}

}  // namespace rr
