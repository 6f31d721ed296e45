#include "synth/patchmatch.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/parallel.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace rr {

namespace {

constexpr int kTile = 64;  // fixed tile size: the partition never depends on the thread count

inline uint64_t Mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Counter-based stream per (seed, level, iteration, pixel): order of evaluation cannot matter.
struct Rng {
  uint64_t state;
  Rng(uint32_t seed, int level, int iter, int pixel)
      : state(Mix(Mix(Mix(seed) ^ static_cast<uint64_t>(level) * 0x632be59bd9b4e019ULL) ^
                  static_cast<uint64_t>(iter) * 0x85ebca6bULL) ^
              static_cast<uint64_t>(pixel)) {}
  uint32_t Next() {
    state += 0x9e3779b97f4a7c15ULL;
    return static_cast<uint32_t>(Mix(state) >> 32);
  }
  // Uniform integer in [lo, hi].
  int Range(int lo, int hi) { return lo + static_cast<int>((static_cast<uint64_t>(Next()) * (hi - lo + 1)) >> 32); }
};

// Sum of squared differences of one patch row pair (n floats, n % 4 == 0), fixed summation order.
inline float RowSSD(const float* a, const float* b, int n) {
#if defined(__SSE2__)
  __m128 acc0 = _mm_setzero_ps(), acc1 = _mm_setzero_ps();
  int k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m128 d0 = _mm_sub_ps(_mm_loadu_ps(a + k), _mm_loadu_ps(b + k));
    const __m128 d1 = _mm_sub_ps(_mm_loadu_ps(a + k + 4), _mm_loadu_ps(b + k + 4));
    acc0 = _mm_add_ps(acc0, _mm_mul_ps(d0, d0));
    acc1 = _mm_add_ps(acc1, _mm_mul_ps(d1, d1));
  }
  for (; k < n; k += 4) {
    const __m128 d0 = _mm_sub_ps(_mm_loadu_ps(a + k), _mm_loadu_ps(b + k));
    acc0 = _mm_add_ps(acc0, _mm_mul_ps(d0, d0));
  }
  acc0 = _mm_add_ps(acc0, acc1);
  alignas(16) float t[4];
  _mm_store_ps(t, acc0);
  return (t[0] + t[1]) + (t[2] + t[3]);
#else
  float s = 0.f;
  for (int k = 0; k < n; ++k) {
    const float d = a[k] - b[k];
    s += d * d;
  }
  return s;
#endif
}

}  // namespace

void Features::Allocate(int w, int h, int c, int padding) {
  width = w;
  height = h;
  channels = c;
  stride = (c + 3) & ~3;
  pad = padding;
  data.assign(static_cast<size_t>(w + 2 * padding) * (h + 2 * padding) * stride, 0.f);
}

void Features::Fill(const Image& img, int offset, float scale) {
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const float* s = img.at(x, y);
      float* d = at(x, y) + offset;
      for (int c = 0; c < img.channels; ++c) d[c] = s[c] * scale;
    }
  }
}

void Features::ReplicateBorder() {
  if (pad == 0) return;
  const size_t px = static_cast<size_t>(stride) * sizeof(float);
  for (int y = 0; y < height; ++y) {
    for (int x = -pad; x < 0; ++x) std::memcpy(at(x, y), at(0, y), px);
    for (int x = width; x < width + pad; ++x) std::memcpy(at(x, y), at(width - 1, y), px);
  }
  const size_t row = RowFloats() * sizeof(float);
  for (int y = -pad; y < 0; ++y) std::memcpy(at(-pad, y), at(-pad, 0), row);
  for (int y = height; y < height + pad; ++y) std::memcpy(at(-pad, y), at(-pad, height - 1), row);
}

PatchMatcher::PatchMatcher(const Features& source, const Features& target, int patchSize, int threads)
    : src_(source), tgt_(target), patch_(patchSize), r_(patchSize / 2), threads_(threads) {}

void PatchMatcher::RandomInit(Nnf& nnf, uint32_t seed, int level) const {
  nnf.width = tgt_.width;
  nnf.height = tgt_.height;
  nnf.xy.resize(static_cast<size_t>(tgt_.width) * tgt_.height * 2);
  for (int i = 0; i < tgt_.width * tgt_.height; ++i) {
    Rng rng(seed, level, -1, i);
    nnf.xy[2 * i] = rng.Range(r_, src_.width - 1 - r_);
    nnf.xy[2 * i + 1] = rng.Range(r_, src_.height - 1 - r_);
  }
}

