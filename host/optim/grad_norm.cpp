// grad_norm / clip_grad_norm: argument checks, device dispatch and the CPU twin of the CUDA norm.
// The CPU follows the layout of kernels/reduce_norm.h step for step (lanes, chunks, halving
// trees), so its result is the same bits as the GPU's whatever the OpenMP thread count.
#include "host/optim/grad_norm.hpp"

#include <algorithm>
#include <cmath>

#include "cusbi/error.hpp"
#include "cusbi/optim.hpp"
#include "host/exec/thread_pool.hpp"
#include "kernels/cuda_api.h"
#include "kernels/reduce_norm.h"

namespace cusbi {

namespace {

using kern::kNormChunk;
using kern::kNormLanes;

// Sum of squares of one chunk (what one CUDA block computes): lane t takes elements
// t, t + kLanes, ... of the chunk in order, then the lanes meet in the tree.
double chunk_sumsq(const float* x, int64_t n, int64_t chunk) {
  double lanes[kNormLanes] = {};
  const int64_t begin = chunk * kNormChunk;
  const int64_t end = std::min(n, begin + kNormChunk);
  for (int64_t row = begin; row < end; row += kNormLanes) {
    const int64_t width = std::min<int64_t>(kNormLanes, end - row);
    for (int64_t t = 0; t < width; ++t) lanes[t] = kern::add_square(lanes[t], x[row + t]);
  }
  return kern::tree_sum_lanes(lanes);
}

// The combine pass: lane t sums chunks t, t + kLanes, ... in order. Lanes are independent, so
// the pool's threads (host/exec/thread_pool.hpp) may take them in any order without changing
// any sum; no partials are stored.
double sumsq_cpu(const float* x, int64_t n) {
  const int64_t num_chunks = n == 0 ? 1 : kern::ceil_div(n, kNormChunk);
  double lanes[kNormLanes] = {};
  const int active = static_cast<int>(std::min<int64_t>(kNormLanes, num_chunks));
  exec::parallel_for(active, num_chunks >= 8, [&](int64_t t) {
    double acc = 0.0;
    for (int64_t c = t; c < num_chunks; c += kNormLanes) acc += chunk_sumsq(x, n, c);
    lanes[t] = acc;
  });
  return kern::tree_sum_lanes(lanes);
}

// Loops shorter than this run on one thread: waking threads costs more than they save.
constexpr int64_t kParallelMin = 1 << 15;

void scale_cpu(float* x, int64_t n, float coef) {
  if (coef == 1.0f) return;  // x * 1 == x bit for bit
  constexpr int64_t kChunk = 1 << 13;
  exec::parallel_for(kern::ceil_div(n, kChunk), n >= kParallelMin, [&](int64_t c) {
    const int64_t end = std::min(n, (c + 1) * kChunk);
#pragma omp simd
    for (int64_t i = c * kChunk; i < end; ++i) x[i] *= coef;
  });
}

void check_grads(const Tensor& grads, const char* op) {
  CUSBI_CHECK(grads.defined(), op << ": the gradient tensor is undefined; pass the model's "
                                     "gradients() (a flat tensor)");
}

}  // namespace

namespace detail {
double sum_of_squares(const Tensor& x) {
  const Device device = x.device();
  switch (device.type()) {
    case DeviceType::CPU:
      break;
    case DeviceType::CUDA:
      cuda::set_device(device.index());
      return cuda::sum_of_squares(x.data(), x.numel());
  }
  return sumsq_cpu(x.data(), x.numel());
}
}  // namespace detail

float grad_norm(const Tensor& grads) {
  check_grads(grads, "grad_norm");
  // sqrt and the float conversion are correctly rounded on both devices, as in the CUDA combine
  // kernel that computes the same value for clipping.
  return static_cast<float>(std::sqrt(detail::sum_of_squares(grads)));
}

namespace {

float clip(Tensor& grads, double max_norm, bool read_norm) {
  check_grads(grads, "clip_grad_norm");
  CUSBI_CHECK(max_norm > 0.0,
              "clip_grad_norm: max_norm must be > 0, got " << max_norm << " (sbi clips at 5.0)");
  // torch converts max_norm to the gradient dtype (float32) before the multiply.
  const float max_norm_f = static_cast<float>(max_norm);
  const int64_t n = grads.numel();
  const Device device = grads.device();
  switch (device.type()) {
    case DeviceType::CPU:
      break;
    case DeviceType::CUDA:
      cuda::set_device(device.index());
      return cuda::clip_grad_norm(grads.data(), n, max_norm_f, read_norm);
  }
  const float norm = static_cast<float>(std::sqrt(sumsq_cpu(grads.data(), n)));
  scale_cpu(grads.data(), n, kern::clip_coefficient(norm, max_norm_f));
  return norm;
}

}  // namespace

float clip_grad_norm(Tensor grads, double max_norm) { return clip(grads, max_norm, true); }

void clip_grad_norm_on_device(Tensor grads, double max_norm) { clip(grads, max_norm, false); }

}  // namespace cusbi
