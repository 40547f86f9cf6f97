// Checks, workspaces and composition steps shared by the potentials. The steps dispatch on the
// device once, to the CPU twin (host/cpu/distributions) or the CUDA entry point, both over the
// per-row / per-element math of kernels/distributions.h, so CPU and GPU compose a potential alike.
#include "host/potentials/potential_support.hpp"

#include "cusbi/error.hpp"
#include "host/cpu/distributions.hpp"
#include "host/distributions/dist_common.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi::potentials {

int64_t FlowPotential::check(const Tensor& theta, const Tensor& out) const {
  CUSBI_CHECK(x_.defined(), where_ << ": no observation; call set_x(x_o) first");
  CUSBI_CHECK(flow_->device() == prior_->device(),
              where_ << ": the flow moved to " << flow_->device().str()
                     << " after the potential was built on " << prior_->device().str()
                     << "; build the potential again");
  const int64_t m = check_theta(theta, dim(), device(), where_);
  check_buffer(out, {m}, device(), where_, "out");
  CUSBI_CHECK(!paired_ || m == x_.size(0),
              where_ << ": " << m << " theta rows for " << x_.size(0)
                     << " paired observations (set_x_paired); pass one theta per observation");
  return m;
}

int64_t check_theta(const Tensor& theta, int64_t dim, Device device, const char* where,
                    const char* what) {
  dist::check_rows(theta, dim, device, where, what, "the potential");
  CUSBI_CHECK(theta.dim() == 2, where << ": " << what << " has shape " << shape_str(theta.shape())
                                      << "; pass a batch of shape (M, " << dim << ") (reshape({1, "
                                      << dim << "}) for one point)");
  return theta.size(0);
}

void check_buffer(const Tensor& out, const Shape& shape, Device device, const char* where,
                  const char* what) {
  dist::check_out(out, shape, device, where, what);
}

void check_prior(const Distribution& prior, int64_t dim, const char* where) {
  CUSBI_CHECK(prior.event_size() == dim,
              where << ": the prior has " << prior.event_size()
                    << " dimensions but the estimator's parameters have " << dim
                    << "; pass the prior the estimator was trained with");
}

Tensor observations(const Tensor& x_o, int64_t width, Device device, const char* where) {
  CUSBI_CHECK(x_o.defined(), where << ": x_o is undefined; pass an observation of shape (C,) or "
                                      "(n, C) with C = "
                                   << width);
  CUSBI_CHECK((x_o.dim() == 1 || x_o.dim() == 2) && x_o.size(-1) == width && x_o.numel() > 0,
              where << ": x_o has shape " << shape_str(x_o.shape()) << " but the estimator takes "
                    << width << (width == 1 ? " feature" : " features")
                    << " per observation; pass (" << width << ",) or (n, " << width << ")");
  CUSBI_CHECK(all_finite(x_o), where << ": x_o holds NaN or inf; pass a finite observation");
  const Tensor rows = x_o.reshape({-1, width});
  return rows.device() == device ? rows.clone() : rows.to(device);
}

Tensor workspace(Tensor& buffer, const Shape& shape, Device device) {
  int64_t n = 1;
  for (const int64_t s : shape) n *= s;
  if (!buffer.defined() || buffer.numel() < n || buffer.device() != device)
    buffer = Tensor::empty({n}, device);
  return buffer.slice_rows(0, n).reshape(shape);
}

void support_select(const Tensor& mask, float sign, Tensor& value, const Tensor* grad_in,
                    Tensor* grad_out) {
  const int64_t rows = value.numel();
  if (rows == 0) return;
  const int64_t dim = grad_out ? grad_out->numel() / rows : 0;
  const float* m = mask.data();
  float* v = value.data();
  const float* gi = grad_out ? grad_in->data() : nullptr;
  float* go = grad_out ? grad_out->data() : nullptr;
  if (ops::runs_on_cpu(value.device()))
    cpu::support_select(m, rows, dim, sign, v, gi, go);
  else
    cuda::support_select(m, rows, dim, sign, v, gi, go);
}

void sum_trials(const Tensor& log_likelihood, const Tensor& prior, Tensor& out) {
  const int64_t trials = log_likelihood.size(0), cols = log_likelihood.size(1);
  if (cols == 0) return;
  const float *ll = log_likelihood.data(), *p = prior.data();
  float* o = out.data();
  if (ops::runs_on_cpu(out.device()))
    cpu::sum_trials(ll, trials, cols, p, o);
  else
    cuda::sum_trials(ll, trials, cols, p, o);
}

void scaled_fma(const Tensor& a, const Tensor* b, const Tensor* c, float sign, Tensor& out) {
  const int64_t n = a.numel();
  if (n == 0) return;
  const float *ap = a.data(), *bp = b ? b->data() : nullptr, *cp = c ? c->data() : nullptr;
  float* o = out.data();
  if (ops::runs_on_cpu(out.device()))
    cpu::scaled_fma(ap, bp, cp, sign, n, o);
  else
    cuda::scaled_fma(ap, bp, cp, sign, n, o);
}

void trial_sum_gradient(const Tensor& pair_grad, float sign, const Distribution& prior,
                        const Tensor& theta, Tensor& grad, Tensor& prior_gradient, Tensor& mask) {
  const int64_t m = theta.size(0), d = theta.size(1), trials = pair_grad.numel() / (m * d);
  Tensor flat_grad = grad.reshape({m * d});
  sum(pair_grad.reshape({trials, m * d}), 0, flat_grad);  // fixed-order sum over trials
  Tensor prior_grad = workspace(prior_gradient, {m, d}, theta.device());
  prior.log_prob_gradient(theta, prior_grad);
  if (sign < 0)
    sub(prior_grad, grad, grad);
  else
    add(grad, prior_grad, grad);
  Tensor support = workspace(mask, {m}, theta.device());
  prior.support_mask(theta, support);
  where(support.reshape({m, 1}), grad, 0.0f, grad);
}

}  // namespace cusbi::potentials
