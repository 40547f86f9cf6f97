// What every potential shares (private to host/potentials/): argument checks with one wording,
// grow-only workspaces, and the composition steps (support mask, sum over trials, chain rule),
// each a CPU loop or a CUDA kernel over kernels/distributions.h chosen by the data's device.
#pragma once
#include <cstdint>
#include <memory>

#include "cusbi/distributions.hpp"
#include "cusbi/potentials.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi::potentials {

// What the flow-based potentials hold and check alike: the shared flow, the prior copied onto
// its device, the stored observation, and the per-call checks (observation set, flow not moved,
// theta (M, dim()) and out (M,) on the device).
class FlowPotential : public Potential {
 public:
  FlowPotential(std::shared_ptr<NeuralSplineFlow> flow, const Distribution& prior,
                const char* where)
      : flow_(std::move(flow)), prior_(prior.to(flow_->device())), where_(where) {}
  Device device() const override { return flow_->device(); }
  const Tensor& x() const override { return x_; }

 protected:
  // Returns M; with paired observations (set_x_paired) M must be their count.
  int64_t check(const Tensor& theta, const Tensor& out) const;

  std::shared_ptr<NeuralSplineFlow> flow_;
  std::unique_ptr<Distribution> prior_;  // on the flow's device
  Tensor x_;                             // (n, C) once set
  bool paired_ = false;                  // x_ row i belongs to theta row i (set_x_paired)
  const char* where_;                    // "posterior potential", for messages
};

// theta (M, D) on `device`; returns M. where: "posterior potential".
int64_t check_theta(const Tensor& theta, int64_t dim, Device device, const char* where,
                    const char* what = "theta");
// out of `shape` on `device` (the caller's buffer).
void check_buffer(const Tensor& out, const Shape& shape, Device device, const char* where,
                  const char* what);
// The prior's event size must be the estimator's parameter count `dim`.
void check_prior(const Distribution& prior, int64_t dim, const char* where);
// x_o (C,) or (n, C), finite, width `width`: an owned (n, C) copy on `device`. Synchronises (once
// per observation, not per call).
Tensor observations(const Tensor& x_o, int64_t width, Device device, const char* where);

// A view of `shape` at the start of `buffer`, which is reallocated (flat, on `device`) only when
// too small: sized once at the largest batch, then reused without allocating.
Tensor workspace(Tensor& buffer, const Shape& shape, Device device);

// value (M,) <- mask ? sign * value : -inf; grad_out (M, D) <- mask ? sign * grad_in : 0 when
// grad_out is defined (grad_in may be grad_out). mask (M,) holds 0 / 1.
void support_select(const Tensor& mask, float sign, Tensor& value, const Tensor* grad_in,
                    Tensor* grad_out);
// out (M,) = sum over trials of log_likelihood (T, M) + prior (M,).
void sum_trials(const Tensor& log_likelihood, const Tensor& prior, Tensor& out);
// The gradient of an iid-trials potential: grad (M, D) = sign * sum over trials of pair_grad
// (T, M, D) + d log prior / d theta, then 0 on rows outside the prior's support (there the
// potential is the constant -inf, as torch.where in sbi's MAP). sign = -1 for pair gradients of
// -log q (NLE), +1 for logits (NRE). prior_gradient (M, D) and mask (M,) are the caller's
// grow-only buffers.
void trial_sum_gradient(const Tensor& pair_grad, float sign, const Distribution& prior,
                        const Tensor& theta, Tensor& grad, Tensor& prior_gradient, Tensor& mask);
// out = sign * (a * b + c) elementwise over a's elements; b and c may be null (1 and 0); out
// may be a.
void scaled_fma(const Tensor& a, const Tensor* b, const Tensor* c, float sign, Tensor& out);

}  // namespace cusbi::potentials
