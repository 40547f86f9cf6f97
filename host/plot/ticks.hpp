// Internal: axis ticks in the spirit of matplotlib's MaxNLocator (round steps 1, 2, 2.5, 5 x 10^k,
// plus 4 x 10^k so that a narrow panel still gets two labelled ticks) and their labels in "%g"
// style with a true minus sign, as sbi's tick formatter prints them.
#pragma once
#include <string>
#include <vector>

#include "host/plot/scene.hpp"

namespace cusbi::plot {

// Tick values inside [range.low, range.high]: multiples of the smallest round step that puts at
// most max_ticks (>= 1) of them inside the range.
std::vector<double> nice_ticks(Range range, int max_ticks);
// The pieces of nice_ticks: its step (range.high > range.low), the next larger round step, and
// the multiples of a step inside the range.
double nice_step(Range range, int max_ticks);
double next_nice_step(double step);
std::vector<double> ticks_at(Range range, double step);

// "%g" of the value rounded to the step's precision ("0.3", not "0.30000000000000004"; "0", not
// "-0"), with U+2212 for the minus sign.
std::string tick_label(double value, double step);

}  // namespace cusbi::plot
