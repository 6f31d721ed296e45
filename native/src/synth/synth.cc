#include "synth/synth.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "common/parallel.h"
#include "synth/pyramid.h"

namespace rr {

namespace {

constexpr int kMaxVoteChannels = 8;

struct LevelData {
  int sw, sh, tw, th;
  Image style;  // raw style at this level (0..255)
  Features src;
  Features tgt;
};

// Feature layout: [style * sqrt(ws / Cs), guide_k * sqrt(w_k / C_k) ...]: per-channel weights
// are normalised by channel count, as EbSynth does, so a guide's weight does not scale with C.
LevelData BuildLevel(const Image& style, const std::vector<GuidePair>& guides, const SynthParams& p,
                     int level, int patch, float quant) {
  LevelData d;
  d.sw = LevelSide(style.width, level);
  d.sh = LevelSide(style.height, level);
  d.tw = LevelSide(p.targetWidth, level);
  d.th = LevelSide(p.targetHeight, level);
  d.style = Downscale(style, d.sw, d.sh);
  int channels = style.channels;
  for (const auto& g : guides) channels += g.source.channels;
  d.src.Allocate(d.sw, d.sh, channels, 0, quant);
  d.tgt.Allocate(d.tw, d.th, channels, patch / 2, quant);
  d.src.Fill(d.style, 0, std::sqrt(p.styleWeight / style.channels), p.threads);
  int off = style.channels;
  for (const auto& g : guides) {
    const float sc = std::sqrt(g.weight / g.source.channels);
    d.src.Fill(Downscale(g.source, d.sw, d.sh), off, sc, p.threads);
    d.tgt.Fill(Downscale(g.target, d.tw, d.th), off, sc, p.threads);
    off += g.source.channels;
  }
  return d;
}

// Each target pixel averages the source pixels that the patches covering it map it to;
// weighted voting trusts low-error patches more (w = 1 / (1 + err)). Pixels marked in `clean`
// (optional) keep their value in `out`: no patch covering them changed since it was voted.
void Vote(const Nnf& nnf, const std::vector<float>* err, const Image& style, int patch, Image& out,
          int threads, const std::vector<uint8_t>* clean = nullptr) {
  const int W = nnf.width, H = nnf.height, C = style.channels, r = patch / 2;
  if (!clean || out.width != W || out.height != H || out.channels != C) out = Image(W, H, C);
  // One weight per covering patch, computed once rather than once per covered pixel; a plain
  // vote (no err) needs none: w = 1 adds the same values.
  std::vector<float> weight;
  if (err) {
    weight.resize(static_cast<size_t>(W) * H);
    for (size_t i = 0; i < weight.size(); ++i) weight[i] = 1.f / (1.f + (*err)[i]);
  }
  const float* wt = err ? weight.data() : nullptr;
  const int32_t* xy = nnf.xy.data();
  const float* sd = style.data.data();
  const size_t sw = static_cast<size_t>(style.width);
  ParallelFor(threads, H, [&](int y) {
    float acc[kMaxVoteChannels];
    const int qy0 = std::max(0, y - r), qy1 = std::min(H - 1, y + r);
    for (int x = 0; x < W; ++x) {
      if (clean && (*clean)[static_cast<size_t>(y) * W + x]) continue;
      std::fill(acc, acc + C, 0.f);
      float wsum = 0.f;
      const int qx0 = std::max(0, x - r), qx1 = std::min(W - 1, x + r);
      // Same order as before (oy, then ox ascending = q descending) so sums are unchanged.
      for (int qy = qy1; qy >= qy0; --qy) {
        const int oy = y - qy;
        const size_t rowBase = static_cast<size_t>(qy) * W;
        for (int qx = qx1; qx >= qx0; --qx) {
          const int ox = x - qx;
          const size_t q = rowBase + qx;
          const float w = wt ? wt[q] : 1.f;
          const float* s = sd + ((static_cast<size_t>(xy[2 * q + 1] + oy) * sw) + (xy[2 * q] + ox)) * C;
          if (C == 3) {
            acc[0] += w * s[0];
            acc[1] += w * s[1];
            acc[2] += w * s[2];
          } else {
            for (int c = 0; c < C; ++c) acc[c] += w * s[c];
          }
          wsum += w;
        }
      }
      float* o = out.at(x, y);
      const float inv = 1.f / wsum;
      for (int c = 0; c < C; ++c) o[c] = acc[c] * inv;
    }
  });
}

// Next level's field: each fine pixel inherits its coarse parent's match, offset by its position
// inside the parent.
Nnf Upsample(const Nnf& coarse, int tw, int th, int sw, int sh, int scw, int sch) {
  Nnf fine;
  fine.width = tw;
  fine.height = th;
  fine.xy.resize(static_cast<size_t>(tw) * th * 2);
  const double fx = static_cast<double>(sw) / scw, fy = static_cast<double>(sh) / sch;
  for (int y = 0; y < th; ++y) {
    const int cy = std::min(coarse.height - 1, y * coarse.height / th);
    for (int x = 0; x < tw; ++x) {
      const int cx = std::min(coarse.width - 1, x * coarse.width / tw);
      const size_t c = static_cast<size_t>(cy) * coarse.width + cx;
      const size_t i = static_cast<size_t>(y) * tw + x;
      fine.xy[2 * i] = static_cast<int32_t>(std::lround(coarse.xy[2 * c] * fx)) + (x - static_cast<int>(std::lround(cx * static_cast<double>(tw) / coarse.width)));
      fine.xy[2 * i + 1] = static_cast<int32_t>(std::lround(coarse.xy[2 * c + 1] * fy)) + (y - static_cast<int>(std::lround(cy * static_cast<double>(th) / coarse.height)));
    }
  }
  return fine;
}

// A finest-level field brought down to a coarse level (used for temporally initialised runs).
Nnf DownsampleInit(const Nnf& init, int tw, int th, double sx, double sy) {
  Nnf out;
  out.width = tw;
  out.height = th;
  out.xy.resize(static_cast<size_t>(tw) * th * 2);
  for (int y = 0; y < th; ++y) {
    const int fy = std::min(init.height - 1, static_cast<int>((y + 0.5) * init.height / th));
    for (int x = 0; x < tw; ++x) {
      const int fx = std::min(init.width - 1, static_cast<int>((x + 0.5) * init.width / tw));
      const size_t f = static_cast<size_t>(fy) * init.width + fx;
      const size_t i = static_cast<size_t>(y) * tw + x;
      out.xy[2 * i] = static_cast<int32_t>(std::lround(init.xy[2 * f] * sx));
      out.xy[2 * i + 1] = static_cast<int32_t>(std::lround(init.xy[2 * f + 1] * sy));
    }
  }
  return out;
}

// EbSynth's mask dilation: a pixel stays active (0) when any pixel within r of it is active, since
// its patch overlaps pixels whose vote still moves.
void DilateActive(std::vector<uint8_t>& frozen, int w, int h, int r, int threads) {
  std::vector<uint8_t> tmp(frozen.size());
  ParallelFor(threads, h, [&](int y) {
    const uint8_t* a = frozen.data() + static_cast<size_t>(y) * w;
    uint8_t* b = tmp.data() + static_cast<size_t>(y) * w;
    for (int x = 0; x < w; ++x) {
      uint8_t f = 1;
      for (int k = std::max(0, x - r); k <= std::min(w - 1, x + r) && f; ++k) f = a[k];
      b[x] = f;
    }
  });
  ParallelFor(threads, h, [&](int y) {
    uint8_t* b = frozen.data() + static_cast<size_t>(y) * w;
    for (int x = 0; x < w; ++x) {
      uint8_t f = 1;
      for (int k = std::max(0, y - r); k <= std::min(h - 1, y + r) && f; ++k) f = tmp[static_cast<size_t>(k) * w + x];
      b[x] = f;
    }
  });
}

void SetTargetStyle(Features& tgt, const Image& styleEstimate, float scale, int threads) {
  tgt.Fill(styleEstimate, 0, scale, threads);
  tgt.ReplicateBorder();
}

}  // namespace

SynthResult Synthesize(const Image& style, const std::vector<GuidePair>& guides, const SynthParams& p,
                       const Nnf* initNnf, const SynthProgress& progress, const CancelFlag& cancel) {
  const int minSide = std::min(std::min(style.width, style.height), std::min(p.targetWidth, p.targetHeight));
  const int levels = p.levels > 0 ? std::min(p.levels, AutoLevels(minSide, p.patchSize)) : AutoLevels(minSide, p.patchSize);
  const float styleScale = std::sqrt(p.styleWeight / style.channels);
  // One quantisation for every level: area-averaged levels and style votes never exceed the
  // full-size inputs' range, so the largest weighted feature maps to kMaxFeature everywhere.
  float maxScaled = MaxAbs(style) * styleScale;
  for (const auto& g : guides) {
    maxScaled = std::max(maxScaled, std::max(MaxAbs(g.source), MaxAbs(g.target)) * std::sqrt(g.weight / g.source.channels));
  }
  const float quant = QuantFor(maxScaled);

  // Work estimate for progress: pixels x iterations per level.
  double totalWork = 0, doneWork = 0;
  for (int l = levels - 1; l >= 0; --l) {
    totalWork += static_cast<double>(LevelSide(p.targetWidth, l)) * LevelSide(p.targetHeight, l) * p.searchVoteIters;
  }
  if (p.extraPass3x3) totalWork += static_cast<double>(p.targetWidth) * p.targetHeight * p.searchVoteIters;

  Nnf nnf;
  std::vector<float> err;
  Image estimate;
  int prevSw = 0, prevSh = 0;
  const int passes = levels + (p.extraPass3x3 ? 1 : 0);
  for (int pass = 0; pass < passes; ++pass) {
    const bool extra = pass >= levels;
    const int level = extra ? 0 : levels - 1 - pass;
    const int patch = extra ? 3 : p.patchSize;
    LevelData d = BuildLevel(style, guides, p, level, patch, quant);
    if (d.sw < patch || d.sh < patch) throw std::runtime_error("style image is smaller than the patch at a pyramid level");
    PatchMatcher pm(d.src, d.tgt, patch, p.threads);
    if (pass == 0) {
      if (initNnf) {
        nnf = DownsampleInit(*initNnf, d.tw, d.th, static_cast<double>(d.sw) / style.width,
                             static_cast<double>(d.sh) / style.height);
        pm.Clamp(nnf);
      } else {
        pm.RandomInit(nnf, p.seed, level);
      }
    } else if (!extra) {
      nnf = Upsample(nnf, d.tw, d.th, d.sw, d.sh, prevSw, prevSh);
      pm.Clamp(nnf);
    } else {
      pm.Clamp(nnf);
    }
    prevSw = d.sw;
    prevSh = d.sh;
    Vote(nnf, nullptr, d.style, patch, estimate, p.threads);

    std::vector<uint8_t> frozen(static_cast<size_t>(d.tw) * d.th, 0), clean;
    double prevMeanErr = 0;
    PatchMatchSettings s;
    s.patchSize = patch;
    s.iterations = p.patchMatchIters;
    s.uniformityWeight = p.uniformityWeight;
    s.seed = p.seed;
    s.threads = p.threads;
    s.level = extra ? 100 : level;
    for (int v = 0; v < p.searchVoteIters; ++v) {
      ThrowIfCancelled(cancel);
      s.voteIter = v;
      SetTargetStyle(d.tgt, estimate, styleScale, p.threads);
      const std::vector<uint8_t>* skip = v > 0 && p.stopThreshold > 0 ? &frozen : nullptr;
      // Frozen pixels keep their (nearly current) error: their estimate moved < stopThreshold.
      pm.EvalErrors(nnf, err, skip);
      pm.Run(nnf, err, skip, s, cancel);
      // Only frozen pixels' patches kept their match and error, so a pixel whose every covering
      // patch is frozen would vote the same value again: copy it instead (same bytes).
      Image next;
      if (skip) {
        next = estimate;
        clean = *skip;
        DilateActive(clean, d.tw, d.th, patch / 2, p.threads);
      }
      Vote(nnf, p.weightedVote ? &err : nullptr, d.style, patch, next, p.threads, skip ? &clean : nullptr);
      if (p.stopThreshold > 0) {
        // A pixel whose vote barely moved is converged: skip its search next iteration.
        const int C = next.channels;
        ParallelFor(p.threads, d.th, [&](int y) {
          for (int x = 0; x < d.tw; ++x) {
            const float* a = next.at(x, y);
            const float* b = estimate.at(x, y);
            float m = 0.f;
            for (int c = 0; c < C; ++c) m = std::max(m, std::fabs(a[c] - b[c]));
            frozen[static_cast<size_t>(y) * d.tw + x] = m < p.stopThreshold ? 1 : 0;
          }
        });
      }
      if (p.stopThreshold > 0 && p.stopDilate) DilateActive(frozen, d.tw, d.th, patch / 2, p.threads);
      // Every pixel frozen: the next iteration would skip every search, so the field, the errors
      // and the vote could not change any more. Stopping here gives the same bytes, sooner.
      const bool allFrozen = p.stopThreshold > 0 && std::all_of(frozen.begin(), frozen.end(), [](uint8_t f) { return f != 0; });
      // Converged level: the mean patch error improved by less than `convergence` (relative) in
      // this iteration, so more iterations would buy almost nothing.
      bool converged = false;
      if (p.convergence > 0) {
        double sum = 0;
        for (float e : err) sum += e;
        const double meanErr = sum / static_cast<double>(err.size());
        converged = v > 0 && prevMeanErr - meanErr < p.convergence * prevMeanErr;
        prevMeanErr = meanErr;
      }
      estimate = std::move(next);
      if (allFrozen || converged) {
        doneWork += static_cast<double>(d.tw) * d.th * (p.searchVoteIters - v);
        if (progress) progress(doneWork / totalWork);
        break;
      }
      doneWork += static_cast<double>(d.tw) * d.th;
      if (progress) progress(doneWork / totalWork);
    }
    if (pass == passes - 1) {
      SetTargetStyle(d.tgt, estimate, styleScale, p.threads);
      pm.EvalErrors(nnf, err, nullptr);
      const float area = static_cast<float>(patch * patch);
      for (float& e : err) e /= area;
    }
  }
  SynthResult result;
  result.image = std::move(estimate);
  result.error = std::move(err);
  result.nnf = std::move(nnf);
  return result;
}

double MeanBestPatchError(const Image& target, const Image& source, int patchSize, int iterations,
                          uint32_t seed, int threads, const CancelFlag& cancel) {
  if (target.channels != source.channels) throw std::runtime_error("channel counts differ");
  Features src, tgt;
  const float quant = QuantFor(std::max(MaxAbs(source), MaxAbs(target)));
  src.Allocate(source.width, source.height, source.channels, 0, quant);
  src.Fill(source, 0, 1.f);
  tgt.Allocate(target.width, target.height, target.channels, patchSize / 2, quant);
  tgt.Fill(target, 0, 1.f);
  tgt.ReplicateBorder();
  PatchMatcher pm(src, tgt, patchSize, threads);
  Nnf nnf;
  pm.RandomInit(nnf, seed, 0);
  std::vector<float> err;
  pm.EvalErrors(nnf, err, nullptr);
  PatchMatchSettings s;
  s.patchSize = patchSize;
  s.iterations = iterations;
  s.uniformityWeight = 0.f;
  s.seed = seed;
  s.threads = threads;
  pm.Run(nnf, err, nullptr, s, cancel);
  // Border patches include replicated pixels that no source patch holds: leave them out.
  const int r = patchSize / 2;
  double sum = 0;
  size_t count = 0;
  for (int y = r; y < target.height - r; ++y) {
    for (int x = r; x < target.width - r; ++x) {
      sum += err[static_cast<size_t>(y) * target.width + x];
      ++count;
    }
  }
  return count ? sum / (static_cast<double>(count) * patchSize * patchSize * source.channels) : 0.0;
}

}  // namespace rr
