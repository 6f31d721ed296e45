// PatchMatch over weighted feature images (style + guides), with EbSynth's occupancy
// (uniformity) term and deterministic tiled parallelism.
#pragma once
#include <cstdint>
#include <vector>

#include "common/cancel_token.h"
#include "common/image.h"

namespace rr {

// Interleaved features as int16, `stride` values per pixel (channels rounded up to 8 for SIMD),
// with `pad` replicated border pixels on each side so target patches never need bounds checks.
// Quantised (value * quant, |v| <= kMaxFeature) rather than float: the search is bound by memory
// traffic to random source patches, half the bytes per patch is most of the speed, and integer
// sums are exact, so every SIMD width and summation order gives the same bytes.
constexpr int kMaxFeature = 1023;  // keeps one patch row's squared sums inside int32 (see PatchSSD)

struct Features {
  int width = 0, height = 0, channels = 0, stride = 0, pad = 0;
  float quant = 1.f;  // feature units per input unit: SSDs divide by quant^2
  std::vector<int16_t> data;
  void Allocate(int w, int h, int c, int padding, float quantScale);
  size_t RowValues() const { return static_cast<size_t>(width + 2 * pad) * stride; }
  // Pointer to pixel (x, y) in unpadded coordinates (x, y may reach -pad .. size-1+pad).
  int16_t* at(int x, int y) { return data.data() + (static_cast<size_t>(y + pad) * (width + 2 * pad) + (x + pad)) * stride; }
  const int16_t* at(int x, int y) const {
    return data.data() + (static_cast<size_t>(y + pad) * (width + 2 * pad) + (x + pad)) * stride;
  }
  // Writes channels [offset, offset+img.channels) from img scaled by `scale` (then by quant).
  // Rows run on up to `threads` threads (0 = automatic); the result does not depend on it.
  void Fill(const Image& img, int offset, float scale, int threads = 1);
  // Replicates the border into the padding (call after the interior changed).
  void ReplicateBorder();
};

// Quantisation for features whose largest |value * scale| is maxScaled: maps it to kMaxFeature.
float QuantFor(float maxScaled);

// Largest |value| in an image (0 for an empty one).
float MaxAbs(const Image& img);

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

 public:
  // Patch SSD in input units^2, or any value >= bound once the partial sum reaches it.
  using PatchFn = float (*)(const int16_t* s, const int16_t* t, size_t sRow, size_t tRow, int rows, int n,
                            float bound, float invQ2);

 private:
  void BuildOccupancy(const Nnf& nnf, std::vector<float>& occ) const;
  PatchFn patchFn_;
  const Features& src_;
  const Features& tgt_;
  int patch_, r_, threads_;
};

}  // namespace rr
