#include "mask_select.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace blend {

void warpMask(const uint8_t* prevMask, const float* flow, int width, int height, uint8_t* out) {
  const float maxX = static_cast<float>(width - 1);
  const float maxY = static_cast<float>(height - 1);
#pragma omp parallel for schedule(static)
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const int64_t i = static_cast<int64_t>(y) * width + x;
      const float dx = flow[2 * i];
      const float dy = flow[2 * i + 1];
      if (!std::isfinite(dx) || !std::isfinite(dy)) {
        out[i] = 0;
        continue;
      }
      const float sx = std::clamp(static_cast<float>(x) + dx, 0.0f, maxX);
      const float sy = std::clamp(static_cast<float>(y) + dy, 0.0f, maxY);
      const int x0 = static_cast<int>(sx);
      const int y0 = static_cast<int>(sy);
      const int x1 = std::min(x0 + 1, width - 1);
      const int y1 = std::min(y0 + 1, height - 1);
      const float fx = sx - static_cast<float>(x0);
      const float fy = sy - static_cast<float>(y0);
      auto at = [&](int xx, int yy) {
        return prevMask[static_cast<int64_t>(yy) * width + xx] ? 1.0f : 0.0f;
      };
      const float top = at(x0, y0) * (1 - fx) + at(x1, y0) * fx;
      const float bottom = at(x0, y1) * (1 - fx) + at(x1, y1) * fx;
      out[i] = (top * (1 - fy) + bottom * fy) > 0.5f ? 1 : 0;
    }
  }
}

void selectMask(const float* errA, const float* errB, double w, const uint8_t* carried,
                int64_t count, uint8_t* out) {
  const bool tieToB = w >= 0.5;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    const double lhs = w * static_cast<double>(errA[i]);
    const double rhs = (1.0 - w) * static_cast<double>(errB[i]);
    const bool pickB = lhs > rhs || (lhs == rhs && tieToB);
    out[i] = (pickB || (carried != nullptr && carried[i] != 0)) ? 1 : 0;
  }
}

void selectMaskRule(const float* errA, const float* errB, double w, const uint8_t* carried,
                    int width, int height, const SelectionParams& params, uint8_t* out) {
  const int64_t count = static_cast<int64_t>(width) * height;
  if (params.rule == Selection::Nearest || params.rule == Selection::Crossfade) {
    // Ties (w = 0.5) go to the first key, as EbSynth's nearest-key workflow does.
    std::fill(out, out + count, static_cast<uint8_t>(w > 0.5 ? 1 : 0));
    return;
  }
  const float* ea = errA;
  const float* eb = errB;
  cv::Mat sa, sb;
  if (params.radius > 0) {
    // Comparing local sums lets a region switch as a whole; weighting stays w*errA vs (1-w)*errB.
    const cv::Size box(2 * params.radius + 1, 2 * params.radius + 1);
    cv::blur(cv::Mat(height, width, CV_32F, const_cast<float*>(errA)), sa, box, cv::Point(-1, -1),
             cv::BORDER_REFLECT);
    cv::blur(cv::Mat(height, width, CV_32F, const_cast<float*>(errB)), sb, box, cv::Point(-1, -1),
             cv::BORDER_REFLECT);
    ea = sa.ptr<float>();
    eb = sb.ptr<float>();
  }
  if (params.rule == Selection::Carry) {
    selectMask(ea, eb, w, carried, count, out);
    return;
  }
  // Hysteresis. The key frames themselves are fixed whatever was carried.
  if (w <= 0.0 || w >= 1.0) {
    std::fill(out, out + count, static_cast<uint8_t>(w >= 1.0 ? 1 : 0));
    return;
  }
  if (carried == nullptr) {
    selectMask(ea, eb, w, nullptr, count, out);
    return;
  }
  const double keep = 1.0 + params.hysteresis;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    const double lhs = w * static_cast<double>(ea[i]);
    const double rhs = (1.0 - w) * static_cast<double>(eb[i]);
    out[i] = carried[i] ? (rhs > keep * lhs ? 0 : 1) : (lhs > keep * rhs ? 1 : 0);
  }
}

void compositeRgb(const uint8_t* a, const uint8_t* b, const uint8_t* mask, int64_t count,
                  uint8_t* out) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    const uint8_t* src = mask[i] ? b : a;
    out[3 * i] = src[3 * i];
    out[3 * i + 1] = src[3 * i + 1];
    out[3 * i + 2] = src[3 * i + 2];
  }
}

}  // namespace blend
