// One frame of the blending stage: selection, histogram-preserving blend, gradient fusion.
#pragma once
#include <cstdint>
#include <vector>

#include "color_space.h"
#include "mask_select.h"
#include "poisson_fuse.h"
#include "temporal_filter.h"

namespace blend {

// The data term the fusion is screened toward (and the output when fusion is off).
enum class Mix {
  Histogram,  // histogram-preserving blend of A and B toward the composite's statistics
  Alpha,      // plain (1-w)A + wB
  Pick,       // the min-error composite itself: no mixing, so no ghosting
};

struct BlendOptions {
  WorkSpace space = WorkSpace::Lab;
  Mix mix = Mix::Pick;
  // With Pick: where the two weighted errors are within this factor (|ln(eA/eB)| < mixBand) the
  // data term fades to an error-weighted mix of A and B, fully mixed where they are equal. 0: off.
  double mixBand = 0.0;
  bool poisson = true;  // false: return the data term itself (no gradient fusion)
  PoissonParams poissonParams;
  SelectionParams selection;
  DeflickerParams deflicker;
};

// Borrowed views of one frame's inputs; prevMask and flow are both null at the first frame.
struct BlendFrameInput {
  const uint8_t* a = nullptr;  // forward propagation from key k, RGB
  const uint8_t* b = nullptr;  // backward propagation from key k', RGB
  const float* errA = nullptr;
  const float* errB = nullptr;
  double w = 0;  // (t-k)/(k'-k)
  const uint8_t* prevMask = nullptr;
  const float* flow = nullptr;  // backward flow t -> t-1, (dx, dy) per pixel
  const uint8_t* prevOut = nullptr;  // previous output (RGB) for the de-flicker (no flow: static)
  int width = 0;
  int height = 0;
};

struct BlendFrameOutput {
  std::vector<uint8_t> out;        // RGB
  std::vector<uint8_t> mask;       // 0: A, 1: B
  std::vector<uint8_t> composite;  // min-error selection, RGB
};

// Mask of this frame: previous mask carried by the flow, combined with the error decision by the
// selection rule.
std::vector<uint8_t> frameMask(const BlendFrameInput& in, const SelectionParams& params);

BlendFrameOutput blendFrame(const BlendFrameInput& in, const BlendOptions& options);

}  // namespace blend
