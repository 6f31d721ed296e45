// Error-based selection between the forward (A) and backward (B) propagations of one frame.
#pragma once
#include <cstdint>

namespace blend {

// How each frame's A/B mask is chosen.
enum class Selection {
  Carry,       // error rule, OR-ed with the carried mask: once B, stays B
  Hysteresis,  // error rule, but a pixel leaves its carried side only when the other is better by a margin
  Nearest,     // A in the first half of the interval, B in the second (EbSynth's two-key result)
  Crossfade,   // mask as Nearest; the output is the plain cross-fade (1-w)A + wB
};

struct SelectionParams {
  Selection rule = Selection::Hysteresis;
  // Relative margin of Hysteresis: switch sides where the other weighted error is lower by more than
  // this fraction.
  double hysteresis = 0.25;
  // Box radius (pixels) over which the weighted errors are averaged before they are compared, so
  // regions switch together instead of as speckle. 0: per pixel.
  int radius = 0;
};

// Carries last frame's mask into this frame. flow holds, for each pixel x of this frame, the
// offset (dx, dy) to where x was in the previous frame (the backward flow t -> t-1), so the
// warp is a lookup. Bilinear sample of the 0/1 mask, kept where > 0.5; lookups outside the
// frame clamp to the border; a non-finite offset gives 0. out: width*height bytes of 0/1.
void warpMask(const uint8_t* prevMask, const float* flow, int width, int height, uint8_t* out);

// Picks B where w*errA > (1-w)*errB; exact ties go to the nearer key frame (B when w >= 0.5),
// so w = 0 keeps A and w = 1 keeps B whatever the errors. carried (nullable) is OR-ed in: once a
// pixel switches to B it stays there. out: count bytes of 0 (A) / 1 (B).
void selectMask(const float* errA, const float* errB, double w, const uint8_t* carried,
                int64_t count, uint8_t* out);

// The general rule (params.rule) on a width x height frame; carried as above (nullable).
// Nearest/Crossfade ignore the errors: B exactly where w > 0.5. Hysteresis keeps w = 0 all A and
// w = 1 all B.
void selectMaskRule(const float* errA, const float* errB, double w, const uint8_t* carried,
                    int width, int height, const SelectionParams& params, uint8_t* out);

// Min-error composite: per pixel A or B (RGB bytes) by mask.
void compositeRgb(const uint8_t* a, const uint8_t* b, const uint8_t* mask, int64_t count,
                  uint8_t* out);

}  // namespace blend
