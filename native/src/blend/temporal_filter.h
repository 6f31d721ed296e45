// Temporal de-flicker of the blended output: each frame is pulled toward the previous output
// carried along the backward flow, only where the two already agree in colour, so noise that
// changes from frame to frame is averaged out while moving edges and disocclusions are left alone.
#pragma once
#include <cstdint>

namespace blend {

struct DeflickerParams {
  // Largest pull toward the warped previous output, in [0, 1); 0 turns the filter off. The default
  // is the measured best of tests/blend/levers.bench.ts (PSNR and warp error against a truth).
  double strength = 0.7;
  // Local colour difference (mean absolute RGB, 0..255, over a 3x3 window) at which the pull has
  // fallen to exp(-1/2) of strength; far beyond it (occlusion, a new edge) the frame is kept.
  // 8 keeps most of the warp-error gain of 12 without its haze on posterised styles.
  double tolerance = 8.0;
};

// cur: width*height*3 RGB bytes, filtered in place. prev: the previous output, RGB. flow: backward
// flow t -> t-1 per pixel of this frame. Pixels whose source lies outside the previous frame, or
// whose offset is not finite, are left unchanged.
void deflicker(uint8_t* cur, const uint8_t* prev, const float* flow, int width, int height,
               const DeflickerParams& params);

}  // namespace blend
