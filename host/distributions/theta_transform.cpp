// ThetaTransform (sbi's mcmc_transform): a box prior gets torch's biject_to(interval), theta =
// low + (high - low) sigmoid(z) with torch's clipping; an unbounded prior an affine z-score with
// its mean and stddev. Each map is one elementwise pass (kernels/distributions.h, run by
// host/cpu/distributions or the CUDA entry point) on the transform's device; the
// log-determinant one pass per row.
#include <cmath>

#include "cusbi/distributions.hpp"
#include "cusbi/error.hpp"
#include "host/cpu/distributions.hpp"
#include "host/distributions/dist_common.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace {

using kern::ThetaMap;

void check_scale(const Tensor& shift, const Tensor& scale, const Distribution& prior) {
  const std::vector<float> sh = shift.to_vector(), sc = scale.to_vector();
  for (size_t d = 0; d < sc.size(); ++d)
    CUSBI_CHECK(std::isfinite(sh[d]) && std::isfinite(sc[d]) && sc[d] > 0.0f,
                "ThetaTransform::for_prior: dimension "
                    << d << " of " << prior.describe() << " gives shift " << sh[d] << " and scale "
                    << sc[d]
                    << "; the transform needs finite bounds (or a finite mean) and a finite "
                       "width (or stddev) > 0 in every dimension; pass enable = false to use "
                       "the identity instead");
}

// out = map(x) elementwise, with per-dimension shift and scale (D,) repeating along the rows.
// out may be x itself.
void apply_map(ThetaMap map, const Tensor& x, const Tensor& shift, const Tensor& scale,
               Tensor& out) {
  const int64_t n = x.numel(), dim = shift.numel();
  if (n == 0) return;
  const float *in = x.data(), *sh = shift.data(), *sc = scale.data();
  float* o = out.data();
  if (ops::runs_on_cpu(x.device()))
    cpu::theta_map(map, in, sh, sc, n, dim, o);
  else
    cuda::theta_map(map, in, sh, sc, n, dim, o);
}

// x's shape without the last dimension (empty for a malformed x: the out= form reports it).
Shape batch_of(const Tensor& x) {
  if (!x.defined() || x.dim() == 0) return {};
  return Shape(x.shape().begin(), x.shape().end() - 1);
}

// A result of x's shape on x's device (or an empty one for an undefined x).
Tensor like(const Tensor& x) {
  return x.defined() ? Tensor::empty(x.shape(), x.device()) : Tensor();
}

}  // namespace

ThetaTransform ThetaTransform::for_prior(const Distribution& prior, bool enable) {
  ThetaTransform t;
  if (!enable) return t;
  if (prior.bounded()) {
    t.kind_ = Kind::Sigmoid;
    t.shift_ = prior.support_low().clone();
    t.scale_ = prior.support_high() - t.shift_;
  } else {
    t.kind_ = Kind::Affine;
    t.shift_ = prior.mean().clone();
    t.scale_ = prior.stddev().clone();
  }
  check_scale(t.shift_, t.scale_, prior);
  return t;
}

Tensor ThetaTransform::forward(const Tensor& theta) const {
  if (is_identity()) return theta;  // as torch's identity_transform: the same tensor
  Tensor z = like(theta);
  forward(theta, z);
  return z;
}

Tensor ThetaTransform::inverse(const Tensor& z) const {
  if (is_identity()) return z;
  Tensor theta = like(z);
  inverse(z, theta);
  return theta;
}

Tensor ThetaTransform::inverse_derivative(const Tensor& z) const {
  Tensor out = like(z);
  inverse_derivative(z, out);
  return out;
}

Tensor ThetaTransform::inverse_log_abs_det_jacobian(const Tensor& z) const {
  Tensor out = Tensor::empty(batch_of(z), z.defined() ? z.device() : Device::cpu());
  inverse_log_abs_det_jacobian(z, out);
  return out;
}

// The out= forms. The identity's maps are copies (or constants); with out == the input, the copy
// is skipped.
void ThetaTransform::forward(const Tensor& theta, Tensor& z) const {
  check_map("ThetaTransform::forward", "theta", theta, z);
  if (is_identity()) {
    if (!z.shares_memory_with(theta)) z.copy_(theta);
    return;
  }
  apply_map(kind_ == Kind::Sigmoid ? ThetaMap::SigmoidForward : ThetaMap::AffineForward, theta,
            shift_, scale_, z);
}

void ThetaTransform::inverse(const Tensor& z, Tensor& theta) const {
  check_map("ThetaTransform::inverse", "z", z, theta);
  if (is_identity()) {
    if (!theta.shares_memory_with(z)) theta.copy_(z);
    return;
  }
  apply_map(kind_ == Kind::Sigmoid ? ThetaMap::SigmoidInverse : ThetaMap::AffineInverse, z, shift_,
            scale_, theta);
}

void ThetaTransform::inverse_derivative(const Tensor& z, Tensor& out) const {
  check_map("ThetaTransform::inverse_derivative", "z", z, out);
  if (is_identity()) {
    out.fill_(1.0f);
    return;
  }
  apply_map(kind_ == Kind::Sigmoid ? ThetaMap::SigmoidDerivative : ThetaMap::AffineDerivative, z,
            shift_, scale_, out);
}

void ThetaTransform::inverse_log_abs_det_jacobian_gradient(const Tensor& z, Tensor& out) const {
  check_map("ThetaTransform::inverse_log_abs_det_jacobian_gradient", "z", z, out);
  if (kind_ != Kind::Sigmoid) {  // a constant log-determinant
    out.zero_();
    return;
  }
  apply_map(ThetaMap::SigmoidLogDetGradient, z, shift_, scale_, out);
}

void ThetaTransform::inverse_log_abs_det_jacobian(const Tensor& z, Tensor& out) const {
  const char* where = "ThetaTransform::inverse_log_abs_det_jacobian";
  if (is_identity()) {
    CUSBI_CHECK(z.defined() && z.dim() >= 1, where << ": z must be a tensor of shape (..., D)");
    dist::check_out(out, batch_of(z), z.device(), where);
    out.zero_();
    return;
  }
  const int64_t dim = shift_.numel();
  const Shape batch = dist::check_rows(z, dim, shift_.device(), where, "z", "the transform");
  dist::check_out(out, batch, z.device(), where);
  const int64_t rows = out.numel();
  if (rows == 0) return;
  const bool sigmoid_kind = kind_ == Kind::Sigmoid;
  const float *zp = z.data(), *sc = scale_.data();
  float* o = out.data();
  if (ops::runs_on_cpu(z.device()))
    cpu::theta_log_det(sigmoid_kind, zp, sc, rows, dim, o);
  else
    cuda::theta_log_det(sigmoid_kind, zp, sc, rows, dim, o);
}

// in (..., D) on the transform's device (any D and device for the identity), out of in's shape.
void ThetaTransform::check_map(const char* where, const char* what, const Tensor& in,
                               const Tensor& out) const {
  if (is_identity()) {
    CUSBI_CHECK(in.defined(), where << ": " << what << " is undefined");
    dist::check_out(out, in.shape(), in.device(), where);
    return;
  }
  dist::check_rows(in, shift_.numel(), shift_.device(), where, what, "the transform");
  dist::check_out(out, in.shape(), in.device(), where);
}

void ThetaTransform::to(Device device) {
  if (shift_.defined()) shift_ = shift_.to(device);
  if (scale_.defined()) scale_ = scale_.to(device);
}

}  // namespace cusbi
