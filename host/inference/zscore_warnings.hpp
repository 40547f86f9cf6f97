// sbi's warn_if_invalid_for_zscoring for the trainers' data intake (see the .cpp).
#pragma once
#include <string>

#include "cusbi/tensor.hpp"

namespace cusbi::detail {

// x: (N, C) on any device. Warns (cusbi::warn, prefixed by `who`) about a single row, constant
// columns, or extreme outliers (beyond 10 IQR of the quartiles).
void warn_if_invalid_for_zscoring(const Tensor& x, const std::string& who);

}  // namespace cusbi::detail
