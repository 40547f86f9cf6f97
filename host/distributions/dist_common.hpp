// Shared by the priors and ThetaTransform (private to host/distributions/): the argument checks
// every method runs on theta / z (device, last dimension), the CPU row loop, and number
// formatting for messages and describe().
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cusbi/tensor.hpp"

namespace cusbi::dist {

// Checks that x (..., dim) is defined, on `device` and has `dim` columns; returns its batch shape
// (the shape without the last dimension). where: "BoxUniform::log_prob"; what: "theta";
// owner: "the prior".
Shape check_rows(const Tensor& x, int64_t dim, Device device, const char* where, const char* what,
                 const char* owner);

// Checks that a caller's output buffer is defined, on `device` and of `shape` (named `what`,
// "out" by default), as every out= form requires.
void check_out(const Tensor& out, const Shape& shape, Device device, const char* where,
               const char* what = "out");

// Runs f(r) for every r in [0, rows), on OpenMP threads when rows * cost is large enough to pay
// for them. Each row is independent, so results do not depend on the thread count.
template <typename F>
void for_rows(int64_t rows, int64_t cost, F f) {
  constexpr int64_t kParallelMin = 1 << 14;  // smaller loops run faster on one thread
#pragma omp parallel for if (rows * cost >= kParallelMin)
  for (int64_t r = 0; r < rows; ++r) f(r);
}

// "[-3, 0.5]"; at most `max_items` values, then ", ...".
std::string format_values(const std::vector<float>& values, size_t max_items = 8);
// One number as the messages print it (6 significant digits, "-3" rather than "-3.000000").
std::string format_value(double value);

}  // namespace cusbi::dist
