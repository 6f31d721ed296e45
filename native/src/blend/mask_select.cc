#include "mask_select.h"

#include <algorithm>
#include <cmath>

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
