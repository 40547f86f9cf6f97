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
  // params and grads: flat tensors of equal size on one device; updated in place.
  Adam(Tensor params, Tensor grads, double lr = 1e-3);
  Adam(Tensor params, Tensor grads, const AdamOptions& options);

  void zero_grad();
  // One update: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
  // p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)   (eps after the sqrt, as PyTorch).
  void step();

  int64_t step_count() const { return step_; }
  const AdamOptions& options() const { return options_; }
  void set_lr(double lr);
  // First and second moments (flat, same device as params), e.g. to save and resume training.
  const Tensor& exp_avg() const { return m_; }
  const Tensor& exp_avg_sq() const { return v_; }
  void load_state(const Tensor& exp_avg, const Tensor& exp_avg_sq, int64_t step_count);

 private:
  Tensor params_, grads_, m_, v_;
  AdamOptions options_;
  int64_t step_ = 0;
};

// Global L2 norm of `grads` (deterministic order of summation).
float grad_norm(const Tensor& grads);
// Scales grads by min(1, max_norm / (norm + 1e-6)) in place; returns the norm before clipping.
float clip_grad_norm(Tensor grads, double max_norm);

}  // namespace cusbi
