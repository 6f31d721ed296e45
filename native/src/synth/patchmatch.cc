#include "synth/patchmatch.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "common/parallel.h"

#include <immintrin.h>

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

// Squared differences of one patch row pair (n int16 values, n % 8 == 0), reduced to int64 so that
// wide rows cannot overflow: |a - b| <= 2 * kMaxFeature keeps every int32 lane below 2^31 for
// rows up to 2048 values.
inline int64_t RowSSD_SSE2(const int16_t* a, const int16_t* b, int n) {
  __m128i acc = _mm_setzero_si128();
  for (int k = 0; k < n; k += 8) {
    const __m128i d = _mm_sub_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + k)),
                                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + k)));
    acc = _mm_add_epi32(acc, _mm_madd_epi16(d, d));
  }
  alignas(16) int32_t t[4];
  _mm_store_si128(reinterpret_cast<__m128i*>(t), acc);
  return static_cast<int64_t>(t[0]) + t[1] + t[2] + t[3];
}

// Integer sums are exact: the SSE2 and AVX2 kernels return the same value for any input.
float PatchSSD_SSE2(const int16_t* s, const int16_t* t, size_t sRow, size_t tRow, int rows, int n, float bound,
                    float invQ2) {
  int64_t acc = 0;
  for (int dy = 0; dy < rows; ++dy) {
    acc += RowSSD_SSE2(s + dy * sRow, t + dy * tRow, n);
    const float e = static_cast<float>(acc) * invQ2;
    if (e >= bound) return e;
  }
  return static_cast<float>(acc) * invQ2;
}

__attribute__((target("avx2"))) inline int64_t RowSSD_AVX2(const int16_t* a, const int16_t* b, int n) {
  __m256i acc = _mm256_setzero_si256();
  int k = 0;
  for (; k + 16 <= n; k += 16) {
    const __m256i d = _mm256_sub_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + k)),
                                       _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + k)));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(d, d));
  }
  __m128i acc4 = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  if (k < n) {
    const __m128i d = _mm_sub_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + k)),
                                    _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + k)));
    acc4 = _mm_add_epi32(acc4, _mm_madd_epi16(d, d));
  }
  alignas(16) int32_t t[4];
  _mm_store_si128(reinterpret_cast<__m128i*>(t), acc4);
  return static_cast<int64_t>(t[0]) + t[1] + t[2] + t[3];
}

__attribute__((target("avx2"))) float PatchSSD_AVX2(const int16_t* s, const int16_t* t, size_t sRow, size_t tRow,
                                                    int rows, int n, float bound, float invQ2) {
  int64_t acc = 0;
  for (int dy = 0; dy < rows; ++dy) {
    acc += RowSSD_AVX2(s + dy * sRow, t + dy * tRow, n);
    const float e = static_cast<float>(acc) * invQ2;
    if (e >= bound) return e;
  }
  return static_cast<float>(acc) * invQ2;
}

// AVX2 when the CPU has it; RERENDER_SYNTH_SIMD=sse2 forces the baseline kernel (tests compare both).
PatchMatcher::PatchFn PickPatchFn() {
  const char* force = std::getenv("RERENDER_SYNTH_SIMD");
  if (force && std::strcmp(force, "sse2") == 0) return PatchSSD_SSE2;
  return __builtin_cpu_supports("avx2") ? PatchSSD_AVX2 : PatchSSD_SSE2;
}

}  // namespace

void Features::Allocate(int w, int h, int c, int padding, float quantScale) {
  width = w;
  height = h;
  channels = c;
  stride = (c + 7) & ~7;
  pad = padding;
  quant = quantScale;
  data.assign(static_cast<size_t>(w + 2 * padding) * (h + 2 * padding) * stride, 0);
}

void Features::Fill(const Image& img, int offset, float scale, int threads) {
  const float k = scale * quant;
  ParallelFor(threads, height, [&](int y) {
    for (int x = 0; x < width; ++x) {
      const float* s = img.at(x, y);
      int16_t* d = at(x, y) + offset;
      for (int c = 0; c < img.channels; ++c) {
        const float v = std::clamp(s[c] * k, -static_cast<float>(kMaxFeature), static_cast<float>(kMaxFeature));
        d[c] = static_cast<int16_t>(v >= 0.f ? static_cast<int>(v + 0.5f) : -static_cast<int>(0.5f - v));
      }
    }
  });
}

void Features::ReplicateBorder() {
  if (pad == 0) return;
  const size_t px = static_cast<size_t>(stride) * sizeof(int16_t);
  for (int y = 0; y < height; ++y) {
    for (int x = -pad; x < 0; ++x) std::memcpy(at(x, y), at(0, y), px);
    for (int x = width; x < width + pad; ++x) std::memcpy(at(x, y), at(width - 1, y), px);
  }
  const size_t row = RowValues() * sizeof(int16_t);
  for (int y = -pad; y < 0; ++y) std::memcpy(at(-pad, y), at(-pad, 0), row);
  for (int y = height; y < height + pad; ++y) std::memcpy(at(-pad, y), at(-pad, height - 1), row);
}

