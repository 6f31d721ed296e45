// Error-based selection between the forward (A) and backward (B) propagations of one frame.
#pragma once
#include <cstdint>

namespace blend {

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

// Min-error composite: per pixel A or B (RGB bytes) by mask.
void compositeRgb(const uint8_t* a, const uint8_t* b, const uint8_t* mask, int64_t count,
                  uint8_t* out);

}  // namespace blend
