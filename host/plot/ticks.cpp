// Tick placement and labels (see ticks.hpp).
#include "host/plot/ticks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace cusbi::plot {

namespace {
constexpr double kMultipliers[] = {1.0, 2.0, 2.5, 4.0, 5.0};
}  // namespace

double next_nice_step(double step) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  for (double m : kMultipliers)
    if (m * magnitude > step * (1 + 1e-9)) return m * magnitude;
  return 10 * magnitude;
}

std::vector<double> ticks_at(Range range, double step) {
  std::vector<double> ticks;
  for (double k = std::ceil(range.low / step - 1e-9); k * step <= range.high + step * 1e-9; k += 1)
    ticks.push_back(std::fabs(k) < 0.5 ? 0.0 : k * step);  // no "-0"
  return ticks;
}

double nice_step(Range range, int max_ticks) {
  const double span = range.high - range.low;
  max_ticks = std::max(1, max_ticks);
  // From a step certainly too small upwards: the first with few enough ticks inside.
  double step = std::pow(10.0, std::floor(std::log10(span / max_ticks)) - 1);
  while (std::floor(range.high / step + 1e-9) - std::ceil(range.low / step - 1e-9) + 1 > max_ticks)
    step = next_nice_step(step);
  return step;
}

std::vector<double> nice_ticks(Range range, int max_ticks) {
  const double span = range.high - range.low;
  if (!(span > 0) || !std::isfinite(span)) return {range.low};
  return ticks_at(range, nice_step(range, max_ticks));
}

std::string tick_label(double value, double step) {
  if (std::fabs(value) < std::fabs(step) * 1e-9) value = 0.0;
  // Significant digits: "%g"'s 6, or more when the step's last digit needs them (a 2.5e-7 step
  // near 1); never so many that binary rounding shows.
  const double magnitude = std::max(std::fabs(value), std::fabs(step));
  const int needed = static_cast<int>(std::floor(std::log10(magnitude)) -
                                      std::floor(std::log10(std::fabs(step)))) +
                     2;
  const int digits = std::clamp(needed, 6, 15);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits, value);
  std::string text = buffer;
  if (!text.empty() && text[0] == '-') text = "\u2212" + text.substr(1);
  return text;
}

}  // namespace cusbi::plot
