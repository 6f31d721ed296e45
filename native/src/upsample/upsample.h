// Guided upsampling of a working-size output frame to the source's resolution. The low-resolution
// output covers `rect` of the full-resolution guide (the source); pixels of the guide outside `rect`
// get the fitted model extrapolated with its coefficients clamped at the border.
#pragma once
#include <cstdint>
#include <vector>

#include "common/cancel_token.h"

namespace rr {

enum class UpsampleMethod { Bicubic, JointBilateral, Guided, GuidedLuma, Detail };

struct UpsampleParams {
  UpsampleMethod method = UpsampleMethod::Detail;
  int radius = 2;              // guided window radius, in low-resolution pixels
  double eps = 1e-4;           // guided regulariser, on a 0..1 value scale (squared)
  double sigmaSpatial = 1.0;   // joint bilateral: spatial sigma, low-resolution pixels
  double sigmaRange = 24.0;    // joint bilateral: range sigma, sum of |RGB| differences (0..765)
};

struct UpsampleRect {
  int x = 0, y = 0, width = 0, height = 0;
};

// low: lowW*lowH*3 RGB; guide: guideW*guideH*3 RGB; rect inside the guide. Returns guideW*guideH*3 RGB.
// Throws Cancelled when the flag is set between stages or row chunks.
std::vector<uint8_t> Upsample(const uint8_t* low, int lowW, int lowH, const uint8_t* guide, int guideW,
                              int guideH, const UpsampleRect& rect, const UpsampleParams& params,
                              const CancelFlag& cancel);

}  // namespace rr
