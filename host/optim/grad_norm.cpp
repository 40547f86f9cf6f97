// grad_norm / clip_grad_norm: argument checks and one device dispatch; the CPU twin of the CUDA
// norm is host/cpu/optim.cpp (same bits as the GPU's whatever the thread count).
#include "host/optim/grad_norm.hpp"

#include <algorithm>
#include <cmath>

#include "cusbi/error.hpp"
#include "cusbi/optim.hpp"
#include "host/cpu/optim.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace {

void check_grads(const Tensor& grads, const char* op) {
  CUSBI_CHECK(grads.defined(), op << ": the gradient tensor is undefined; pass the model's "
                                     "gradients() (a flat tensor)");
}

}  // namespace

namespace detail {
double sum_of_squares(const Tensor& x) {
  const Device device = x.device();
  if (device.is_cpu()) return cpu::sum_of_squares(x.data(), x.numel());
  cuda::set_device(device.index());
  return cuda::sum_of_squares(x.data(), x.numel());
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
  if (device.is_cpu()) return cpu::clip_grad_norm(grads.data(), n, max_norm_f, read_norm);
  cuda::set_device(device.index());
  return cuda::clip_grad_norm(grads.data(), n, max_norm_f, read_norm);
}

}  // namespace

float clip_grad_norm(Tensor grads, double max_norm) { return clip(grads, max_norm, true); }

void clip_grad_norm_on_device(Tensor grads, double max_norm) { clip(grads, max_norm, false); }

}  // namespace cusbi
