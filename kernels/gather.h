// Row gather (take_rows), written once for the CPU loop (host/cpu/gather.cpp) and the CUDA
// kernel (kernels/gather.cu): element e of the (num_rows, width) output is element e % width of
// source row rows[e / width]. The CPU checks indices before its loop; the GPU does not (a check
// would need a synchronising read-back), so an index outside [0, src_rows) yields NaN here
// rather than a read outside src.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/common.h"

namespace cusbi::kern {

CUSBI_HD float gather_row_element(const float* src, int64_t src_rows, int64_t width,
                                  const int64_t* rows, int64_t e) {
  const int64_t i = e / width;
  const int64_t r = rows[i];
  if (r < 0 || r >= src_rows) return NAN;
  return src[r * width + (e - i * width)];
}

}  // namespace cusbi::kern
