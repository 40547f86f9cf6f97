// CPU twin of the row gather's CUDA entry point (kernels/api/gather.h): same name and signature
// in cusbi::cpu, a loop over the same kernels/gather.h element.
#pragma once
#include <cstdint>

namespace cusbi::cpu {

// out (num_rows, width) row i = src (src_rows, width) row rows[i]. Unlike the GPU, every index is
// checked first: one outside [0, src_rows) throws cusbi::Error naming it and its position.
void take_rows(const float* src, int64_t src_rows, int64_t width, const int64_t* rows,
               int64_t num_rows, float* out);

}  // namespace cusbi::cpu
