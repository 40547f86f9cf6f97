// The C2ST classifier's loss on the device (kernels/api/c2st.h): one block of kLossLanes threads;
// thread t handles elements t, t + kLossLanes, ... (kernels/c2st.h) and sums in double; the block
// combines the lanes in kern::nre_lane_tree's halving order, as the CPU twin (host/cpu/c2st.cpp)
// does. Batches are at most a few hundred rows and the weights ~1e4-1e5, so one block suffices.
#include "kernels/api/c2st.h"
#include "kernels/c2st.h"
#include "kernels/cuda_check.cuh"

namespace cusbi::cuda {

namespace {

using kern::kLossLanes;

// Tree over the block's lanes in kern::nre_lane_tree's order; thread 0 gets the total.
__device__ double lane_total(double v, double* shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int s = kLossLanes / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) shared[threadIdx.x] += shared[threadIdx.x + s];
    __syncthreads();
  }
  return shared[0];
}

__global__ void __launch_bounds__(kLossLanes)
    c2st_bce_loss_kernel(const float* logits, const float* labels, int64_t batch, float grad_scale,
                         double loss_scale, float* grad, double* acc) {
  __shared__ double shared[kLossLanes];
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < batch; i += kLossLanes)
    sum += static_cast<double>(kern::c2st_bce_row(logits[i], labels[i], grad_scale, grad + i));
  const double total = lane_total(sum, shared);
  if (threadIdx.x == 0) *acc += loss_scale * total;
}

__global__ void __launch_bounds__(kLossLanes)
    c2st_l2_penalty_kernel(const float* weights, int64_t count, float grad_coef, double loss_scale,
                           float* grad, double* acc) {
  __shared__ double shared[kLossLanes];
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += kLossLanes)
    sum += static_cast<double>(kern::c2st_l2_element(weights[i], grad_coef, grad + i));
  const double total = lane_total(sum, shared);
  if (threadIdx.x == 0) *acc += loss_scale * total;
}

}  // namespace

void c2st_bce_loss(const float* logits, const float* labels, int64_t batch, float grad_scale,
                   double loss_scale, float* grad, double* acc) {
  c2st_bce_loss_kernel<<<1, kLossLanes, 0, stream()>>>(logits, labels, batch, grad_scale,
                                                       loss_scale, grad, acc);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void c2st_l2_penalty(const float* weights, int64_t count, float grad_coef, double loss_scale,
                     float* grad, double* acc) {
  c2st_l2_penalty_kernel<<<1, kLossLanes, 0, stream()>>>(weights, count, grad_coef, loss_scale,
                                                         grad, acc);
  CUSBI_CUDA_CHECK_LAUNCH();
}

}  // namespace cusbi::cuda
