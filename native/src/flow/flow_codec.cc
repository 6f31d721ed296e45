#include "flow/flow_codec.h"

#include <cmath>
#include <cstring>

namespace rr {

namespace {

// Marks a component kept exactly in the list instead of in fixed point.
constexpr int16_t kOutOfRange = -32768;

// Median edge detector (LOCO-I): left, above, or their gradient, whichever the corner suggests.
inline int Predict(const int16_t* plane, size_t i, int x, int y, int w) {
  if (y == 0) return x == 0 ? 0 : plane[i - 1];
  const int b = plane[i - w];
  if (x == 0) return b;
  const int a = plane[i - 1], c = plane[i - w - 1];
  const int lo = a < b ? a : b, hi = a < b ? b : a;
  if (c >= hi) return lo;
  if (c <= lo) return hi;
  return a + b - c;
}

// Two's-complement wrap to 16 bits: residuals of int16 values fit once wrapped.
inline int16_t Wrap16(int v) { return static_cast<int16_t>(static_cast<uint16_t>(v & 0xffff)); }

void PutU32(uint8_t* p, uint32_t v) {
  for (int k = 0; k < 4; ++k) p[k] = static_cast<uint8_t>(v >> (8 * k));
}

uint32_t GetU32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

}  // namespace

PackedFlow PackFlow(const float* flow, int width, int height, int log2Scale) {
  const size_t n = static_cast<size_t>(width) * height;
  const double scale = std::ldexp(1.0, log2Scale);
  std::vector<int16_t> q(2 * n);
  std::vector<std::pair<uint32_t, float>> listed;
  for (int c = 0; c < 2; ++c) {
    for (size_t i = 0; i < n; ++i) {
      const float v = flow[2 * i + c];
      // floor(x + 0.5): ties upward, as the format was first written (JavaScript's Math.round);
      // exact here, since a float times a power of two plus a half fits a double.
      const double r = std::floor(static_cast<double>(v) * scale + 0.5);
      if (r >= -32767 && r <= 32767) {
        q[c * n + i] = static_cast<int16_t>(r);
      } else {  // also NaN, which fails both comparisons
        q[c * n + i] = kOutOfRange;
        listed.emplace_back(static_cast<uint32_t>(c * n + i), v);
      }
    }
  }
  PackedFlow out;
  out.outOfRange = static_cast<uint32_t>(listed.size());
  out.payload.resize(4 * n + 8 * listed.size());
  uint8_t* lo = out.payload.data();
  uint8_t* hi = lo + 2 * n;
  for (int c = 0; c < 2; ++c) {
    const int16_t* plane = q.data() + c * n;
    size_t i = 0;
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x, ++i) {
        const int r = Wrap16(plane[i] - Predict(plane, i, x, y, width));
        // Zigzag: small magnitudes of either sign get small codes.
        const uint32_t z = ((static_cast<uint32_t>(r) << 1) ^ (r < 0 ? 0xffffffffu : 0u)) & 0xffffu;
        lo[c * n + i] = static_cast<uint8_t>(z & 0xff);
        hi[c * n + i] = static_cast<uint8_t>(z >> 8);
      }
    }
  }
  uint8_t* list = out.payload.data() + 4 * n;
  for (size_t e = 0; e < listed.size(); ++e) {
    PutU32(list + 8 * e, listed[e].first);
    uint32_t bits;
    std::memcpy(&bits, &listed[e].second, 4);
    PutU32(list + 8 * e + 4, bits);
  }
  return out;
}

std::optional<std::vector<float>> UnpackFlow(const uint8_t* payload, size_t bytes, int width, int height,
                                             int log2Scale, uint32_t outOfRange) {
  const size_t n = static_cast<size_t>(width) * height;
  if (bytes != 4 * n + 8 * static_cast<size_t>(outOfRange)) return std::nullopt;
  std::vector<int16_t> q(2 * n);
  const uint8_t* lo = payload;
  const uint8_t* hi = payload + 2 * n;
  size_t marked = 0;
  for (int c = 0; c < 2; ++c) {
    int16_t* plane = q.data() + c * n;
    size_t i = 0;
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x, ++i) {
        const int z = lo[c * n + i] | hi[c * n + i] << 8;
        const int r = (z >> 1) ^ -(z & 1);
        plane[i] = Wrap16(Predict(plane, i, x, y, width) + r);
        marked += plane[i] == kOutOfRange;
      }
    }
  }
  if (marked != outOfRange) return std::nullopt;
  const float inv = static_cast<float>(std::ldexp(1.0, -log2Scale));
  std::vector<float> out(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = q[i] * inv;
    out[2 * i + 1] = q[n + i] * inv;
  }
  const uint8_t* list = payload + 4 * n;
  for (uint32_t e = 0; e < outOfRange; ++e) {
    const uint32_t k = GetU32(list + 8 * e);
    if (k >= 2 * n || q[k] != kOutOfRange) return std::nullopt;
    const uint32_t bits = GetU32(list + 8 * e + 4);
    float v;
    std::memcpy(&v, &bits, 4);
    out[k < n ? 2 * k : 2 * (k - n) + 1] = v;
  }
  return out;
}

}  // namespace rr
