#include "upsample/upsample.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>

namespace rr {

namespace {

inline uint8_t ToByte(float v) {
  v = v * 255.f + 0.5f;
  return static_cast<uint8_t>(v <= 0.f ? 0.f : (v >= 255.f ? 255.f : v));
}

// Maps output coordinate i (full resolution, guide pixels) to low-resolution coordinate, pixel
// centres aligned: the same convention as cv::resize and ffmpeg's scaler.
struct Axis {
  std::vector<int> i0, i1;
  std::vector<float> f;
};

// Bilinear taps for each of `n` full-resolution positions; clamped at the border, so positions
// outside the rectangle repeat the edge coefficients (the model is extrapolated, not the pixels).
Axis BilinearAxis(int n, int offset, int rectLen, int lowLen) {
  Axis a;
  a.i0.resize(n);
  a.i1.resize(n);
  a.f.resize(n);
  const double s = static_cast<double>(lowLen) / rectLen;
  for (int i = 0; i < n; ++i) {
    double u = (i - offset + 0.5) * s - 0.5;
    u = std::min(std::max(u, 0.0), static_cast<double>(lowLen - 1));
    const int u0 = std::min(static_cast<int>(u), lowLen - 1);
    a.i0[i] = u0;
    a.i1[i] = std::min(u0 + 1, lowLen - 1);
    a.f[i] = static_cast<float>(u - u0);
  }
  return a;
}

// Runs fn(y0, y1) over row chunks on OpenCV's pool; stops early once cancelled.
template <class F>
void ForRows(int rows, const CancelFlag& cancel, F&& fn) {
  std::atomic<bool> stop{false};
  const int chunk = 16;
  const int chunks = (rows + chunk - 1) / chunk;
  cv::parallel_for_(cv::Range(0, chunks), [&](const cv::Range& r) {
    for (int c = r.start; c < r.end; ++c) {
      if (stop.load(std::memory_order_relaxed)) return;
      if (cancel && cancel->load(std::memory_order_relaxed)) {
        stop = true;
        return;
      }
      fn(c * chunk, std::min(rows, (c + 1) * chunk));
    }
  });
  ThrowIfCancelled(cancel);
}

// Interpolates a K-channel low-resolution coefficient map bilinearly at every guide pixel and
// calls pixel(x, y, guidePixel (0..1 floats, 3), coefs (K), out (3 bytes)).
template <class F>
void ApplyCoefficients(const cv::Mat& coef, int K, const UpsampleRect& r, const uint8_t* guide, int gw, int gh,
                       uint8_t* out, const CancelFlag& cancel, F&& pixel) {
  const int lw = coef.cols, lh = coef.rows;
  const Axis ax = BilinearAxis(gw, r.x, r.width, lw);
  const Axis ay = BilinearAxis(gh, r.y, r.height, lh);
  ForRows(gh, cancel, [&](int y0, int y1) {
    std::vector<float> row(static_cast<size_t>(lw) * K);
    float c[16];
    float g[3];
    for (int y = y0; y < y1; ++y) {
      const float* ra = coef.ptr<float>(ay.i0[y]);
      const float* rb = coef.ptr<float>(ay.i1[y]);
      const float fy = ay.f[y];
      for (size_t k = 0; k < row.size(); ++k) row[k] = ra[k] + fy * (rb[k] - ra[k]);
      const uint8_t* gp = guide + static_cast<size_t>(y) * gw * 3;
      uint8_t* op = out + static_cast<size_t>(y) * gw * 3;
      for (int x = 0; x < gw; ++x) {
        const float* a = row.data() + static_cast<size_t>(ax.i0[x]) * K;
        const float* b = row.data() + static_cast<size_t>(ax.i1[x]) * K;
        const float fx = ax.f[x];
        for (int k = 0; k < K; ++k) c[k] = a[k] + fx * (b[k] - a[k]);
        g[0] = gp[3 * x] * (1.f / 255.f);
        g[1] = gp[3 * x + 1] * (1.f / 255.f);
        g[2] = gp[3 * x + 2] * (1.f / 255.f);
        pixel(x, y, g, c, op + 3 * x);
      }
    }
  });
}

cv::Mat Box(const cv::Mat& m, int radius) {
  cv::Mat out;
  cv::boxFilter(m, out, CV_32F, cv::Size(2 * radius + 1, 2 * radius + 1), cv::Point(-1, -1), true,
                cv::BORDER_REFLECT);
  return out;
}

// The guide's rectangle brought to the output's working size, as 0..1 float planes.
std::vector<cv::Mat> LowGuidePlanes(const cv::Mat& guideM, const UpsampleRect& r, int lw, int lh) {
  cv::Mat small;
  cv::resize(guideM(cv::Rect(r.x, r.y, r.width, r.height)), small, cv::Size(lw, lh), 0, 0, cv::INTER_AREA);
  cv::Mat f;
  small.convertTo(f, CV_32F, 1.0 / 255.0);
  std::vector<cv::Mat> planes;
  cv::split(f, planes);
  return planes;
}

std::vector<cv::Mat> FloatPlanes(const cv::Mat& m8) {
  cv::Mat f;
  m8.convertTo(f, CV_32F, 1.0 / 255.0);
  std::vector<cv::Mat> planes;
  cv::split(f, planes);
  return planes;
}

inline cv::Mat Luma(const std::vector<cv::Mat>& p) { return 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2]; }
inline float Luma(const float* g) { return 0.299f * g[0] + 0.587f * g[1] + 0.114f * g[2]; }

// He et al.'s guided filter with a colour guide, fitted at low resolution: per window, p_c = a_c . I + b_c.
// Coefficients (a 3x3, b 3) are box-averaged, then applied to the full-resolution guide.
void GuidedColor(const cv::Mat& lowM, const cv::Mat& guideM, const UpsampleRect& r, const UpsampleParams& prm,
                 uint8_t* out, const CancelFlag& cancel) {
  const int lw = lowM.cols, lh = lowM.rows, R = prm.radius;
  const float eps = static_cast<float>(prm.eps);
  std::vector<cv::Mat> I = LowGuidePlanes(guideM, r, lw, lh);
  std::vector<cv::Mat> P = FloatPlanes(lowM);
  cv::Mat mI[3], mP[3], cII[6], cIP[9];
  for (int j = 0; j < 3; ++j) mI[j] = Box(I[j], R);
  for (int c = 0; c < 3; ++c) mP[c] = Box(P[c], R);
  const int pairs[6][2] = {{0, 0}, {0, 1}, {0, 2}, {1, 1}, {1, 2}, {2, 2}};
  for (int k = 0; k < 6; ++k) cII[k] = Box(I[pairs[k][0]].mul(I[pairs[k][1]]), R);
  for (int c = 0; c < 3; ++c)
    for (int j = 0; j < 3; ++j) cIP[c * 3 + j] = Box(I[j].mul(P[c]), R);
  ThrowIfCancelled(cancel);

  cv::Mat coef(lh, lw, CV_32FC(12));
  for (int y = 0; y < lh; ++y) {
    float* o = coef.ptr<float>(y);
    for (int x = 0; x < lw; ++x, o += 12) {
      float m[3], cov[3][3];
      for (int j = 0; j < 3; ++j) m[j] = mI[j].at<float>(y, x);
      for (int k = 0; k < 6; ++k) {
        const int i = pairs[k][0], j = pairs[k][1];
        const float v = cII[k].at<float>(y, x) - m[i] * m[j] + (i == j ? eps : 0.f);
        cov[i][j] = cov[j][i] = v;
      }
      // Inverse of the symmetric 3x3 covariance (positive definite thanks to eps).
      const double a = cov[0][0], b = cov[0][1], c = cov[0][2], d = cov[1][1], e = cov[1][2], f = cov[2][2];
      const double A = d * f - e * e, B = c * e - b * f, C = b * e - c * d;
      const double det = a * A + b * B + c * C;
      const double inv = std::fabs(det) > 1e-30 ? 1.0 / det : 0.0;
      const double iv[3][3] = {{A * inv, B * inv, C * inv},
                               {B * inv, (a * f - c * c) * inv, (b * c - a * e) * inv},
                               {C * inv, (b * c - a * e) * inv, (a * d - b * b) * inv}};
      for (int ch = 0; ch < 3; ++ch) {
        const float mp = mP[ch].at<float>(y, x);
        double cv3[3];
        for (int j = 0; j < 3; ++j) cv3[j] = cIP[ch * 3 + j].at<float>(y, x) - m[j] * mp;
        double bb = mp;
        for (int j = 0; j < 3; ++j) {
          const double aj = iv[j][0] * cv3[0] + iv[j][1] * cv3[1] + iv[j][2] * cv3[2];
          o[ch * 3 + j] = static_cast<float>(aj);
          bb -= aj * m[j];
        }
        o[9 + ch] = static_cast<float>(bb);
      }
    }
  }
  cv::Mat smooth = Box(coef, R);
  ThrowIfCancelled(cancel);
  ApplyCoefficients(smooth, 12, r, guideM.data, guideM.cols, guideM.rows, out, cancel,
                    [](int, int, const float* g, const float* k, uint8_t* o) {
                      for (int ch = 0; ch < 3; ++ch) {
                        o[ch] = ToByte(k[ch * 3] * g[0] + k[ch * 3 + 1] * g[1] + k[ch * 3 + 2] * g[2] + k[9 + ch]);
                      }
                    });
}

// The guided filter with the guide's luma as a single-channel guide: p_c = a_c Y + b_c per window,
// box-averaged and applied to the full-resolution luma.
void GuidedLuma(const cv::Mat& lowM, const cv::Mat& guideM, const UpsampleRect& r, const UpsampleParams& prm,
                uint8_t* out, const CancelFlag& cancel) {
  const int lw = lowM.cols, lh = lowM.rows, R = prm.radius;
  const float eps = static_cast<float>(prm.eps);
  std::vector<cv::Mat> I = LowGuidePlanes(guideM, r, lw, lh);
  std::vector<cv::Mat> P = FloatPlanes(lowM);
  const cv::Mat Y = Luma(I);
  const cv::Mat mY = Box(Y, R);
  const cv::Mat varY = Box(Y.mul(Y), R) - mY.mul(mY);
  std::vector<cv::Mat> planes;
  for (int c = 0; c < 3; ++c) {
    const cv::Mat mP = Box(P[c], R);
    const cv::Mat a = (Box(Y.mul(P[c]), R) - mY.mul(mP)) / (varY + eps);
    planes.push_back(Box(a, R));
    planes.push_back(Box(mP - a.mul(mY), R));
  }
  ThrowIfCancelled(cancel);
  cv::Mat coef;
  cv::merge(planes, coef);  // a_c, b_c interleaved
  ApplyCoefficients(coef, 6, r, guideM.data, guideM.cols, guideM.rows, out, cancel,
                    [](int, int, const float* g, const float* k, uint8_t* o) {
                      const float y = Luma(g);
                      for (int ch = 0; ch < 3; ++ch) o[ch] = ToByte(k[2 * ch] * y + k[2 * ch + 1]);
                    });
}

// Detail transfer: the output keeps its own bicubic upscale, and gains the source's detail the
// working size lost, q_c = up(p_c) + k_c (Y - up(Y_low)), with k_c = a_c rho_c^2: the guided slope
// of p_c on Y, gated by how well the output follows the source's structure in the window (rho:
// their correlation there), so texture the style erased is not painted back. Outside the
// rectangle the edge values of up(p), up(Y_low) and k repeat: a linear model in Y, extrapolated.
void Detail(const cv::Mat& lowM, const cv::Mat& guideM, const UpsampleRect& r, const UpsampleParams& prm,
            uint8_t* out, const CancelFlag& cancel) {
  const int lw = lowM.cols, lh = lowM.rows, R = prm.radius;
  const float eps = static_cast<float>(prm.eps);
  std::vector<cv::Mat> I = LowGuidePlanes(guideM, r, lw, lh);
  const cv::Mat Y = Luma(I);
  // Window means of 11 planes: Y, Y^2, p_c, Y p_c, p_c^2. One-channel box filters (OpenCV's
  // vectorised path), run side by side: a multi-channel one is several times slower and serial.
  std::vector<cv::Mat> stats(11);
  for (cv::Mat& m : stats) m.create(lh, lw, CV_32F);
  ForRows(lh, cancel, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const float* yr = Y.ptr<float>(y);
      const uint8_t* pr = lowM.ptr<uint8_t>(y);
      float* o[11];
      for (int i = 0; i < 11; ++i) o[i] = stats[i].ptr<float>(y);
      for (int x = 0; x < lw; ++x) {
        const float v = yr[x];
        o[0][x] = v;
        o[1][x] = v * v;
        for (int c = 0; c < 3; ++c) {
          const float p = pr[3 * x + c] * (1.f / 255.f);
          o[2 + c][x] = p;
          o[5 + c][x] = v * p;
          o[8 + c][x] = p * p;
        }
      }
    }
  });
  auto boxAll = [&](std::vector<cv::Mat>& planes) {
    cv::parallel_for_(cv::Range(0, static_cast<int>(planes.size())), [&](const cv::Range& rg) {
      for (int i = rg.start; i < rg.end; ++i) planes[i] = Box(planes[i], R);
    });
    ThrowIfCancelled(cancel);
  };
  boxAll(stats);
  std::vector<cv::Mat> kRaw(3);
  for (cv::Mat& m : kRaw) m.create(lh, lw, CV_32F);
  ForRows(lh, cancel, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const float* m[11];
      for (int i = 0; i < 11; ++i) m[i] = stats[i].ptr<float>(y);
      float* o[3] = {kRaw[0].ptr<float>(y), kRaw[1].ptr<float>(y), kRaw[2].ptr<float>(y)};
      for (int x = 0; x < lw; ++x) {
        const float mY = m[0][x];
        const float varY = m[1][x] - mY * mY;
        for (int c = 0; c < 3; ++c) {
          const float mP = m[2 + c][x];
          const float cov = m[5 + c][x] - mY * mP;
          const float varP = m[8 + c][x] - mP * mP;
          // rho^2 = cov^2 / (varY varP); the small floor keeps flat windows at 0, not 0/0.
          const float rho2 = cov * cov / ((std::max(varY, 0.f) + 1e-6f) * (std::max(varP, 0.f) + 1e-6f));
          o[c][x] = cov / (varY + eps) * std::min(rho2, 1.f);
        }
      }
    }
  });
  boxAll(kRaw);
  cv::Mat kM;
  cv::merge(kRaw, kM);
  ThrowIfCancelled(cancel);
  // Everything brought to the rectangle's size by OpenCV's vectorised resizes (pixel centres
  // aligned, borders clamped), so the per-pixel pass below reads contiguous rows, no gathers.
  cv::Mat upP, upY, upK;
  cv::resize(lowM, upP, cv::Size(r.width, r.height), 0, 0, cv::INTER_CUBIC);
  cv::resize(Y, upY, cv::Size(r.width, r.height), 0, 0, cv::INTER_CUBIC);
  cv::resize(kM, upK, cv::Size(r.width, r.height), 0, 0, cv::INTER_LINEAR);
  ThrowIfCancelled(cancel);
  const int gw = guideM.cols, gh = guideM.rows, rx = r.x, rw = r.width, ry = r.y, rh = r.height;
  ForRows(gh, cancel, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const int yy = std::min(std::max(y - ry, 0), rh - 1);
      const uint8_t* g = guideM.ptr<uint8_t>(y);
      const uint8_t* b = upP.ptr<uint8_t>(yy);
      const float* ly = upY.ptr<float>(yy);
      const float* kk = upK.ptr<float>(yy);
      uint8_t* o = out + static_cast<size_t>(y) * gw * 3;
      // Byte stores may alias anything: every input is read into locals before the stores.
      auto pixel = [&](int x, int xx) {
        const float hi = (0.299f / 255.f) * g[3 * x] + (0.587f / 255.f) * g[3 * x + 1] + (0.114f / 255.f) * g[3 * x + 2] - ly[xx];
        const float v0 = b[3 * xx] * (1.f / 255.f) + kk[3 * xx] * hi;
        const float v1 = b[3 * xx + 1] * (1.f / 255.f) + kk[3 * xx + 1] * hi;
        const float v2 = b[3 * xx + 2] * (1.f / 255.f) + kk[3 * xx + 2] * hi;
        o[3 * x] = ToByte(v0);
        o[3 * x + 1] = ToByte(v1);
        o[3 * x + 2] = ToByte(v2);
      };
      // Outside the rectangle the edge values repeat: clamped coefficients.
      for (int x = 0; x < rx; ++x) pixel(x, 0);
      for (int x = rx; x < rx + rw; ++x) pixel(x, x - rx);
      for (int x = rx + rw; x < gw; ++x) pixel(x, rw - 1);
    }
  });
}