float QuantFor(float maxScaled) {
  return maxScaled > 0.f && std::isfinite(maxScaled) ? static_cast<float>(kMaxFeature) / maxScaled : 1.f;
}

float MaxAbs(const Image& img) {
  float m = 0.f;
  for (float v : img.data) m = std::max(m, std::fabs(v));
  return m;
}

PatchMatcher::PatchMatcher(const Features& source, const Features& target, int patchSize, int threads)
    : patchFn_(PickPatchFn()), src_(source), tgt_(target),
      patch_(patchSize), r_(patchSize / 2), threads_(threads) {
  if (source.stride != target.stride || source.quant != target.quant) throw std::runtime_error("source and target features differ in layout");
  // RowSSD's int32 lanes hold at most n / 4 squares of 2 * kMaxFeature: n <= 2048 keeps them exact
  // (15 px x 136 channels, the most the arguments allow, is 2040).
  if (patchSize * source.stride > 2048) throw std::runtime_error("too many feature channels for this patch size");
}

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
  const size_t sRow = src_.RowValues(), tRow = tgt_.RowValues();
  const float invQ2 = 1.f / (src_.quant * src_.quant);
  err.resize(static_cast<size_t>(W) * H, 0.f);
  ParallelFor(threads_, H, [&](int y) {
    for (int x = 0; x < W; ++x) {
      const size_t i = static_cast<size_t>(y) * W + x;
      if (skip && (*skip)[i]) continue;
      const int16_t* s = src_.at(nnf.xy[2 * i] - r_, nnf.xy[2 * i + 1] - r_);
      const int16_t* t = tgt_.at(x - r_, y - r_);
      err[i] = patchFn_(s, t, sRow, tRow, patch_, rowLen, std::numeric_limits<float>::infinity(), invQ2);
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
  const size_t sRow = src_.RowValues(), tRow = tgt_.RowValues();
  const int tilesX = (W + kTile - 1) / kTile, tilesY = (H + kTile - 1) / kTile;
  const float lambda = s.uniformityWeight;
  const int maxRadius = std::max(SW, SH) / 2;
  const float invQ2 = 1.f / (src_.quant * src_.quant);
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
      int offs[2 * 32];
      const int rowBytes = rowLen * static_cast<int>(sizeof(int16_t));
      for (int yy = 0; yy < y1 - y0; ++yy) {
        const int y = forward ? y0 + yy : y1 - 1 - yy;
        for (int xx = 0; xx < x1 - x0; ++xx) {
          const int x = forward ? x0 + xx : x1 - 1 - xx;
          const size_t i = static_cast<size_t>(y) * W + x;
          if (frozen && (*frozen)[i]) continue;
          int bx = nnf.xy[2 * i], by = nnf.xy[2 * i + 1];
          float bestErr = err[i];
          float bestCost = bestErr + occOf(bx, by);
          const int16_t* t = tgt_.at(x - r, y - r);
          auto tryPatch = [&](int cx, int cy) {
            if (cx == bx && cy == by) return;
            const float o = occOf(cx, cy);
            const float bound = bestCost - o;
            if (bound <= 0.f) return;
            const float acc = patchFn_(src_.at(cx - r, cy - r), t, sRow, tRow, patch_, rowLen, bound, invQ2);
            if (acc >= bound) return;
            bx = cx;
            by = cy;
            bestErr = acc;
            bestCost = acc + o;
          };
          // Random offsets are drawn up front (same stream, same order) so that the random
          // candidates' occupancy and first patch rows can be prefetched, guessing that the best
          // match stays where it is (it mostly does): random candidates are cache misses, and this
          // hides much of their latency. Prefetches never change a result.
          Rng rng(s.seed, s.level, s.voteIter * 64 + it, static_cast<int>(i));
          int nRand = 0;
          for (int rad = maxRadius; rad >= 1; rad /= 2) {
            offs[2 * nRand] = rng.Range(-rad, rad);
            offs[2 * nRand + 1] = rng.Range(-rad, rad);
            ++nRand;
          }
          auto prefetchRow = [&](int k) {
            const int cx = std::clamp(bx + offs[2 * k], r, SW - 1 - r);
            const int cy = std::clamp(by + offs[2 * k + 1], r, SH - 1 - r);
            const char* p0 = reinterpret_cast<const char*>(src_.at(cx - r, cy - r));
            for (int b = 0; b < rowBytes; b += 64) __builtin_prefetch(p0 + b);
          };
          if (lambda > 0.f) {
            for (int k = 0; k < nRand; ++k) {
              const int cx = std::clamp(bx + offs[2 * k], r, SW - 1 - r);
              const int cy = std::clamp(by + offs[2 * k + 1], r, SH - 1 - r);
              __builtin_prefetch(&occ[static_cast<size_t>(cy) * SW + cx]);
            }
          }
          for (int k = 0; k < std::min(nRand, 2); ++k) prefetchRow(k);
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
          for (int k = 0; k < nRand; ++k) {
            if (k + 2 < nRand) prefetchRow(k + 2);
            tryPatch(std::clamp(bx + offs[2 * k], r, SW - 1 - r), std::clamp(by + offs[2 * k + 1], r, SH - 1 - r));
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
