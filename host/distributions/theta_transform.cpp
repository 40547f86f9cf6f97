// ThetaTransform (sbi's mcmc_transform): a box prior gets torch's biject_to(interval), theta =
// low + (high - low) sigmoid(z) with torch's clipping; an unbounded prior an affine z-score with
// its mean and stddev. Each map is one elementwise pass (kernels/distributions.h) on the
// transform's device; the log-determinant one pass per row.
#include <cmath>

#include "cusbi/distributions.hpp"
#include "cusbi/error.hpp"
#include "host/distributions/dist_common.hpp"
#include "kernels/cuda_api.h"
#include "kernels/distributions.h"

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
Tensor apply_map(ThetaMap map, const Tensor& x, const Tensor& shift, const Tensor& scale) {
  Tensor out = Tensor::empty(x.shape(), x.device());
  const int64_t n = x.numel(), dim = shift.numel();
  if (n == 0) return out;
  const float *in = x.data(), *sh = shift.data(), *sc = scale.data();
  float* o = out.data();
  switch (x.device().type()) {
    case DeviceType::CPU:
      kern::visit_theta_map(map, [&](auto tag) {
        dist::for_rows(n / dim, dim, [&](int64_t r) {
          for (int64_t d = 0; d < dim; ++d)
            o[r * dim + d] =
                kern::apply_theta_map<decltype(tag)::value>(in[r * dim + d], sh[d], sc[d]);
        });
      });
      break;
    case DeviceType::CUDA:
      cuda::set_device(x.device().index());
      cuda::theta_map(map, in, sh, sc, n, dim, o);
      break;
  }
  return out;
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
  dist::check_rows(theta, shift_.numel(), shift_.device(), "ThetaTransform::forward", "theta",
                   "the transform");
  return apply_map(kind_ == Kind::Sigmoid ? ThetaMap::SigmoidForward : ThetaMap::AffineForward,
                   theta, shift_, scale_);
}

Tensor ThetaTransform::inverse(const Tensor& z) const {
  if (is_identity()) return z;
  dist::check_rows(z, shift_.numel(), shift_.device(), "ThetaTransform::inverse", "z",
                   "the transform");
  return apply_map(kind_ == Kind::Sigmoid ? ThetaMap::SigmoidInverse : ThetaMap::AffineInverse, z,
                   shift_, scale_);
}

Tensor ThetaTransform::inverse_derivative(const Tensor& z) const {
  if (is_identity()) {
    CUSBI_CHECK(z.defined(), "ThetaTransform::inverse_derivative: z is undefined");
    return Tensor::ones(z.shape(), z.device());
  }
  dist::check_rows(z, shift_.numel(), shift_.device(), "ThetaTransform::inverse_derivative", "z",
                   "the transform");
  return apply_map(
      kind_ == Kind::Sigmoid ? ThetaMap::SigmoidDerivative : ThetaMap::AffineDerivative, z, shift_,
      scale_);
}

Tensor ThetaTransform::inverse_log_abs_det_jacobian(const Tensor& z) const {
  if (is_identity()) {
    CUSBI_CHECK(
        z.defined() && z.dim() >= 1,
        "ThetaTransform::inverse_log_abs_det_jacobian: z must be a tensor of shape (..., D)");
    return Tensor::zeros(Shape(z.shape().begin(), z.shape().end() - 1), z.device());
  }
  const int64_t dim = shift_.numel();
  const Shape batch =
      dist::check_rows(z, dim, shift_.device(), "ThetaTransform::inverse_log_abs_det_jacobian", "z",
                       "the transform");
  Tensor out = Tensor::empty(batch, z.device());
  const int64_t rows = out.numel();
  if (rows == 0) return out;
  const bool sigmoid_kind = kind_ == Kind::Sigmoid;
  const float *zp = z.data(), *sc = scale_.data();
  float* o = out.data();
  switch (z.device().type()) {
    case DeviceType::CPU:
      dist::for_rows(rows, dim, [&](int64_t r) {
        o[r] = kern::theta_log_det_row(sigmoid_kind, zp + r * dim, sc, dim);
      });
      break;
    case DeviceType::CUDA:
      cuda::set_device(z.device().index());
      cuda::theta_log_det(sigmoid_kind, zp, sc, rows, dim, o);
      break;
  }
  return out;
}

void ThetaTransform::to(Device device) {
  if (shift_.defined()) shift_ = shift_.to(device);
  if (scale_.defined()) scale_ = scale_.to(device);
}

}  // namespace cusbi