// Joint bilateral upsampling (Kopf et al. 2007): each full-resolution pixel averages the 4x4
// nearest low-resolution outputs, weighted by spatial distance (low-res pixels) and by how close
// the guide pixel's colour is to the downscaled guide at each of them.
void JointBilateral(const cv::Mat& lowM, const cv::Mat& guideM, const UpsampleRect& r, const UpsampleParams& prm,
                    uint8_t* out, const CancelFlag& cancel) {
  const int lw = lowM.cols, lh = lowM.rows, gw = guideM.cols, gh = guideM.rows;
  cv::Mat small;
  cv::resize(guideM(cv::Rect(r.x, r.y, r.width, r.height)), small, cv::Size(lw, lh), 0, 0, cv::INTER_AREA);
  float rangeLut[766];
  for (int d = 0; d <= 765; ++d) rangeLut[d] = std::exp(-0.5f * (d / static_cast<float>(prm.sigmaRange)) * (d / static_cast<float>(prm.sigmaRange)));
  const float is2 = static_cast<float>(-0.5 / (prm.sigmaSpatial * prm.sigmaSpatial));
  struct Taps {
    int idx[4];
    float w[4];
  };
  auto taps = [&](int n, int offset, int rectLen, int lowLen) {
    std::vector<Taps> t(n);
    const double s = static_cast<double>(lowLen) / rectLen;
    for (int i = 0; i < n; ++i) {
      const double u = (i - offset + 0.5) * s - 0.5;
      const int base = static_cast<int>(std::floor(u)) - 1;
      for (int k = 0; k < 4; ++k) {
        const int q = std::min(std::max(base + k, 0), lowLen - 1);
        const float d = static_cast<float>(q - u);
        t[i].idx[k] = q;
        t[i].w[k] = std::exp(is2 * d * d);
      }
    }
    return t;
  };
  const std::vector<Taps> tx = taps(gw, r.x, r.width, lw), ty = taps(gh, r.y, r.height, lh);
  ForRows(gh, cancel, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      const Taps& vy = ty[y];
      const uint8_t* gp = guideM.ptr<uint8_t>(y);
      uint8_t* op = out + static_cast<size_t>(y) * gw * 3;
      for (int x = 0; x < gw; ++x) {
        const Taps& vx = tx[x];
        const int g0 = gp[3 * x], g1 = gp[3 * x + 1], g2 = gp[3 * x + 2];
        float acc[3] = {0, 0, 0}, wsum = 0, sacc[3] = {0, 0, 0}, ssum = 0;
        for (int j = 0; j < 4; ++j) {
          const uint8_t* sr = small.ptr<uint8_t>(vy.idx[j]);
          const uint8_t* lr = lowM.ptr<uint8_t>(vy.idx[j]);
          for (int i = 0; i < 4; ++i) {
            const int q = 3 * vx.idx[i];
            const float ws = vy.w[j] * vx.w[i];
            const int d = std::abs(sr[q] - g0) + std::abs(sr[q + 1] - g1) + std::abs(sr[q + 2] - g2);
            const float w = ws * rangeLut[d];
            acc[0] += w * lr[q];
            acc[1] += w * lr[q + 1];
            acc[2] += w * lr[q + 2];
            wsum += w;
            sacc[0] += ws * lr[q];
            sacc[1] += ws * lr[q + 1];
            sacc[2] += ws * lr[q + 2];
            ssum += ws;
          }
        }
        // A guide colour found nowhere nearby: spatial weights alone rather than 0/0.
        if (wsum < 1e-8f) {
          std::copy(sacc, sacc + 3, acc);
          wsum = ssum;
        }
        for (int c = 0; c < 3; ++c) op[3 * x + c] = ToByte(acc[c] / wsum * (1.f / 255.f));
      }
    }
  });
}

