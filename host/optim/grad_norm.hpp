// Internal: the double sum of squares behind grad_norm, exposed so tests can check that its bits
// (not only the float norm, which hides most ordering differences) are independent of the
// OpenMP thread count and identical on CPU and GPU.
#pragma once
#include "cusbi/tensor.hpp"

namespace cusbi::detail {
// Sum of x[i]^2 in double, in the fixed layout of kernels/reduce_norm.h.
double sum_of_squares(const Tensor& x);
}  // namespace cusbi::detail
