// EbSynth-style guided patch synthesis: coarse-to-fine search-vote iterations of PatchMatch
// over style + guide features, with the uniformity (occupancy) term.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "common/cancel_token.h"
#include "common/image.h"
#include "synth/patchmatch.h"

namespace rr {

struct GuidePair {
  Image source;  // at style size
  Image target;  // at output size
  float weight = 1.f;
};

struct SynthParams {
  int targetWidth = 0, targetHeight = 0;  // output size
  int patchSize = 5;
  int levels = 0;  // 0 = automatic
  int searchVoteIters = 12;
  int patchMatchIters = 6;
  float uniformityWeight = 3500.f;
  float styleWeight = 1.f;
  bool extraPass3x3 = false;
  float stopThreshold = 5.f;  // 0..255 scale; 0 disables freezing of converged pixels
  bool stopDilate = false;
  float convergence = 0.f;    // stop a level once mean error improves by less than this fraction    // EbSynth: keep pixels near unconverged ones searching too
  bool weightedVote = true;
  uint32_t seed = 1;
  int threads = 0;
};

struct SynthResult {
  Image image;               // style channels at output size, 0..255 scale
  std::vector<float> error;  // per pixel: weighted patch SSD / patch area
  Nnf nnf;
};

// fraction in [0, 1]
using SynthProgress = std::function<void(double fraction)>;

SynthResult Synthesize(const Image& style, const std::vector<GuidePair>& guides, const SynthParams& p,
                       const Nnf* initNnf, const SynthProgress& progress, const CancelFlag& cancel);

// Mean over interior target pixels of the best (PatchMatch-approximated) patch SSD per pixel and channel of
// `target` against `source`: a style-fidelity measure.
double MeanBestPatchError(const Image& target, const Image& source, int patchSize, int iterations,
                          uint32_t seed, int threads, const CancelFlag& cancel);

}  // namespace rr
