// Screened-Poisson gradient fusion: the result follows the gradients of A or B (per the mask)
// and is held to a smooth target by a weak data term, so seams between A and B vanish.
#pragma once
#include <cstdint>
#include <limits>
#include <vector>

#include <opencv2/core.hpp>

namespace blend {

struct PoissonParams {
  // Each target forward difference is clamped to [-gradClip, gradClip] (infinity, the default: no
  // clip). Clipping softens hard steps: a yellow/blue edge jumps by more than 100 in Lab b.
  double gradClip = std::numeric_limits<double>::infinity();
  // Data-term weight per channel (lambda >= 0); one value applies to every channel.
  std::vector<double> screening{0.1};
};

// Minimizes, per channel, sum over grid edges (u_q - u_p - g_pq)^2 + lambda * sum_p (u_p - f_p)^2
// where g_pq is the difference of A when both ends are masked 0, of B when both are 1, and their
// mean on a seam edge. The normal equations (L + lambda) u = lambda f - div g with the Neumann
// grid Laplacian L are diagonal in the DCT-II basis, so the solve is exact in O(n log n).
// a, b, target: CV_32FC(n) of one size; mask: rows*cols bytes (nullptr: all A).
// The mean of the result equals the mean of target (lambda > 0 forces it; lambda = 0 fixes the
// otherwise free constant the same way).
cv::Mat poissonFuse(const cv::Mat& a, const cv::Mat& b, const uint8_t* mask, const cv::Mat& target,
                    const PoissonParams& params);

}  // namespace blend
