// Optical flow and the per-frame guides of video propagation: dense flow both ways, the
// forward-backward occlusion check, backward warping, hole filling, edge guide, NNF advection.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "common/image.h"

namespace rr {

// 'dis-fine' is DIS medium carried down to full resolution. OpenCV contrib's DeepFlow, DualTVL1,
// dense RLOF and PCAFlow were measured too and left out: no better end result at 5-30x the time
// (PCAFlow also corrupts the heap on tiny frames); see bench/flow/README.md.
enum class FlowMethod { DisUltrafast, DisFast, DisMedium, DisFine, Farneback };
FlowMethod ParseFlowMethod(const std::string& name);  // throws std::invalid_argument

// Flow fields are 2-channel images in pixels: a pixel p of the first frame moves to p + f(p).
// Returns the flow a -> b. Frames are 0..255 images with 1 or 3+ channels (grey is used).
Image ComputeFlow(const Image& a, const Image& b, FlowMethod method);

// Occluded (255) where the round trip through `flow` then `other` (sampled at p + flow(p))
// does not come back: |f + o|^2 > 0.01 (|f|^2 + |o|^2) + 0.5, or where p + f leaves the frame.
std::vector<uint8_t> OcclusionMask(const Image& flow, const Image& other);

// out(p) = img(p + flow(p)), bilinear (or nearest), border replicated.
Image Warp(const Image& img, const Image& flow, bool nearest, int threads);

// Fills pixels where mask != 0 by push-pull diffusion from the known pixels around them.
Image FillHoles(const Image& img, const std::vector<uint8_t>& mask);

// 3x3 Laplacian of every channel, offset to 128 and clamped to 0..255.
Image EdgeGuide(const Image& img);

// NNF carried along the flow: out(p) = nnf(round(p + flow(p))) (nearest sample, clamped).
std::vector<int32_t> AdvectNnf(const std::vector<int32_t>& nnf, const Image& flow);

}  // namespace rr
