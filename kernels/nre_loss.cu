// NRE's fused losses on the device (kernels/api/nre_loss.h): one block of kLossLanes threads;
// thread t handles rows t, t + kLossLanes, ... (row loss + gradient, kernels/nre_loss.h) and
// sums its row losses in double; the block then combines the lanes in the halving tree of
// kern::nre_lane_tree. The order depends on the batch size only: the same bits on every call,
// and the CPU twin (host/cpu/nre_loss.cpp) adds in the same order. Batches of NRE training are a
// few hundred rows of K logits, so one block is enough.
#include "kernels/api/nre_loss.h"
#include "kernels/cuda_check.cuh"
#include "kernels/nre_loss.h"

namespace cusbi::cuda {

namespace {

using kern::kLossLanes;

// Tree over the block's lanes, in kern::nre_lane_tree's order; every thread gets the total.
__device__ double lane_tree(double v, double* shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int s = kLossLanes / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) shared[threadIdx.x] += shared[threadIdx.x + s];
    __syncthreads();
  }
  const double total = shared[0];
  __syncthreads();
  return total;
}

__global__ void __launch_bounds__(kLossLanes)
    nre_b_loss_kernel(const float* logits, int64_t batch, int64_t atoms, float* loss, float* grad) {
  __shared__ double shared[kLossLanes];
  const float scale = 1.0f / static_cast<float>(batch);
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < batch; i += kLossLanes)
    acc += static_cast<double>(kern::nre_b_row(logits + i * atoms, atoms, scale, grad + i * atoms));
  const double total = lane_tree(acc, shared);
  if (threadIdx.x == 0) *loss = static_cast<float>(total / static_cast<double>(batch));
}

__global__ void __launch_bounds__(kLossLanes)
    bnre_loss_kernel(const float* logits, int64_t batch, float lambda, float* loss, float* grad) {
  __shared__ double shared[kLossLanes];
  double bce = 0.0, balance = 0.0;
  for (int64_t i = threadIdx.x; i < batch; i += kLossLanes)
    kern::nre_a_pair(logits + 2 * i, &bce, &balance);
  const double b = static_cast<double>(batch);
  const double bce_total = lane_tree(bce, shared);
  const double r = lane_tree(balance, shared) / b;
  if (threadIdx.x == 0)
    *loss = static_cast<float>(bce_total / (2.0 * b) + static_cast<double>(lambda) * r * r);
  const float bce_scale = static_cast<float>(0.5 / b);
  const float balance_scale = static_cast<float>(2.0 * lambda * r / b);
  for (int64_t i = threadIdx.x; i < batch; i += kLossLanes)
    kern::nre_a_pair_grad(logits + 2 * i, bce_scale, balance_scale, grad + 2 * i);
}

__global__ void __launch_bounds__(kLossLanes)
    nre_c_loss_kernel(const float* marginal, const float* joint, int64_t batch, int64_t classes,
                      float gamma, float* loss, float* grad_marginal, float* grad_joint) {
  __shared__ double shared[kLossLanes];
  const auto c = kern::nre_c_consts<float>(classes, static_cast<double>(gamma));
  const float scale = 1.0f / static_cast<float>(batch);
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < batch; i += kLossLanes)
    acc += static_cast<double>(kern::nre_c_row(marginal + i * (classes + 1), joint + i * classes,
                                               classes, c, scale, grad_marginal + i * (classes + 1),
                                               grad_joint + i * classes));
  const double total = lane_tree(acc, shared);
  if (threadIdx.x == 0) *loss = static_cast<float>(total / static_cast<double>(batch));
}

}  // namespace

void nre_b_loss(const float* logits, int64_t batch, int64_t atoms, float* loss, float* grad) {
  nre_b_loss_kernel<<<1, kLossLanes, 0, stream()>>>(logits, batch, atoms, loss, grad);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void bnre_loss(const float* logits, int64_t batch, float lambda, float* loss, float* grad) {
  bnre_loss_kernel<<<1, kLossLanes, 0, stream()>>>(logits, batch, lambda, loss, grad);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void nre_c_loss(const float* marginal, const float* joint, int64_t batch, int64_t classes,
                float gamma, float* loss, float* grad_marginal, float* grad_joint) {
  nre_c_loss_kernel<<<1, kLossLanes, 0, stream()>>>(marginal, joint, batch, classes, gamma, loss,
                                                    grad_marginal, grad_joint);
  CUSBI_CUDA_CHECK_LAUNCH();
}

}  // namespace cusbi::cuda
