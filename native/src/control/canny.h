// Canny edge map for ControlNet conditioning (OpenCV), as the ControlNet annotator computes it.
#pragma once
#include <cstdint>
#include <vector>

namespace rr {

struct CannyParams {
  double low = 100;
  double high = 200;
  int blurKernel = 0;     // odd >= 3 for a Gaussian pre-blur; 0: none
  double blurSigma = 0;   // 0: derived from the kernel size
  int aperture = 3;       // Sobel aperture: 3, 5 or 7
  bool l2Gradient = false;
};

// `pixels`: interleaved 8-bit, 1, 3 or 4 channels (alpha ignored; colour edges use the strongest
// channel gradient, as cv::Canny does). Returns width*height*3 bytes, 255 on edges, else 0.
std::vector<uint8_t> CannyEdges(const std::vector<uint8_t>& pixels, int width, int height, int channels,
                                const CannyParams& params);

}  // namespace rr
