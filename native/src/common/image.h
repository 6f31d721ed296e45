// Plain interleaved float image used by every native stage (values on a 0..255 scale).
#pragma once
#include <cstddef>
#include <vector>

namespace rr {

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<float> data;

  Image() = default;
  Image(int w, int h, int c, float fill = 0.f)
      : width(w), height(h), channels(c), data(static_cast<size_t>(w) * h * c, fill) {}
  size_t pixels() const { return static_cast<size_t>(width) * height; }
  float* at(int x, int y) { return data.data() + (static_cast<size_t>(y) * width + x) * channels; }
  const float* at(int x, int y) const {
    return data.data() + (static_cast<size_t>(y) * width + x) * channels;
  }
};

}  // namespace rr
