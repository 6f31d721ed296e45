// PatchMatch over weighted feature images (style + guides), with EbSynth's occupancy
// (uniformity) term and deterministic tiled parallelism.
#pragma once
#include <cstdint>
#include <vector>

#include "common/cancel_token.h"
#include "common/image.h"

namespace rr {

// Interleaved features, `stride` floats per pixel (channels rounded up to 4 for SIMD),
// with `pad` replicated border pixels on each side so target patches never need bounds checks.
struct Features {
  int width = 0, height = 0, channels = 0, stride = 0, pad = 0;
  std::vector<float> data;
  void Allocate(int w, int h, int c, int padding);
  size_t RowFloats() const { return static_cast<size_t>(width + 2 * pad) * stride; }
  // Pointer to pixel (x, y) in unpadded coordinates (x, y may reach -pad .. size-1+pad).
  float* at(int x, int y) { return data.data() + (static_cast<size_t>(y + pad) * (width + 2 * pad) + (x + pad)) * stride; }
  const float* at(int x, int y) const {
    return data.data() + (static_cast<size_t>(y + pad) * (width + 2 * pad) + (x + pad)) * stride;
  }
  // Writes channels [offset, offset+img.channels) from img scaled by `scale`.
  void Fill(const Image& img, int offset, float scale);
  // Replicates the border into the padding (call after the interior changed).
  void ReplicateBorder();
};

// Nearest-neighbour field: source patch centre per target pixel, x then y.
struct Nnf {
  int width = 0, height = 0;
  std::vector<int32_t> xy;
};

struct PatchMatchSettings {
  int patchSize = 5;
  int iterations = 6;
  float uniformityWeight = 3500.f;
  uint32_t seed = 1;
  int threads = 0;
  int level = 0;      // only feeds the random streams
  int voteIter = 0;   // only feeds the random streams
};

class PatchMatcher {
 public:
  PatchMatcher(const Features& source, const Features& target, int patchSize, int threads);

  // Random field with source patches fully inside the source.
  void RandomInit(Nnf& nnf, uint32_t seed, int level) const;
  // Clamps every entry into the valid source range for this patch size.
  void Clamp(Nnf& nnf) const;
  // Per-pixel patch SSD of the current field (no uniformity term); pixels marked in `skip`
  // (optional) keep their value.
  void EvalErrors(const Nnf& nnf, std::vector<float>& err, const std::vector<uint8_t>* skip) const;
  // `iterations` passes of propagation + random search. frozen (optional, per target pixel)
  // marks pixels whose search is skipped. Checks `cancel` between passes.
  void Run(Nnf& nnf, std::vector<float>& err, const std::vector<uint8_t>* frozen,
           const PatchMatchSettings& s, const CancelFlag& cancel) const;

 private:
  void BuildOccupancy(const Nnf& nnf, std::vector<float>& occ) const;
  const Features& src_;
  const Features& tgt_;
  int patch_, r_, threads_;
};

}  // namespace rr
