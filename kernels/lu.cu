// CUDA side of the LU linear layer: building L\U, W and log|det| in one single-block kernel,
// the forward and input gradient one thread per element, the inverse one thread per row, and a
// backward whose batch reductions (dW, bias, sum of dlogdet) run in fixed row chunks and a fixed
// warp tree, so they are deterministic without atomics. D is small in flows (2-20), so W and
// L\U stay in L1 and no kernel needs shared memory sized by D: any D works.
#include "kernels/cuda_api.h"
#include "kernels/cuda_check.cuh"
#include "kernels/lu.h"

namespace cusbi::cuda {
namespace {

constexpr int kSmallBlock = 256;  // threads of the single-block kernels
constexpr int kWarp = 32;

// One block: the packed matrix first, then (after the barrier makes it visible to the whole
// block) W and log|det| from it.
__global__ void lu_prepare_kernel(int64_t d, const float* lower, const float* upper,
                                  const float* diag, float* lu, float* w, float* logabsdet) {
  const int64_t n = d * d;
  for (int64_t t = threadIdx.x; t < n; t += blockDim.x)
    lu[t] = kern::lu_packed_element(d, t / d, t % d, lower, upper, diag);
  __syncthreads();
  for (int64_t t = threadIdx.x; t < n; t += blockDim.x)
    w[t] = kern::lu_weight_element(d, t / d, t % d, lu);
  if (threadIdx.x == 0) *logabsdet = kern::lu_logabsdet(d, lu);
}

__global__ void lu_forward_kernel(int64_t rows, int64_t d, const float* __restrict__ w,
                                  const float* __restrict__ bias,
                                  const float* __restrict__ logabsdet, const float* __restrict__ x,
                                  float* __restrict__ y, float* __restrict__ logdet) {
  const int64_t n = rows * d;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < n;
       t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t b = t / d, j = t - b * d;
    y[t] = kern::lu_forward_element(d, j, w, bias, x + b * d);
    if (logdet != nullptr && j == 0) logdet[b] += *logabsdet;
  }
}

__global__ void lu_inverse_kernel(int64_t rows, int64_t d, const float* __restrict__ lu,
                                  const float* __restrict__ bias,
                                  const float* __restrict__ logabsdet, const float* y, float* x,
                                  float* __restrict__ logdet) {
  for (int64_t b = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; b < rows;
       b += int64_t(gridDim.x) * blockDim.x) {
    kern::lu_solve_row(d, lu, bias, y + b * d, x + b * d);
    if (logdet != nullptr) logdet[b] -= *logabsdet;
  }
}

__global__ void lu_input_grad_kernel(int64_t rows, int64_t d, const float* __restrict__ w,
                                     const float* __restrict__ dy, float* __restrict__ dx) {
  const int64_t n = rows * d;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < n;
       t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t b = t / d;
    dx[t] = kern::lu_input_grad_element(d, t - b * d, w, dy + b * d);
  }
}

// Block (x, y) sums columns [x * blockDim.x, ...) of kern::lu_grad_term over chunk y's rows, in
// row order, into partials (chunks, cols).
__global__ void lu_grad_partials_kernel(int64_t rows, int64_t d, int64_t chunk_rows,
                                        const float* __restrict__ x, const float* __restrict__ dy,
                                        const float* __restrict__ dlogdet,
                                        float* __restrict__ partials) {
  const int64_t cols = kern::lu_grad_cols(d);
  const int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (c >= cols) return;
  const int64_t r0 = blockIdx.y * chunk_rows;
  const int64_t r1 = r0 + chunk_rows < rows ? r0 + chunk_rows : rows;
  float s = 0.0f;
#pragma unroll 4
  for (int64_t b = r0; b < r1; ++b)
    s += kern::lu_grad_term(d, c, x + b * d, dy + b * d, dlogdet ? dlogdet + b : nullptr);
  partials[blockIdx.y * cols + c] = s;
}

