#include "temporal_filter.h"

#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace blend {

void deflicker(uint8_t* cur, const uint8_t* prev, const float* flow, int width, int height,
               const DeflickerParams& params) {
  if (!(params.strength > 0.0)) return;
  const int64_t count = static_cast<int64_t>(width) * height;
  // Bicubic resampling: the filter is recursive, so a bilinear warp would blur a little more
  // with every frame.
  cv::Mat mapX(height, width, CV_32F), mapY(height, width, CV_32F);
  cv::Mat diff(height, width, CV_32F);
  float* d = diff.ptr<float>();
  const float maxX = static_cast<float>(width - 1);
  const float maxY = static_cast<float>(height - 1);
#pragma omp parallel for schedule(static)
  for (int y = 0; y < height; ++y) {
    float* mx = mapX.ptr<float>(y);
    float* my = mapY.ptr<float>(y);
    for (int x = 0; x < width; ++x) {
      const int64_t i = static_cast<int64_t>(y) * width + x;
      const float sx = static_cast<float>(x) + flow[2 * i];
      const float sy = static_cast<float>(y) + flow[2 * i + 1];
      // NaN fails both comparisons, so non-finite offsets land here too.
      const bool inside = sx >= 0.0f && sx <= maxX && sy >= 0.0f && sy <= maxY;
      mx[x] = inside ? sx : static_cast<float>(x);
      my[x] = inside ? sy : static_cast<float>(y);
      d[i] = inside ? 0.0f : -1.0f;  // -1: no source, never pulled
    }
  }
  cv::Mat prevF;
  cv::Mat(height, width, CV_8UC3, const_cast<uint8_t*>(prev)).convertTo(prevF, CV_32FC3);
  cv::Mat warpedM;
  cv::remap(prevF, warpedM, mapX, mapY, cv::INTER_CUBIC, cv::BORDER_REPLICATE);
  const float* warped = warpedM.ptr<float>();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    if (d[i] < 0.0f) continue;
    float sum = 0.0f;
    for (int c = 0; c < 3; ++c) sum += std::fabs(warped[3 * i + c] - static_cast<float>(cur[3 * i + c]));
    d[i] = sum / 3.0f;
  }
  // A 3x3 mean makes the test about the neighbourhood, so a single noisy pixel does not decide.
  cv::Mat valid = diff >= 0.0f;
  cv::Mat local;
  cv::blur(cv::max(diff, 0.0f), local, cv::Size(3, 3), cv::Point(-1, -1), cv::BORDER_REFLECT);
  const float* l = local.ptr<float>();
  const uint8_t* ok = valid.ptr<uint8_t>();
  const double inv = 1.0 / params.tolerance;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    if (!ok[i]) continue;
    const double r = l[i] * inv;
    const double k = params.strength * std::exp(-0.5 * r * r);
    for (int c = 0; c < 3; ++c) {
      const double v = cur[3 * i + c] + k * (warped[3 * i + c] - cur[3 * i + c]);
      cur[3 * i + c] = static_cast<uint8_t>(std::lround(std::fmin(255.0, std::fmax(0.0, v))));
    }
  }
}

}  // namespace blend
