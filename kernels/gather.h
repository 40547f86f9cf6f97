// Row gather (take_rows), written once for the CPU loop (host/ops/take_rows.cpp) and the CUDA
// kernel (kernels/gather.cu): element e of the (num_rows, width) output is element e % width of
// source row rows[e / width]. Indices were checked on the host, so no bounds test here.
#pragma once
#include <cstdint>

#include "kernels/common.h"

namespace cusbi::kern {

CUSBI_HD float gather_row_element(const float* src, int64_t width, const int64_t* rows, int64_t e) {
  const int64_t i = e / width;
  return src[rows[i] * width + (e - i * width)];
}

}  // namespace cusbi::kern
