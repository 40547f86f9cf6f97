// LayerNorm on the device (kernels/api/layer_norm.h): one warp per row, each lane striding over
// the columns, row sums by a butterfly of warp shuffles. Addition commutes exactly, so every lane
// ends with the same bits and the result does not depend on scheduling (no atomics). Column sums
// for gamma's and beta's gradients are left to the caller's deterministic colsum.
#include <climits>

#include "kernels/api/layer_norm.h"
#include "kernels/cuda_check.cuh"
#include "kernels/layer_norm.h"

namespace cusbi::cuda {

namespace {

constexpr int kWarp = 32;
constexpr int kRowsPerBlock = 8;
constexpr int kThreads = kWarp * kRowsPerBlock;

__device__ __forceinline__ float warp_sum(float v) {
  for (int m = kWarp / 2; m > 0; m /= 2) v += __shfl_xor_sync(0xffffffffu, v, m);
  return v;
}

// A whole warp leaves together when its row is past the end, so the shuffles stay full-warp.
__global__ void __launch_bounds__(kThreads)
    layer_norm_forward_kernel(int64_t rows, int64_t cols, const float* x, const float* gamma,
                              const float* beta, float eps, float* y, float* mean, float* rstd) {
  const int64_t row = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (row >= rows) return;
  const float* xr = x + row * cols;
  float s = 0.0f;
  for (int64_t j = lane; j < cols; j += kWarp) s += xr[j];
  const float mu = warp_sum(s) / float(cols);
  float q = 0.0f;
  for (int64_t j = lane; j < cols; j += kWarp) {
    const float d = xr[j] - mu;
    q += d * d;
  }
  const float r = kern::layer_norm_rstd(warp_sum(q), cols, eps);
  float* yr = y + row * cols;
  for (int64_t j = lane; j < cols; j += kWarp)
    yr[j] = kern::layer_norm_element(xr[j], mu, r, gamma[j], beta[j]);
  if (lane == 0) {
    mean[row] = mu;
    rstd[row] = r;
  }
}

__global__ void __launch_bounds__(kThreads)
    layer_norm_backward_kernel(int64_t rows, int64_t cols, const float* dy, const float* x,
                               const float* mean, const float* rstd, const float* gamma, float* dx,
                               float* dyxhat) {
  const int64_t row = int64_t(blockIdx.x) * kRowsPerBlock + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (row >= rows) return;
  const float mu = mean[row], r = rstd[row];
  const float* xr = x + row * cols;
  const float* dyr = dy + row * cols;
  float sg = 0.0f, sgx = 0.0f;
  for (int64_t j = lane; j < cols; j += kWarp) {
    const float g = dyr[j] * gamma[j];
    sg += g;
    sgx += g * ((xr[j] - mu) * r);
  }
  const float mean_g = warp_sum(sg) / float(cols), mean_gx = warp_sum(sgx) / float(cols);
  float* dxr = dx + row * cols;
  float* tr = dyxhat + row * cols;
  for (int64_t j = lane; j < cols; j += kWarp) {
    const float xhat = (xr[j] - mu) * r;
    dxr[j] = kern::layer_norm_grad_element(dyr[j] * gamma[j], xhat, r, mean_g, mean_gx);
    tr[j] = dyr[j] * xhat;
  }
}

unsigned row_blocks(int64_t rows) {
  const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  CUSBI_CHECK(blocks <= INT_MAX, "LayerNorm over " << rows
                                                   << " rows exceeds CUDA's grid; split "
                                                      "the batch");
  return static_cast<unsigned>(blocks);
}

}  // namespace

void layer_norm_forward(int64_t rows, int64_t cols, const float* x, const float* gamma,
                        const float* beta, float eps, float* y, float* mean, float* rstd) {
  if (rows == 0 || cols == 0) return;
  layer_norm_forward_kernel<<<row_blocks(rows), kThreads, 0, stream()>>>(rows, cols, x, gamma, beta,
                                                                         eps, y, mean, rstd);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void layer_norm_backward(int64_t rows, int64_t cols, const float* dy, const float* x,
                         const float* mean, const float* rstd, const float* gamma, float* dx,
                         float* dyxhat) {
  if (rows == 0 || cols == 0) return;
  layer_norm_backward_kernel<<<row_blocks(rows), kThreads, 0, stream()>>>(rows, cols, dy, x, mean,
                                                                          rstd, gamma, dx, dyxhat);
  CUSBI_CUDA_CHECK_LAUNCH();
}

}  // namespace cusbi::cuda