void PatchMatcher::Clamp(Nnf& nnf) const {
  for (size_t i = 0; i < nnf.xy.size(); i += 2) {
    nnf.xy[i] = std::clamp(nnf.xy[i], r_, src_.width - 1 - r_);
    nnf.xy[i + 1] = std::clamp(nnf.xy[i + 1], r_, src_.height - 1 - r_);
  }
}

void PatchMatcher::EvalErrors(const Nnf& nnf, std::vector<float>& err, const std::vector<uint8_t>* skip) const {
  const int W = tgt_.width, H = tgt_.height, rowLen = patch_ * src_.stride;
  const size_t sRow = src_.RowFloats(), tRow = tgt_.RowFloats();
  err.resize(static_cast<size_t>(W) * H, 0.f);
  ParallelFor(threads_, H, [&](int y) {
    for (int x = 0; x < W; ++x) {
      const size_t i = static_cast<size_t>(y) * W + x;
      if (skip && (*skip)[i]) continue;
      const float* s = src_.at(nnf.xy[2 * i] - r_, nnf.xy[2 * i + 1] - r_);
      const float* t = tgt_.at(x - r_, y - r_);
      float acc = 0.f;
      for (int dy = 0; dy < patch_; ++dy) acc += RowSSD(s + dy * sRow, t + dy * tRow, rowLen);
      err[i] = acc;
    }
  });
}

// occ[s] = lambda * (mean occupancy of the source patch at s) / (expected occupancy), where a
// source pixel's occupancy counts the target patches that currently cover it (EbSynth's Omega).
void PatchMatcher::BuildOccupancy(const Nnf& nnf, std::vector<float>& occ) const {
  const int SW = src_.width, SH = src_.height, r = r_;
  std::vector<int32_t> cnt(static_cast<size_t>(SW) * SH, 0), tmp(cnt.size()), omega(cnt.size());
  for (size_t i = 0; i < nnf.xy.size(); i += 2) ++cnt[static_cast<size_t>(nnf.xy[i + 1]) * SW + nnf.xy[i]];
  // Two separable box sums (sliding windows): box(cnt) is Omega, box(Omega) its sum over a patch.
  auto boxRows = [&](const std::vector<int32_t>& in, std::vector<int32_t>& out) {
    ParallelFor(threads_, SH, [&](int y) {
      const int32_t* a = in.data() + static_cast<size_t>(y) * SW;
      int32_t* b = out.data() + static_cast<size_t>(y) * SW;
      int32_t s = 0;
      for (int k = 0; k < std::min(r, SW); ++k) s += a[k];
      for (int x = 0; x < SW; ++x) {
        if (x + r < SW) s += a[x + r];
        if (x - r - 1 >= 0) s -= a[x - r - 1];
        b[x] = s;
      }
    });
  };
  constexpr int kStrip = 256;
  auto boxCols = [&](const std::vector<int32_t>& in, std::vector<int32_t>& out) {
    ParallelFor(threads_, (SW + kStrip - 1) / kStrip, [&](int strip) {
      const int x0 = strip * kStrip, x1 = std::min(SW, x0 + kStrip);
      int32_t s[kStrip] = {0};
      auto row = [&](int y) { return in.data() + static_cast<size_t>(y) * SW; };
      for (int k = 0; k < std::min(r, SH); ++k) for (int x = x0; x < x1; ++x) s[x - x0] += row(k)[x];
      for (int y = 0; y < SH; ++y) {
        if (y + r < SH) for (int x = x0; x < x1; ++x) s[x - x0] += row(y + r)[x];
        if (y - r - 1 >= 0) for (int x = x0; x < x1; ++x) s[x - x0] -= row(y - r - 1)[x];
        int32_t* b = out.data() + static_cast<size_t>(y) * SW;
        for (int x = x0; x < x1; ++x) b[x] = s[x - x0];
      }
    });
  };
  boxRows(cnt, tmp);
  boxCols(tmp, omega);
  boxRows(omega, tmp);
  boxCols(tmp, cnt);
  const float area = static_cast<float>(patch_ * patch_);
  const float omegaBest = static_cast<float>(tgt_.width) * tgt_.height / (static_cast<float>(SW) * SH) * area;
  occ.resize(cnt.size());
  for (size_t i = 0; i < cnt.size(); ++i) occ[i] = static_cast<float>(cnt[i]) / area / omegaBest;
}

