// Optimisation over one flat parameter buffer and one flat gradient buffer (see nn.hpp):
// Adam with torch.optim.Adam semantics, global-norm gradient clipping as
// torch.nn.utils.clip_grad_norm_, zero_grad. Reductions are deterministic on every device.
#pragma once
#include <cstdint>

#include "cusbi/tensor.hpp"

namespace cusbi {

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // L2 added to the gradient, as torch.optim.Adam (not AdamW)
};

class Adam {
 public:
  // params and grads: tensors of equal size on one device (flat views of a model's buffers),
  // separate memory; params is updated in place. The moment buffers are allocated here, once;
  // step() allocates nothing. Throws cusbi::Error for undefined tensors, different sizes or
  // devices, lr <= 0, betas outside [0, 1), eps < 0 or weight_decay < 0.
  // Adam keeps these handles: after moving the model to another device (ParameterSet::to),
  // build a new Adam (load_state can carry the moments over) — the old one would keep
  // updating the stale buffers.
  Adam(Tensor params, Tensor grads, double lr = 1e-3);
  Adam(Tensor params, Tensor grads, const AdamOptions& options);

  void zero_grad();
  // One update: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
  // p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)   (eps after the sqrt, as PyTorch).
  // Evaluated in float in the order of torch's _single_tensor_adam (kernels/adam.h): CPU and
  // CUDA give the same bits, PyTorch's CPU results agree to float rounding. A NaN/Inf gradient
  // is not caught: it propagates into the moments and parameters, as in PyTorch (the trainer
  // checks the loss and gradients for finiteness before stepping).
  void step();

  int64_t step_count() const { return step_; }
  const AdamOptions& options() const { return options_; }
  void set_lr(double lr);
  // First and second moments (flat, same device as params), e.g. to save and resume training.
  const Tensor& exp_avg() const { return m_; }
  const Tensor& exp_avg_sq() const { return v_; }
  // Copies the moments (any device, same number of elements) and the step count in.
  void load_state(const Tensor& exp_avg, const Tensor& exp_avg_sq, int64_t step_count);

 private:
  Tensor params_, grads_, m_, v_;
  AdamOptions options_;
  int64_t step_ = 0;
};

// Global L2 norm of `grads`: squares summed in double in a fixed order that depends only on
// the number of elements (kernels/reduce_norm.h), so repeated calls, any OpenMP thread count and
// CPU vs GPU all give the same bits. Rounded to float once, at the end (an overflow to +inf
// happens only if the true norm exceeds FLT_MAX). Synchronises with the GPU.
float grad_norm(const Tensor& grads);
// Scales grads by min(1, max_norm / (norm + 1e-6)) in place; returns the norm before clipping.
// The coefficient is computed in float32 as torch.nn.utils.clip_grad_norm_ does (on the GPU,
// without a host round trip before the scaling). max_norm must be > 0 (NaN is an error). As
// torch with error_if_nonfinite=False: a NaN norm turns every gradient into NaN, an infinite
// norm scales by 0 (finite entries become 0, infinite ones NaN). Check finiteness first if that
// is not wanted.
float clip_grad_norm(Tensor grads, double max_norm);
// The same clipping without reading the norm back: on a GPU nothing synchronises, so a training
// step can be queued while the previous one runs (the trainers use this). Same bits as
// clip_grad_norm.
void clip_grad_norm_on_device(Tensor grads, double max_norm);

}  // namespace cusbi
