// Image pyramid helpers: level sizes and area-averaged (box-prefiltered) downscaling.
#pragma once
#include <utility>
#include <vector>

#include "common/image.h"

namespace rr {

// Levels such that the coarsest level's short side stays >= 2 * patch (at least 1 level).
int AutoLevels(int minSide, int patchSize);

// Size of a level: ceil(size / 2^level), never below 1.
int LevelSide(int side, int level);

// Area-averaged resize (cv::INTER_AREA, i.e. a box prefilter before decimation), any channel count.
Image Downscale(const Image& img, int width, int height);

}  // namespace rr
