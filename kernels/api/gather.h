// CUDA entry point of the row gather (take_rows in include/cusbi/tensor.hpp); its CPU twin of
// the same name and signature is in host/cpu/gather.hpp. CUDA-free: host/ includes it with g++.
// All pointers are device pointers on the current device, indices included: nothing is uploaded.
// Work is queued on the device's stream (cuda::stream()).
#pragma once
#include <cstdint>

namespace cusbi::cuda {

// out (num_rows, width) row i = src (src_rows, width) row rows[i]. Indices are not checked
// against the host (that would synchronise): a row whose index is outside [0, src_rows) is
// filled with NaN instead of reading outside src.
void take_rows(const float* src, int64_t src_rows, int64_t width, const int64_t* rows,
               int64_t num_rows, float* out);

}  // namespace cusbi::cuda
