// CUDA kernels of cumsum, transpose and bernoulli (tensor_ops.hpp); CPU twins in
// host/cpu/tensor_ops.cpp, shared math in kernels/tensor_ops.h. Grid-stride loops, 64-bit indices.
#include "kernels/cuda_api.h"
#include "kernels/cuda_check.cuh"
#include "kernels/tensor_ops.h"

namespace cusbi::cuda {

namespace {

// One thread per line: a sequential sum is what makes the bits equal to the CPU's.
__global__ void cumsum_kernel(const float* a, int64_t len, int64_t inner, float* out,
                              int64_t lines) {
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < lines;
       j += int64_t(gridDim.x) * blockDim.x) {
    const int64_t base = (j / inner) * len * inner + j % inner;
    kern::cumsum_strided(a + base, out + base, len, inner);
  }
}

// Thread i writes out[i] (coalesced writes); reads are strided, fine for the sizes simulators
// transpose (a tiled kernel would matter only for large matrices).
__global__ void transpose_kernel(const float* a, int64_t rows, int64_t cols, float* out,
                                 int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = i / rows, r = i - c * rows;
    out[i] = a[r * cols + c];
  }
}

__global__ void bernoulli_kernel(const float* p, float* out, int64_t n, uint64_t seed,
                                 uint64_t offset) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    out[i] = kern::bernoulli_draw(p[i], seed, offset + static_cast<uint64_t>(i));
}

}  // namespace

void cumsum_dim(const float* a, int64_t outer, int64_t len, int64_t inner, float* out) {
  const int64_t lines = outer * inner;
  if (lines == 0 || len == 0) return;
  cumsum_kernel<<<grid_for(lines), kBlock, 0, stream()>>>(a, len, inner, out, lines);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void transpose_2d(const float* a, int64_t rows, int64_t cols, float* out) {
  const int64_t n = rows * cols;
  if (n == 0) return;
  transpose_kernel<<<grid_for(n), kBlock, 0, stream()>>>(a, rows, cols, out, n);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void fill_bernoulli(const float* p, float* out, int64_t n, uint64_t seed, uint64_t offset) {
  if (n == 0) return;
  bernoulli_kernel<<<grid_for(n), kBlock, 0, stream()>>>(p, out, n, seed, offset);
  CUSBI_CUDA_CHECK_LAUNCH();
}

}  // namespace cusbi::cuda
