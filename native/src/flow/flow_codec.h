// The flow cache's entry payload (src-main/studio/flow-cache.ts writes the header and compresses
// it): each component in fixed point, in its own plane, predicted from its neighbours (median edge
// detector), zigzagged, and split into a low-byte and a high-byte plane. Values the fixed point
// cannot hold are marked and listed exactly. Native so that a frame's entries are packed and
// unpacked off the JS thread, which a fast GPU propagation would otherwise wait on.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

namespace rr {

// One (dx, dy)-interleaved field of width*height pixels packed with 2^log2Scale units per pixel:
// 4*n bytes of planes, then 8 bytes (u32 index, f32 value, little-endian) per listed value.
struct PackedFlow {
  std::vector<uint8_t> payload;
  uint32_t outOfRange = 0;
};

PackedFlow PackFlow(const float* flow, int width, int height, int log2Scale);

// The field back, or nothing when the payload does not hold what its size and count say.
std::optional<std::vector<float>> UnpackFlow(const uint8_t* payload, size_t bytes, int width, int height,
                                             int log2Scale, uint32_t outOfRange);

}  // namespace rr
