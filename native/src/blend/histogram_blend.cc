#include "histogram_blend.h"

#include <algorithm>
#include <vector>

namespace blend {

namespace {

// Below this a channel is treated as flat: standardizing it would only amplify rounding noise.
constexpr double kFlatStd = 1e-6;

struct Stats {
  double mean;
  double std;
};

Stats stats(const cv::Mat& channel) {
  cv::Scalar mean, stddev;
  cv::meanStdDev(channel, mean, stddev);  // accumulates in double
  return {mean[0], stddev[0]};
}

}  // namespace

cv::Mat histogramBlend(const cv::Mat& a, const cv::Mat& b, const cv::Mat& composite, double w) {
  CV_Assert(a.size() == b.size() && a.size() == composite.size());
  CV_Assert(a.type() == b.type() && a.type() == composite.type() && a.depth() == CV_32F);
  std::vector<cv::Mat> ca, cb, cc;
  cv::split(a, ca);
  cv::split(b, cb);
  cv::split(composite, cc);
  std::vector<cv::Mat> out(ca.size());
  for (size_t c = 0; c < ca.size(); ++c) {
    const Stats sa = stats(ca[c]);
    const Stats sb = stats(cb[c]);
    // z = (1-w) (a - mean_a) / std_a + w (b - mean_b) / std_b, as one affine combination.
    const double ga = (1.0 - w) / std::max(sa.std, kFlatStd);
    const double gb = w / std::max(sb.std, kFlatStd);
    cv::Mat z;
    cv::addWeighted(ca[c], ga, cb[c], gb, -(ga * sa.mean + gb * sb.mean), z);
    // The mix of two standardized images is not standardized itself (its spread depends on
    // their correlation), so measure it and map it onto the composite's statistics.
    const Stats sz = stats(z);
    const Stats sc = stats(cc[c]);
    const double gain = sz.std > kFlatStd ? sc.std / sz.std : 0.0;
    z.convertTo(out[c], CV_32F, gain, sc.mean - sz.mean * gain);
  }
  cv::Mat merged;
  cv::merge(out, merged);
  return merged;
}

cv::Mat alphaBlend(const cv::Mat& a, const cv::Mat& b, double w) {
  CV_Assert(a.size() == b.size() && a.type() == b.type());
  cv::Mat out;
  cv::addWeighted(a, 1.0 - w, b, w, 0.0, out);
  return out;
}

}  // namespace blend