// One block: each warp reduces whole columns over the chunk partials (lane l takes chunks l,
// l + 32, ..., then a fixed shuffle tree), bias columns go straight into the bias gradient and
// the others into `sums`; after the barrier the block turns dW and S = sum dlogdet into the
// entry gradients.
__global__ void lu_grad_finalize_kernel(int64_t d, int64_t chunks, const float* partials,
                                        const float* lu, const float* diag, float* sums,
                                        float* g_lower, float* g_upper, float* g_diag,
                                        float* g_bias) {
  const int64_t cols = kern::lu_grad_cols(d), dd = d * d;
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp, warps = blockDim.x / kWarp;
  for (int64_t c = warp; c < cols; c += warps) {
    float s = 0.0f;
    for (int64_t k = lane; k < chunks; k += kWarp) s += partials[k * cols + c];
    for (int offset = kWarp / 2; offset > 0; offset /= 2)
      s += __shfl_down_sync(0xffffffffu, s, offset);
    if (lane == 0) {
      if (c >= dd && c < dd + d)
        g_bias[c - dd] += s;
      else
        sums[c] = s;
    }
  }
  __syncthreads();
  const float dlogdet_sum = sums[cols - 1];
  for (int64_t t = threadIdx.x; t < dd; t += blockDim.x)
    kern::lu_accumulate_entry_grad(d, t / d, t % d, lu, sums, dlogdet_sum, diag, g_lower, g_upper,
                                   g_diag);
}

}  // namespace

void lu_prepare(int64_t d, const float* lower, const float* upper, const float* diag, float* lu,
                float* w, float* logabsdet) {
  lu_prepare_kernel<<<1, kSmallBlock, 0, stream()>>>(d, lower, upper, diag, lu, w, logabsdet);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void lu_forward(int64_t rows, int64_t d, const float* w, const float* bias, const float* logabsdet,
                const float* x, float* y, float* logdet) {
  if (rows == 0) return;
  lu_forward_kernel<<<grid_for(rows * d), kBlock, 0, stream()>>>(rows, d, w, bias, logabsdet, x, y,
                                                                 logdet);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void lu_inverse(int64_t rows, int64_t d, const float* lu, const float* bias, const float* logabsdet,
                const float* y, float* x, float* logdet) {
  if (rows == 0) return;
  lu_inverse_kernel<<<grid_for(rows), kBlock, 0, stream()>>>(rows, d, lu, bias, logabsdet, y, x,
                                                             logdet);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void lu_backward(int64_t rows, int64_t d, const float* lu, const float* w, const float* diag,
                 const float* x, const float* dy, const float* dlogdet, float* g_lower,
                 float* g_upper, float* g_diag, float* g_bias, float* dx, float* scratch) {
  if (rows == 0) return;
  const int64_t cols = kern::lu_grad_cols(d), chunks = kern::lu_grad_chunks(rows);
  float* partials = scratch;
  float* sums = scratch + chunks * cols;
  const int threads = cols < 128 ? int((cols + kWarp - 1) / kWarp * kWarp) : 128;
  const dim3 grid(static_cast<unsigned>((cols + threads - 1) / threads),
                  static_cast<unsigned>(chunks));
  lu_grad_partials_kernel<<<grid, threads, 0, stream()>>>(rows, d, kern::lu_grad_chunk_rows(rows),
                                                          x, dy, dlogdet, partials);
  CUSBI_CUDA_CHECK_LAUNCH();
  lu_grad_finalize_kernel<<<1, kSmallBlock, 0, stream()>>>(d, chunks, partials, lu, diag, sums,
                                                           g_lower, g_upper, g_diag, g_bias);
  CUSBI_CUDA_CHECK_LAUNCH();
  if (dx != nullptr) {
    lu_input_grad_kernel<<<grid_for(rows * d), kBlock, 0, stream()>>>(rows, d, w, dy, dx);
    CUSBI_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace cusbi::cuda
