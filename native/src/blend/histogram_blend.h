// Histogram-preserving blend ("Stylizing Video by Example", Jamriška et al. 2019): a linear
// cross-fade of two images lowers contrast mid-interval; blending their standardized versions and
// re-imposing the statistics of the min-error composite keeps the style's histogram.
#pragma once
#include <opencv2/core.hpp>

namespace blend {

// a, b, composite: CV_32FC(n) of one size in the working space; w: weight of b in [0,1].
// Per channel: z = (1-w)*std(a) + w*std(b), then z is re-standardized and mapped to the
// composite's mean and standard deviation, so the result has exactly those statistics.
cv::Mat histogramBlend(const cv::Mat& a, const cv::Mat& b, const cv::Mat& composite, double w);

// Plain cross-fade (1-w)*a + w*b, the alternative when histogram preservation is off.
cv::Mat alphaBlend(const cv::Mat& a, const cv::Mat& b, double w);

}  // namespace blend