void PatchMatcher::Run(Nnf& nnf, std::vector<float>& err, const std::vector<uint8_t>* frozen,
                       const PatchMatchSettings& s, const CancelFlag& cancel) const {
  const int W = tgt_.width, H = tgt_.height, SW = src_.width, SH = src_.height, r = r_;
  const int rowLen = patch_ * src_.stride;
  const size_t sRow = src_.RowFloats(), tRow = tgt_.RowFloats();
  const int tilesX = (W + kTile - 1) / kTile, tilesY = (H + kTile - 1) / kTile;
  const float lambda = s.uniformityWeight;
  const int maxRadius = std::max(SW, SH) / 2;
  std::vector<float> occ;
  Nnf prev = nnf;

  for (int it = 0; it < s.iterations; ++it) {
    ThrowIfCancelled(cancel);
    if (lambda > 0.f) {
      BuildOccupancy(nnf, occ);
      for (float& o : occ) o *= lambda;
    }
    prev.xy = nnf.xy;
    const bool forward = (it % 2) == 0;
    ParallelFor(threads_, tilesX * tilesY, [&](int tile) {
      const int x0 = (tile % tilesX) * kTile, y0 = (tile / tilesX) * kTile;
      const int x1 = std::min(W, x0 + kTile), y1 = std::min(H, y0 + kTile);
      const int step = forward ? 1 : -1;
      auto occOf = [&](int sx, int sy) { return lambda > 0.f ? occ[static_cast<size_t>(sy) * SW + sx] : 0.f; };
      for (int yy = 0; yy < y1 - y0; ++yy) {
        const int y = forward ? y0 + yy : y1 - 1 - yy;
        for (int xx = 0; xx < x1 - x0; ++xx) {
          const int x = forward ? x0 + xx : x1 - 1 - xx;
          const size_t i = static_cast<size_t>(y) * W + x;
          if (frozen && (*frozen)[i]) continue;
          int bx = nnf.xy[2 * i], by = nnf.xy[2 * i + 1];
          float bestErr = err[i];
          float bestCost = bestErr + occOf(bx, by);
          const float* t = tgt_.at(x - r, y - r);
          auto tryPatch = [&](int cx, int cy) {
            if (cx == bx && cy == by) return;
            const float o = occOf(cx, cy);
            const float bound = bestCost - o;
            if (bound <= 0.f) return;
            const float* sp = src_.at(cx - r, cy - r);
            float acc = 0.f;
            for (int dy = 0; dy < patch_; ++dy) {
              acc += RowSSD(sp + dy * sRow, t + dy * tRow, rowLen);
              if (acc >= bound) return;
            }
            bx = cx;
            by = cy;
            bestErr = acc;
            bestCost = acc + o;
          };
          // Propagation: neighbours inside this tile were already updated this pass (read the
          // live field); neighbours in other tiles are read from the pass's starting copy.
          const int nxs[2] = {x - step, x};
          const int nys[2] = {y, y - step};
          for (int k = 0; k < 2; ++k) {
            const int nx = nxs[k], ny = nys[k];
            if (nx < 0 || ny < 0 || nx >= W || ny >= H) continue;
            const bool inTile = nx >= x0 && nx < x1 && ny >= y0 && ny < y1;
            const std::vector<int32_t>& f = inTile ? nnf.xy : prev.xy;
            const size_t j = static_cast<size_t>(ny) * W + nx;
            tryPatch(std::clamp(f[2 * j] + (x - nx), r, SW - 1 - r),
                     std::clamp(f[2 * j + 1] + (y - ny), r, SH - 1 - r));
          }
          // Random search around the best match with a halving radius.
          Rng rng(s.seed, s.level, s.voteIter * 64 + it, static_cast<int>(i));
          for (int rad = maxRadius; rad >= 1; rad /= 2) {
            const int cx = std::clamp(bx + rng.Range(-rad, rad), r, SW - 1 - r);
            const int cy = std::clamp(by + rng.Range(-rad, rad), r, SH - 1 - r);
            tryPatch(cx, cy);
          }
          nnf.xy[2 * i] = bx;
          nnf.xy[2 * i + 1] = by;
          err[i] = bestErr;
        }
      }
    });
  }
}

}  // namespace rr
