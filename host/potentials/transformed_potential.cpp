// Potential's allocating call and TransformedPotential (sbi's transformed_potential): theta =
// T^-1(z) into a workspace, the wrapped potential there, then one fused pass each for the value
// (+ log|det|, sign) and for the gradient (chain rule through the diagonal Jacobian, + the
// log|det| gradient, sign). Workspaces grow to the largest batch and are reused.
#include "cusbi/error.hpp"
#include "cusbi/potentials.hpp"
#include "host/potentials/potential_support.hpp"

namespace cusbi {

Tensor Potential::operator()(const Tensor& theta) {
  CUSBI_CHECK(theta.defined(), "potential: theta is undefined; pass (M, " << dim() << ")");
  const Tensor rows = theta.dim() == 1 ? theta.reshape({1, -1}) : theta;
  Tensor out = Tensor::empty({rows.dim() == 2 ? rows.size(0) : 0}, device());
  evaluate(rows, out);
  return out;
}

void Potential::set_x_paired(const Tensor&) {
  CUSBI_FAIL(
      "this potential cannot pair observations with parameter rows (sbi's "
      "x_is_iid=False), which batched sampling needs; sample each observation with "
      "sample() instead");
}

TransformedPotential::TransformedPotential(std::shared_ptr<Potential> potential,
                                           ThetaTransform transform, bool include_log_abs_det,
                                           bool negate)
    : potential_(std::move(potential)),
      transform_(std::move(transform)),
      include_log_abs_det_(include_log_abs_det),
      negate_(negate) {
  CUSBI_CHECK(potential_ != nullptr, "TransformedPotential: the potential is null");
  transform_.to(potential_->device());
}

// theta = T^-1(z) in the workspace, or z itself under the identity (no copy).
Tensor TransformedPotential::theta_of(const Tensor& z) {
  if (transform_.is_identity()) return z;
  Tensor theta = potentials::workspace(theta_, z.shape(), device());
  transform_.inverse(z, theta);
  return theta;
}

void TransformedPotential::evaluate(const Tensor& z, Tensor& out) {
  const char* where = "transformed potential";
  const int64_t m = potentials::check_theta(z, dim(), device(), where, "z");
  potentials::check_buffer(out, {m}, device(), where, "out");
  potential_->evaluate(theta_of(z), out);
  const bool log_det = include_log_abs_det_ && !transform_.is_identity();  // the identity's is 0
  Tensor log_det_values;
  if (log_det) {
    log_det_values = potentials::workspace(log_det_, {m}, device());
    transform_.inverse_log_abs_det_jacobian(z, log_det_values);
  }
  if (log_det || negate_)
    potentials::scaled_fma(out, nullptr, log_det ? &log_det_values : nullptr,
                           negate_ ? -1.0f : 1.0f, out);
}

void TransformedPotential::evaluate_with_gradient(const Tensor& z, Tensor& out, Tensor& grad) {
  const char* where = "transformed potential";
  CUSBI_CHECK(has_gradient(), where << ": the wrapped potential has no gradient; use evaluate()");
  const int64_t m = potentials::check_theta(z, dim(), device(), where, "z");
  potentials::check_buffer(out, {m}, device(), where, "out");
  potentials::check_buffer(grad, z.shape(), device(), where, "grad");
  potential_->evaluate_with_gradient(theta_of(z), out, grad);  // grad = d potential / d theta

  const float sign = negate_ ? -1.0f : 1.0f;
  if (transform_.is_identity()) {  // d theta / d z = 1, log|det| = 0
    if (negate_) {
      potentials::scaled_fma(out, nullptr, nullptr, sign, out);
      potentials::scaled_fma(grad, nullptr, nullptr, sign, grad);
    }
    return;
  }
  Tensor derivative = potentials::workspace(derivative_, z.shape(), device());
  transform_.inverse_derivative(z, derivative);
  Tensor log_det, log_det_gradient;
  if (include_log_abs_det_) {
    log_det = potentials::workspace(log_det_, {m}, device());
    transform_.inverse_log_abs_det_jacobian(z, log_det);
    log_det_gradient = potentials::workspace(log_det_gradient_, z.shape(), device());
    transform_.inverse_log_abs_det_jacobian_gradient(z, log_det_gradient);
  }
  const Tensor* extra_value = include_log_abs_det_ ? &log_det : nullptr;
  const Tensor* extra_gradient = include_log_abs_det_ ? &log_det_gradient : nullptr;
  if (include_log_abs_det_ || negate_) potentials::scaled_fma(out, nullptr, extra_value, sign, out);
  potentials::scaled_fma(grad, &derivative, extra_gradient, sign, grad);
}

}  // namespace cusbi
