// cusbi::Adam: argument checks, the moment buffers (allocated once, in the constructor) and the
// one device dispatch of a step (the CPU twin is host/cpu/optim.cpp). The per-element math is
// kernels/adam.h on both devices; the per-step scalars (bias corrections) are computed here in
// double, as PyTorch does in Python.
#include "kernels/adam.h"

#include <cmath>

#include "cusbi/error.hpp"
#include "cusbi/optim.hpp"
#include "host/cpu/optim.hpp"
#include "kernels/common.h"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace {

void check_lr(double lr) {
  CUSBI_CHECK(
      lr > 0.0 && std::isfinite(lr),
      "Adam: learning rate must be a positive finite number, got " << lr << " (sbi uses 5e-4)");
}

void check_options(const AdamOptions& o) {
  check_lr(o.lr);
  CUSBI_CHECK(o.beta1 >= 0.0 && o.beta1 < 1.0,
              "Adam: beta1 must be in [0, 1), got " << o.beta1 << " (the usual value is 0.9)");
  CUSBI_CHECK(o.beta2 >= 0.0 && o.beta2 < 1.0,
              "Adam: beta2 must be in [0, 1), got " << o.beta2 << " (the usual value is 0.999)");
  CUSBI_CHECK(o.eps >= 0.0 && std::isfinite(o.eps),
              "Adam: eps must be a finite number >= 0, got " << o.eps << " (the usual is 1e-8)");
  CUSBI_CHECK(o.weight_decay >= 0.0 && std::isfinite(o.weight_decay),
              "Adam: weight_decay must be a finite number >= 0, got " << o.weight_decay);
}

void check_buffers(const Tensor& params, const Tensor& grads) {
  CUSBI_CHECK(params.defined(),
              "Adam: the parameter tensor is undefined; pass the model's "
              "parameters() (a flat tensor)");
  CUSBI_CHECK(grads.defined(),
              "Adam: the gradient tensor is undefined; pass the model's "
              "gradients() (a flat tensor)");
  CUSBI_CHECK(params.numel() == grads.numel(),
              "Adam: parameters have " << params.numel() << " elements but gradients have "
                                       << grads.numel()
                                       << "; pass the parameters() and gradients() of one model");
  CUSBI_CHECK(params.device() == grads.device(), "Adam: parameters are on "
                                                     << params.device().str()
                                                     << " but gradients on " << grads.device().str()
                                                     << "; keep both on the model's device");
  CUSBI_CHECK(params.numel() == 0 || !params.shares_memory_with(grads),
              "Adam: parameters and gradients share memory; they must be separate buffers");
}

}  // namespace

Adam::Adam(Tensor params, Tensor grads, double lr) : Adam(params, grads, AdamOptions{.lr = lr}) {}

Adam::Adam(Tensor params, Tensor grads, const AdamOptions& options)
    : params_(params), grads_(grads), options_(options) {
  check_buffers(params_, grads_);
  check_options(options_);
  m_ = Tensor::zeros({params_.numel()}, params_.device());
  v_ = Tensor::zeros({params_.numel()}, params_.device());
}

void Adam::zero_grad() { grads_.zero_(); }

void Adam::set_lr(double lr) {
  check_lr(lr);
  options_.lr = lr;
}

void Adam::step() {
  const int64_t t = step_ + 1;
  const auto s = kern::adam_scalars<float>(options_.lr, options_.beta1, options_.beta2,
                                           options_.eps, options_.weight_decay, t);
  const int64_t n = params_.numel();
  const Device device = params_.device();
  if (device.is_cpu()) {
    cpu::adam_step(params_.data(), grads_.data(), m_.data(), v_.data(), n, s);
  } else {
    cuda::set_device(device.index());
    cuda::adam_step(params_.data(), grads_.data(), m_.data(), v_.data(), n, s);
  }
  step_ = t;
}

void Adam::load_state(const Tensor& exp_avg, const Tensor& exp_avg_sq, int64_t step_count) {
  CUSBI_CHECK(exp_avg.defined() && exp_avg_sq.defined(),
              "Adam::load_state: exp_avg and exp_avg_sq must be defined tensors");
  CUSBI_CHECK(exp_avg.numel() == m_.numel() && exp_avg_sq.numel() == v_.numel(),
              "Adam::load_state: the optimiser has "
                  << m_.numel() << " parameters but the state has " << exp_avg.numel()
                  << " (exp_avg) and " << exp_avg_sq.numel()
                  << " (exp_avg_sq); load the state saved "
                     "with this model");
  CUSBI_CHECK(step_count >= 0, "Adam::load_state: step count must be >= 0, got " << step_count);
  // copy_ moves data across devices, so a state saved from a GPU run loads on the CPU too.
  m_.copy_(exp_avg);
  v_.copy_(exp_avg_sq);
  step_ = step_count;
}

}  // namespace cusbi
