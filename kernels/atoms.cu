// NRE's atoms on the device (kernels/api/atoms.h): one thread per row of contrasting indices
// (kern::contrasting_row, counter-based, so the CPU twin draws the same numbers), and a plain
// copy kernel for sbi's repeat_rows of x.
#include <algorithm>

#include "kernels/api/atoms.h"
#include "kernels/atoms.h"
#include "kernels/cuda_check.cuh"

namespace cusbi::cuda {

namespace {

constexpr int kAtomThreads = 128;

__global__ void contrasting_kernel(int64_t batch, int64_t atoms, uint64_t seed, uint64_t offset,
                                   int64_t* out) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (i < batch) kern::contrasting_row(i, batch, atoms, seed, offset, out + i * atoms);
}

__global__ void repeat_rows_kernel(const float* x, int64_t rows, int64_t cols, int64_t times,
                                   float* out) {
  const int64_t n = rows * times * cols;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = e / cols, c = e % cols;
    out[e] = x[(r / times) * cols + c];
  }
}

}  // namespace

void contrasting_indices(int64_t batch, int64_t atoms, uint64_t seed, uint64_t offset,
                         int64_t* out) {
  if (batch == 0) return;
  const int64_t blocks = kern::ceil_div(batch, kAtomThreads);
  contrasting_kernel<<<static_cast<unsigned>(blocks), kAtomThreads, 0, stream()>>>(
      batch, atoms, seed, offset, out);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void repeat_rows(const float* x, int64_t rows, int64_t cols, int64_t times, float* out) {
  const int64_t n = rows * times * cols;
  if (n == 0) return;
  const int64_t blocks = std::min<int64_t>(kern::ceil_div(n, 256), 4096);
  repeat_rows_kernel<<<static_cast<unsigned>(blocks), 256, 0, stream()>>>(x, rows, cols, times,
                                                                          out);
  CUSBI_CUDA_CHECK_LAUNCH();
}

}  // namespace cusbi::cuda
