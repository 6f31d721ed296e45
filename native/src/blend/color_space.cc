#include "color_space.h"

#include <opencv2/imgproc.hpp>

namespace blend {

cv::Mat rgb8ToWork(const uint8_t* rgb, int width, int height, WorkSpace space) {
  // The wrapper only reads; OpenCV's Mat header has no const-data constructor.
  const cv::Mat src(height, width, CV_8UC3, const_cast<uint8_t*>(rgb));
  cv::Mat f;
  if (space == WorkSpace::Rgb) {
    src.convertTo(f, CV_32FC3);
    return f;
  }
  src.convertTo(f, CV_32FC3, 1.0 / 255.0);
  cv::Mat lab;
  cv::cvtColor(f, lab, cv::COLOR_RGB2Lab);
  return lab;
}

void workToRgb8(const cv::Mat& img, WorkSpace space, uint8_t* out) {
  CV_Assert(img.type() == CV_32FC3);
  cv::Mat dst(img.rows, img.cols, CV_8UC3, out);
  if (space == WorkSpace::Rgb) {
    img.convertTo(dst, CV_8UC3);  // rounds and saturates
    return;
  }
  cv::Mat rgb;
  cv::cvtColor(img, rgb, cv::COLOR_Lab2RGB);
  rgb.convertTo(dst, CV_8UC3, 255.0);
}

}  // namespace blend
