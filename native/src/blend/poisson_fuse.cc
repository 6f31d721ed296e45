#include "poisson_fuse.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace blend {

namespace {

double clip(double v, double limit) { return std::clamp(v, -limit, limit); }

// Target difference on the edge p -> q, from A, B or (on a seam) both.
double edgeGradient(const float* a, const float* b, const uint8_t* mask, int64_t p, int64_t q,
                    double limit) {
  const double da = static_cast<double>(a[q]) - a[p];
  if (mask == nullptr) return clip(da, limit);
  const double db = static_cast<double>(b[q]) - b[p];
  const int sel = mask[p] + mask[q];  // masks are 0/1
  const double g = sel == 0 ? da : sel == 2 ? db : 0.5 * (da + db);
  return clip(g, limit);
}

// rhs = lambda * f - div g for one channel (all single-channel CV_32F, continuous).
cv::Mat rightHandSide(const cv::Mat& a, const cv::Mat& b, const uint8_t* mask, const cv::Mat& f,
                      double lambda, double limit) {
  const int w = a.cols, h = a.rows;
  cv::Mat rhs(h, w, CV_64F);
  const float* pa = a.ptr<float>();
  const float* pb = b.ptr<float>();
  const float* pf = f.ptr<float>();
  double* out = rhs.ptr<double>();
#pragma omp parallel for schedule(static)
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const int64_t p = static_cast<int64_t>(y) * w + x;
      // div g at p: outgoing edges minus incoming ones; edges leaving the frame do not exist.
      double div = 0;
      if (x + 1 < w) div += edgeGradient(pa, pb, mask, p, p + 1, limit);
      if (x > 0) div -= edgeGradient(pa, pb, mask, p - 1, p, limit);
      if (y + 1 < h) div += edgeGradient(pa, pb, mask, p, p + w, limit);
      if (y > 0) div -= edgeGradient(pa, pb, mask, p - w, p, limit);
      out[p] = lambda * pf[p] - div;
    }
  }
  return rhs;
}

// OpenCV's DCT needs even sizes. Mirroring an odd dimension keeps the Neumann problem exact: the
// mirrored right-hand side has a mirror-symmetric solution whose first half solves the original.
cv::Mat mirrorToEven(const cv::Mat& m) {
  cv::Mat out = m;
  if (out.cols % 2 != 0) {
    cv::Mat flipped;
    cv::flip(out, flipped, 1);
    cv::hconcat(out, flipped, out);
  }
  if (out.rows % 2 != 0) {
    cv::Mat flipped;
    cv::flip(out, flipped, 0);
    cv::vconcat(out, flipped, out);
  }
  return out;
}

// Solves (L + lambda) u = rhs with Neumann boundaries; the DC term is set from meanTarget.
cv::Mat solveScreened(const cv::Mat& rhs, double lambda, double meanTarget) {
  const cv::Mat ext = mirrorToEven(rhs);
  const int w = ext.cols, h = ext.rows;
  cv::Mat coef;
  cv::dct(ext, coef);
  std::vector<double> ex(w), ey(h);
  for (int k = 0; k < w; ++k) ex[k] = 2.0 - 2.0 * std::cos(M_PI * k / w);
  for (int l = 0; l < h; ++l) ey[l] = 2.0 - 2.0 * std::cos(M_PI * l / h);
#pragma omp parallel for schedule(static)
  for (int l = 0; l < h; ++l) {
    double* row = coef.ptr<double>(l);
    for (int k = 0; k < w; ++k) {
      if (k == 0 && l == 0) continue;
      row[k] /= ex[k] + ey[l] + lambda;
    }
  }
  // sum(div g) is zero, so summing the equations gives mean(u) = mean(f) whenever lambda > 0;
  // setting it directly avoids dividing round-off by a tiny lambda (and defines lambda = 0).
  coef.at<double>(0, 0) = meanTarget * std::sqrt(static_cast<double>(w) * h);
  cv::Mat u;
  cv::idct(coef, u);
  return u(cv::Rect(0, 0, rhs.cols, rhs.rows)).clone();
}

}  // namespace

cv::Mat poissonFuse(const cv::Mat& a, const cv::Mat& b, const uint8_t* mask, const cv::Mat& target,
                    const PoissonParams& params) {
  CV_Assert(a.size() == b.size() && a.size() == target.size());
  CV_Assert(a.type() == b.type() && a.type() == target.type() && a.depth() == CV_32F);
  const int channels = a.channels();
  if (params.screening.size() != 1 && params.screening.size() != static_cast<size_t>(channels)) {
    throw std::invalid_argument("screening must have one value or one per channel");
  }
  std::vector<cv::Mat> ca, cb, cf;
  cv::split(a.isContinuous() ? a : a.clone(), ca);
  cv::split(b.isContinuous() ? b : b.clone(), cb);
  cv::split(target.isContinuous() ? target : target.clone(), cf);
  std::vector<cv::Mat> out(channels);
  for (int c = 0; c < channels; ++c) {
    const double lambda = params.screening.size() == 1 ? params.screening[0] : params.screening[c];
    const cv::Mat rhs = rightHandSide(ca[c], cb[c], mask, cf[c], lambda, params.gradClip);
    const double meanTarget = cv::mean(cf[c])[0];
    solveScreened(rhs, lambda, meanTarget).convertTo(out[c], CV_32F);
  }
  cv::Mat merged;
  cv::merge(out, merged);
  return merged;
}

}  // namespace blend
