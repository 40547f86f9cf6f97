// CPU twin of kernels/gather.cu: indices are checked in one serial pass (so the error names the
// first bad one), then the gather runs over kernels/gather.h, the element the CUDA kernel computes.
#include "host/cpu/gather.hpp"

#include "cusbi/error.hpp"
#include "host/exec/thread_pool.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/gather.h"

namespace cusbi::cpu {

void take_rows(const float* src, int64_t src_rows, int64_t width, const int64_t* rows,
               int64_t num_rows, float* out) {
  for (int64_t i = 0; i < num_rows; ++i)
    CUSBI_CHECK(0 <= rows[i] && rows[i] < src_rows,
                "take_rows: index " << rows[i] << " (position " << i
                                    << ") is not a row of src; indices must lie in [0, " << src_rows
                                    << ")");
  const int64_t n = num_rows * width;
  exec::parallel_range(n, n >= ops::kParallelMin, [&](int64_t begin, int64_t end) {
    for (int64_t e = begin; e < end; ++e)
      out[e] = kern::gather_row_element(src, src_rows, width, rows, e);
  });
}

}  // namespace cusbi::cpu
