#include "flow/flow.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

#include "common/parallel.h"

namespace rr {

namespace {

cv::Mat ToGrey8(const Image& img) {
  cv::Mat g(img.height, img.width, CV_8U);
  for (int y = 0; y < img.height; ++y) {
    uint8_t* row = g.ptr<uint8_t>(y);
    for (int x = 0; x < img.width; ++x) {
      const float* p = img.at(x, y);
      const float v = img.channels >= 3 ? 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2] : p[0];
      row[x] = static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
    }
  }
  return g;
}

Image FromFlowMat(const cv::Mat& m) {
  Image out(m.cols, m.rows, 2);
  for (int y = 0; y < m.rows; ++y) {
    const float* row = m.ptr<float>(y);
    std::copy(row, row + 2 * m.cols, out.at(0, y));
  }
  return out;
}

inline void Bilinear(const Image& img, float x, float y, float* out) {
  x = std::clamp(x, 0.f, static_cast<float>(img.width - 1));
  y = std::clamp(y, 0.f, static_cast<float>(img.height - 1));
  const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
  const int x1 = std::min(x0 + 1, img.width - 1), y1 = std::min(y0 + 1, img.height - 1);
  const float ax = x - x0, ay = y - y0;
  const float *a = img.at(x0, y0), *b = img.at(x1, y0), *c = img.at(x0, y1), *d = img.at(x1, y1);
  for (int k = 0; k < img.channels; ++k) {
    out[k] = (1 - ay) * ((1 - ax) * a[k] + ax * b[k]) + ay * ((1 - ax) * c[k] + ax * d[k]);
  }
}

}  // namespace

FlowMethod ParseFlowMethod(const std::string& name) {
  if (name == "dis-ultrafast") return FlowMethod::DisUltrafast;
  if (name == "dis-fast") return FlowMethod::DisFast;
  if (name == "dis-medium") return FlowMethod::DisMedium;
  if (name == "dis-fine") return FlowMethod::DisFine;
  if (name == "farneback") return FlowMethod::Farneback;
  throw std::invalid_argument("flow method must be one of dis-ultrafast, dis-fast, dis-medium, dis-fine, farneback");
}

Image ComputeFlow(const Image& a, const Image& b, FlowMethod method) {
  cv::Mat flow;
  if (method == FlowMethod::Farneback) {
    cv::calcOpticalFlowFarneback(ToGrey8(a), ToGrey8(b), flow, 0.5, 4, 15, 3, 5, 1.2, 0);
  } else {
    const int preset = method == FlowMethod::DisUltrafast ? cv::DISOpticalFlow::PRESET_ULTRAFAST
                       : method == FlowMethod::DisFast    ? cv::DISOpticalFlow::PRESET_FAST
                                                          : cv::DISOpticalFlow::PRESET_MEDIUM;
    cv::Ptr<cv::DISOpticalFlow> dis = cv::DISOpticalFlow::create(preset);
    if (method == FlowMethod::DisFine) {
      // Medium carried down to full resolution (it stops at half): the finest level is what
      // sub-pixel accuracy needs. Fewer descent steps per patch pay for some of the 4x patches
      // at no measured loss (bench/flow/methods.ts).
      dis->setFinestScale(0);
      dis->setGradientDescentIterations(12);
    }
    dis->calc(ToGrey8(a), ToGrey8(b), flow);
  }
  return FromFlowMat(flow);
}

std::vector<uint8_t> OcclusionMask(const Image& flow, const Image& other) {
  const int W = flow.width, H = flow.height;
  std::vector<uint8_t> mask(flow.pixels(), 0);
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) {
      const float* f = flow.at(x, y);
      const float qx = x + f[0], qy = y + f[1];
      uint8_t occ = 255;
      if (qx >= 0 && qy >= 0 && qx <= W - 1 && qy <= H - 1) {
        float o[2];
        Bilinear(other, qx, qy, o);
        const float sx = f[0] + o[0], sy = f[1] + o[1];
        const float lhs = sx * sx + sy * sy;
        const float rhs = 0.01f * (f[0] * f[0] + f[1] * f[1] + o[0] * o[0] + o[1] * o[1]) + 0.5f;
        occ = lhs > rhs ? 255 : 0;
      }
      mask[static_cast<size_t>(y) * W + x] = occ;
    }
  }
  return mask;
}

Image Warp(const Image& img, const Image& flow, bool nearest, int threads) {
  Image out(flow.width, flow.height, img.channels);
  ParallelFor(threads, flow.height, [&](int y) {
    for (int x = 0; x < flow.width; ++x) {
      const float* f = flow.at(x, y);
      if (nearest) {
        const int sx = std::clamp(static_cast<int>(std::lround(x + f[0])), 0, img.width - 1);
        const int sy = std::clamp(static_cast<int>(std::lround(y + f[1])), 0, img.height - 1);
        std::copy(img.at(sx, sy), img.at(sx, sy) + img.channels, out.at(x, y));
      } else {
        Bilinear(img, x + f[0], y + f[1], out.at(x, y));
      }
    }
  });
  return out;
}

