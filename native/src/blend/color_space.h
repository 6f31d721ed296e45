// Conversion between 8-bit interleaved RGB and the float working space the blend runs in.
#pragma once
#include <cstdint>
#include <opencv2/core.hpp>

namespace blend {

// Lab: CIE L*a*b* (D65, sRGB primaries) as OpenCV's float conversion gives it
// (L in [0,100], a/b roughly [-127,127]). Rgb: float RGB in [0,255].
enum class WorkSpace { Lab, Rgb };

// rgb: width*height*3 bytes. Returns CV_32FC3 in the working space.
cv::Mat rgb8ToWork(const uint8_t* rgb, int width, int height, WorkSpace space);

// img: CV_32FC3 in the working space. Writes width*height*3 bytes, saturating out-of-gamut values.
void workToRgb8(const cv::Mat& img, WorkSpace space, uint8_t* out);

}  // namespace blend