void Bicubic(const cv::Mat& lowM, int gw, int gh, const UpsampleRect& r, uint8_t* out) {
  cv::Mat up;
  cv::resize(lowM, up, cv::Size(r.width, r.height), 0, 0, cv::INTER_CUBIC);
  cv::Mat dst(gh, gw, CV_8UC3, out);
  // No model to extrapolate: the edge pixels are repeated outside the rectangle.
  cv::copyMakeBorder(up, dst, r.y, gh - r.y - r.height, r.x, gw - r.x - r.width, cv::BORDER_REPLICATE);
}

}  // namespace

std::vector<uint8_t> Upsample(const uint8_t* low, int lowW, int lowH, const uint8_t* guide, int guideW,
                              int guideH, const UpsampleRect& rect, const UpsampleParams& params,
                              const CancelFlag& cancel) {
  const cv::Mat lowM(lowH, lowW, CV_8UC3, const_cast<uint8_t*>(low));
  const cv::Mat guideM(guideH, guideW, CV_8UC3, const_cast<uint8_t*>(guide));
  std::vector<uint8_t> out(static_cast<size_t>(guideW) * guideH * 3);
  ThrowIfCancelled(cancel);
  switch (params.method) {
    case UpsampleMethod::Bicubic:
      Bicubic(lowM, guideW, guideH, rect, out.data());
      break;
    case UpsampleMethod::JointBilateral:
      JointBilateral(lowM, guideM, rect, params, out.data(), cancel);
      break;
    case UpsampleMethod::Guided:
      GuidedColor(lowM, guideM, rect, params, out.data(), cancel);
      break;
    case UpsampleMethod::GuidedLuma:
      GuidedLuma(lowM, guideM, rect, params, out.data(), cancel);
      break;
    case UpsampleMethod::Detail:
      Detail(lowM, guideM, rect, params, out.data(), cancel);
      break;
  }
  return out;
}

}  // namespace rr
