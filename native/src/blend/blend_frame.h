// One frame of the blending stage: selection, histogram-preserving blend, gradient fusion.
#pragma once
#include <cstdint>
#include <vector>

#include "color_space.h"
#include "poisson_fuse.h"

namespace blend {

struct BlendOptions {
  WorkSpace space = WorkSpace::Lab;
  bool histogram = true;  // false: plain (1-w)A + wB as the data term
  bool poisson = true;    // false: return the data term itself (no gradient fusion)
  PoissonParams poissonParams;
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
  int width = 0;
  int height = 0;
};

struct BlendFrameOutput {
  std::vector<uint8_t> out;        // RGB
  std::vector<uint8_t> mask;       // 0: A, 1: B
  std::vector<uint8_t> composite;  // min-error selection, RGB
};

// Mask of this frame: previous mask carried by the flow, OR-ed with the error decision.
std::vector<uint8_t> frameMask(const BlendFrameInput& in);

BlendFrameOutput blendFrame(const BlendFrameInput& in, const BlendOptions& options);

}  // namespace blend
