// Cost of each upsampling method on one 1080p frame, without Node: the native code alone, on all
// cores, on four and on one. Built and run by bench/fullres/time-native.sh:
//   time-native <low.rgb> <lowW> <lowH> <guide.rgb> <guideW> <guideH> <rectX> <rectY> <rectW> <rectH> [reps] [method]
#include <opencv2/core.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "upsample/upsample.h"

static std::vector<uint8_t> ReadAll(const char* path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}

int main(int argc, char** argv) {
  if (argc < 11) {
    std::fprintf(stderr, "usage: %s low.rgb lowW lowH guide.rgb guideW guideH rectX rectY rectW rectH [reps]\n", argv[0]);
    return 2;
  }
  const std::vector<uint8_t> low = ReadAll(argv[1]), guide = ReadAll(argv[4]);
  const int lw = std::atoi(argv[2]), lh = std::atoi(argv[3]), gw = std::atoi(argv[5]), gh = std::atoi(argv[6]);
  const rr::UpsampleRect rect{std::atoi(argv[7]), std::atoi(argv[8]), std::atoi(argv[9]), std::atoi(argv[10])};
  const int reps = argc > 11 ? std::atoi(argv[11]) : 9;
  const std::string only = argc > 12 ? argv[12] : "";  // one method, e.g. for a profiler
  if (low.size() != size_t(lw) * lh * 3 || guide.size() != size_t(gw) * gh * 3) {
    std::fprintf(stderr, "input sizes do not match\n");
    return 2;
  }
  const struct { const char* name; rr::UpsampleMethod m; } methods[] = {
      {"bicubic", rr::UpsampleMethod::Bicubic},   {"joint-bilateral", rr::UpsampleMethod::JointBilateral},
      {"guided", rr::UpsampleMethod::Guided},     {"guided-luma", rr::UpsampleMethod::GuidedLuma},
      {"detail", rr::UpsampleMethod::Detail}};
  const int all = cv::getNumberOfCPUs();
  for (int threads : {all, 4, 1}) {
    cv::setNumThreads(threads);
    std::printf("%d thread(s), %dx%d -> %dx%d, median of %d:\n", threads, lw, lh, gw, gh, reps);
    for (const auto& m : methods) {
      if (!only.empty() && only != m.name) continue;
      rr::UpsampleParams p;
      p.method = m.m;
      std::vector<double> t;
      for (int r = 0; r < reps; ++r) {
        const auto s = std::chrono::steady_clock::now();
        auto out = rr::Upsample(low.data(), lw, lh, guide.data(), gw, gh, rect, p, nullptr);
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count());
      }
      std::sort(t.begin(), t.end());
      std::printf("  %-16s %7.1f ms (min %.1f)\n", m.name, t[t.size() / 2], t[0]);
    }
  }
  return 0;
}
