// Shared by the priors and ThetaTransform (private to host/distributions/): the argument checks
// every method runs on theta / z (device, last dimension) and number formatting for messages and
// describe(). Their CPU loops live in host/cpu/distributions.
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

// "[-3, 0.5]"; at most `max_items` values, then ", ...".
std::string format_values(const std::vector<float>& values, size_t max_items = 8);
// One number as the messages print it (6 significant digits, "-3" rather than "-3.000000").
std::string format_value(double value);

}  // namespace cusbi::dist
