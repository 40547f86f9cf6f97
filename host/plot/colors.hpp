// Internal: the colours of a pairplot. Sample sets take matplotlib's default cycle (tab10) at
// even indices and reference points at odd ones, as sbi does; images use viridis, stored as 33
// evenly spaced anchors interpolated linearly (within 2.5/255 of matplotlib's 256-entry table).
#pragma once
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "host/plot/scene.hpp"

namespace cusbi::plot {

inline Rgb tab10(int64_t i) {
  static constexpr std::array<std::array<uint8_t, 3>, 10> kTab10 = {{{31, 119, 180},
                                                                     {255, 127, 14},
                                                                     {44, 160, 44},
                                                                     {214, 39, 40},
                                                                     {148, 103, 189},
                                                                     {140, 86, 75},
                                                                     {227, 119, 194},
                                                                     {127, 127, 127},
                                                                     {188, 189, 34},
                                                                     {23, 190, 207}}};
  const auto& c = kTab10[static_cast<size_t>(i % 10)];
  return {c[0] / 255.0, c[1] / 255.0, c[2] / 255.0};
}
inline Rgb sample_color(int64_t set) { return tab10(2 * set); }
inline Rgb point_color(int64_t set) { return tab10(2 * set + 1); }

// t in [0, 1] -> viridis RGB bytes.
inline std::array<uint8_t, 3> viridis(double t) {
  static constexpr std::array<std::array<uint8_t, 3>, 33> kAnchors = {
      {{68, 1, 84},    {71, 13, 96},   {72, 24, 106},  {72, 35, 116},  {71, 45, 123},
       {69, 55, 129},  {66, 64, 134},  {62, 73, 137},  {59, 82, 139},  {55, 91, 141},
       {51, 99, 141},  {47, 107, 142}, {44, 114, 142}, {41, 122, 142}, {38, 130, 142},
       {35, 137, 142}, {33, 145, 140}, {31, 152, 139}, {31, 160, 136}, {34, 167, 133},
       {40, 174, 128}, {50, 182, 122}, {63, 188, 115}, {78, 195, 107}, {94, 201, 98},
       {112, 207, 87}, {132, 212, 75}, {152, 216, 62}, {173, 220, 48}, {194, 223, 35},
       {216, 226, 25}, {236, 229, 27}, {253, 231, 37}}};
  const double s = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * (kAnchors.size() - 1);
  const size_t i = std::min(static_cast<size_t>(s), kAnchors.size() - 2);
  const double f = s - static_cast<double>(i);
  std::array<uint8_t, 3> out{};
  for (int k = 0; k < 3; ++k)
    out[k] = static_cast<uint8_t>(std::lround(kAnchors[i][k] * (1 - f) + kAnchors[i + 1][k] * f));
  return out;
}

}  // namespace cusbi::plot