// Push-pull: average known pixels down a pyramid (weights = known-ness), then fill each
// level's holes from the coarser level, so holes take a smooth blend of their surroundings.
Image FillHoles(const Image& img, const std::vector<uint8_t>& mask) {
  const int C = img.channels;
  Image val(img.width, img.height, C);
  std::vector<float> wt(img.pixels());
  for (size_t i = 0; i < img.pixels(); ++i) {
    const float w = mask[i] ? 0.f : 1.f;
    wt[i] = w;
    for (int c = 0; c < C; ++c) val.data[i * C + c] = img.data[i * C + c] * w;
  }
  struct Level { Image v; std::vector<float> w; };
  std::vector<Level> pyr;
  pyr.push_back({val, wt});
  while (pyr.back().v.width > 1 || pyr.back().v.height > 1) {
    const Level& f = pyr.back();
    const int w2 = (f.v.width + 1) / 2, h2 = (f.v.height + 1) / 2;
    Level c{Image(w2, h2, C), std::vector<float>(static_cast<size_t>(w2) * h2, 0.f)};
    for (int y = 0; y < f.v.height; ++y) {
      for (int x = 0; x < f.v.width; ++x) {
        const size_t fi = static_cast<size_t>(y) * f.v.width + x, ci = static_cast<size_t>(y / 2) * w2 + x / 2;
        c.w[ci] += f.w[fi];
        for (int k = 0; k < C; ++k) c.v.data[ci * C + k] += f.v.data[fi * C + k];
      }
    }
    // Normalise to premultiplied averages with weight capped at 1 (a fully known cell).
    for (size_t i = 0; i < c.w.size(); ++i) {
      if (c.w[i] > 0) {
        const float s = std::min(1.f, c.w[i]) / c.w[i];
        for (int k = 0; k < C; ++k) c.v.data[i * C + k] *= s;
        c.w[i] = std::min(1.f, c.w[i]);
      }
    }
    pyr.push_back(std::move(c));
  }
  for (int l = static_cast<int>(pyr.size()) - 2; l >= 0; --l) {
    Level& f = pyr[l];
    const Level& c = pyr[l + 1];
    for (int y = 0; y < f.v.height; ++y) {
      for (int x = 0; x < f.v.width; ++x) {
        const size_t fi = static_cast<size_t>(y) * f.v.width + x, ci = static_cast<size_t>(y / 2) * c.v.width + x / 2;
        const float missing = 1.f - f.w[fi];
        if (missing <= 0) continue;
        const float cw = c.w[ci] > 0 ? 1.f / c.w[ci] : 0.f;
        for (int k = 0; k < C; ++k) f.v.data[fi * C + k] += missing * c.v.data[ci * C + k] * cw;
        f.w[fi] = 1.f;
      }
    }
  }
  Image out = img;
  for (size_t i = 0; i < img.pixels(); ++i) {
    if (!mask[i]) continue;
    for (int c = 0; c < C; ++c) out.data[i * C + c] = pyr[0].v.data[i * C + c];
  }
  return out;
}

Image EdgeGuide(const Image& img) {
  Image out(img.width, img.height, img.channels);
  const int W = img.width, H = img.height, C = img.channels;
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) {
      const float *c = img.at(x, y), *l = img.at(std::max(0, x - 1), y), *r = img.at(std::min(W - 1, x + 1), y),
                  *u = img.at(x, std::max(0, y - 1)), *d = img.at(x, std::min(H - 1, y + 1));
      float* o = out.at(x, y);
      for (int k = 0; k < C; ++k) o[k] = std::clamp(128.f + 4.f * c[k] - l[k] - r[k] - u[k] - d[k], 0.f, 255.f);
    }
  }
  return out;
}

std::vector<int32_t> AdvectNnf(const std::vector<int32_t>& nnf, const Image& flow) {
  const int W = flow.width, H = flow.height;
  std::vector<int32_t> out(nnf.size());
  for (int y = 0; y < H; ++y) {
    for (int x = 0; x < W; ++x) {
      const float* f = flow.at(x, y);
      const int sx = std::clamp(static_cast<int>(std::lround(x + f[0])), 0, W - 1);
      const int sy = std::clamp(static_cast<int>(std::lround(y + f[1])), 0, H - 1);
      const size_t i = static_cast<size_t>(y) * W + x, j = static_cast<size_t>(sy) * W + sx;
      // The content at p came from p + f in the previous frame, so it keeps that pixel's match.
      out[2 * i] = nnf[2 * j];
      out[2 * i + 1] = nnf[2 * j + 1];
    }
  }
  return out;
}

}  // namespace rr
