// CUDA row gather behind take_rows (CPU twin: host/cpu/gather.cpp): the indices are an int64
// device buffer the caller owns, so a gather uploads, allocates and synchronises nothing; one
// grid-stride kernel over the output elements calls kernels/gather.h. Indices are not checked
// against the host (that would need a read-back): an out-of-range row comes out as NaN.
#include "kernels/cuda_api.h"
#include "kernels/cuda_check.cuh"
#include "kernels/gather.h"

namespace cusbi::cuda {

namespace {

__global__ void take_rows_kernel(const float* src, int64_t src_rows, int64_t width,
                                 const int64_t* rows, int64_t n, float* out) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n;
       e += int64_t(gridDim.x) * blockDim.x)
    out[e] = kern::gather_row_element(src, src_rows, width, rows, e);
}

}  // namespace

void take_rows(const float* src, int64_t src_rows, int64_t width, const int64_t* rows,
               int64_t num_rows, float* out) {
  const int64_t n = num_rows * width;
  if (n == 0) return;
  take_rows_kernel<<<grid_for(n), kBlock, 0, stream()>>>(src, src_rows, width, rows, n, out);
  CUSBI_CUDA_CHECK_LAUNCH();
}

}  // namespace cusbi::cuda
