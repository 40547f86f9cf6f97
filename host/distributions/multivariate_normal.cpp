// MultivariateNormal (torch.distributions.MultivariateNormal): the covariance is checked and
// factored once, on the host in double (D is small), into the lower Cholesky factor L that
// sample (mean + L z) uses, and L^-1 and Sigma^-1 (in double) that log_prob and its gradient use
// on the distribution's device without scratch memory.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>

#include "cusbi/distributions.hpp"
#include "cusbi/error.hpp"
#include "host/cpu/distributions.hpp"
#include "host/distributions/dist_common.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace {

// Symmetry is checked relative to the entries and to the diagonal scale sqrt(C_ii C_jj), so a
// covariance symmetrised in float (differences of a few ulp) passes at any overall scale.
constexpr double kSymmetryRtol = 1e-5;

void check_shapes(const Tensor& mean, const Tensor& covariance) {
  CUSBI_CHECK(mean.defined() && covariance.defined(),
              "MultivariateNormal: mean and covariance must be defined tensors");
  CUSBI_CHECK(
      mean.dim() == 1 && mean.numel() > 0,
      "MultivariateNormal: mean must have shape (D,) with D >= 1, got " << shape_str(mean.shape()));
  const int64_t d = mean.numel();
  CUSBI_CHECK(covariance.shape() == Shape({d, d}),
              "MultivariateNormal: covariance has shape "
                  << shape_str(covariance.shape()) << " but mean has " << d << " entries; pass a ("
                  << d << ", " << d << ") covariance");
  CUSBI_CHECK(mean.device() == covariance.device(),
              "MultivariateNormal: mean is on " << mean.device().str() << " and covariance on "
                                                << covariance.device().str()
                                                << "; move both to one device with .to(...)");
}

void check_values(const std::vector<float>& mean, const std::vector<float>& cov, int64_t d) {
  for (int64_t i = 0; i < d; ++i)
    CUSBI_CHECK(std::isfinite(mean[i]),
                "MultivariateNormal: mean[" << i << "] is " << mean[i] << "; pass a finite mean");
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j)
      CUSBI_CHECK(std::isfinite(cov[i * d + j]), "MultivariateNormal: covariance entry ("
                                                     << i << ", " << j << ") is " << cov[i * d + j]
                                                     << "; pass a finite covariance");
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < i; ++j) {
      const double a = cov[i * d + j], b = cov[j * d + i];
      const double scale =
          std::max({std::fabs(a), std::fabs(b),
                    std::sqrt(std::fabs(double(cov[i * d + i]) * cov[j * d + j]))});
      CUSBI_CHECK(std::fabs(a - b) <= kSymmetryRtol * scale,
                  "MultivariateNormal: covariance is not symmetric: entry ("
                      << i << ", " << j << ") is " << a << " but entry (" << j << ", " << i
                      << ") is " << b << " (relative tolerance " << kSymmetryRtol
                      << "); pass a symmetric matrix, e.g. (C + C^T) / 2");
    }
}

// Lower Cholesky factor of the (checked, symmetric) covariance, from its lower triangle, as
// torch.linalg.cholesky reads it. Fails naming the first pivot that is not positive.
std::vector<double> cholesky(const std::vector<float>& cov, int64_t d) {
  std::vector<double> l(static_cast<size_t>(d * d), 0.0);
  for (int64_t j = 0; j < d; ++j) {
    double pivot = cov[j * d + j];
    for (int64_t k = 0; k < j; ++k) pivot -= l[j * d + k] * l[j * d + k];
    CUSBI_CHECK(pivot > 0.0 && std::isfinite(pivot),
                "MultivariateNormal: covariance is not positive definite: the Cholesky pivot of "
                "dimension "
                    << j << " is " << pivot
                    << " (must be > 0); the covariance must be symmetric positive definite "
                       "(check for a negative or zero variance, a correlation of magnitude >= 1, "
                       "or linearly dependent dimensions)");
    const double ljj = std::sqrt(pivot);
    l[j * d + j] = ljj;
    for (int64_t i = j + 1; i < d; ++i) {
      double v = cov[i * d + j];
      for (int64_t k = 0; k < j; ++k) v -= l[i * d + k] * l[j * d + k];
      l[i * d + j] = v / ljj;
    }
  }
  return l;
}

// L^-1 then Sigma^-1 = L^-T L^-1, each (d, d) row-major in double, packed bit-for-bit into
// 4 d^2 floats (see MultivariateNormal::inverse_factors_). L^-1 by forward substitution on the
// identity columns, all in double.
std::vector<float> inverse_factors(const std::vector<double>& l, int64_t d) {
  std::vector<double> inv(static_cast<size_t>(2 * d * d), 0.0);
  double* li = inv.data();
  for (int64_t c = 0; c < d; ++c)
    for (int64_t i = c; i < d; ++i) {
      double v = i == c ? 1.0 : 0.0;
      for (int64_t k = c; k < i; ++k) v -= l[i * d + k] * li[k * d + c];
      li[i * d + c] = v / l[i * d + i];
    }
  double* precision = inv.data() + d * d;
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j) {
      double v = 0.0;
      for (int64_t k = std::max(i, j); k < d; ++k) v += li[k * d + i] * li[k * d + j];
      precision[i * d + j] = v;
    }
  std::vector<float> packed(2 * inv.size());
  std::memcpy(packed.data(), inv.data(), inv.size() * sizeof(double));
  return packed;
}

const double* as_doubles(const Tensor& packed) {
  return reinterpret_cast<const double*>(packed.data());  // storage is 64-byte aligned
}

// A deep copy on `device` (Tensor::to shares memory when it is already there).
Tensor copy_to(const Tensor& t, Device device) {
  return t.device() == device ? t.clone() : t.to(device);
}

}  // namespace

MultivariateNormal::MultivariateNormal(const Tensor& mean, const Tensor& covariance) {
  check_shapes(mean, covariance);
  const int64_t d = mean.numel();
  const std::vector<float> mu = mean.to_vector(), cov = covariance.to_vector();
  check_values(mu, cov, d);
  const std::vector<double> l = cholesky(cov, d);
  double log_normalizer = 0.5 * static_cast<double>(d) * std::log(2.0 * std::numbers::pi);
  for (int64_t i = 0; i < d; ++i) log_normalizer += std::log(l[i * d + i]);
  mean_ = mean.clone();
  covariance_ = covariance.clone();
  scale_tril_ = Tensor::from(std::vector<float>(l.begin(), l.end()), {d, d}, mean.device());
  inverse_factors_ = Tensor::from(inverse_factors(l, d), {4 * d * d}, mean.device());
  log_normalizer_ = static_cast<float>(log_normalizer);
}

MultivariateNormal MultivariateNormal::diagonal(const Tensor& mean, const Tensor& variances) {
  CUSBI_CHECK(
      mean.defined() && variances.defined() && mean.dim() == 1 && variances.shape() == mean.shape(),
      "MultivariateNormal::diagonal: mean and variances must both have shape (D,), got "
          << (mean.defined() ? shape_str(mean.shape()) : "undefined") << " and "
          << (variances.defined() ? shape_str(variances.shape()) : "undefined"));
  const std::vector<float> var = variances.to_vector();
  const int64_t d = mean.numel();
  std::vector<float> cov(static_cast<size_t>(d * d), 0.0f);
  for (int64_t i = 0; i < d; ++i) {
    CUSBI_CHECK(var[i] > 0.0f && std::isfinite(var[i]),
                "MultivariateNormal::diagonal: variances["
                    << i << "] is " << var[i] << "; every variance must be finite and > 0");
    cov[i * d + i] = var[i];
  }
  return MultivariateNormal(mean, Tensor::from(cov, {d, d}, variances.device()));
}

std::unique_ptr<Distribution> MultivariateNormal::clone() const { return to(device()); }

std::unique_ptr<Distribution> MultivariateNormal::to(Device device) const {
  std::unique_ptr<MultivariateNormal> out(new MultivariateNormal());
  out->mean_ = copy_to(mean_, device);
  out->covariance_ = copy_to(covariance_, device);
  out->scale_tril_ = copy_to(scale_tril_, device);
  out->inverse_factors_ = copy_to(inverse_factors_, device);
  out->log_normalizer_ = log_normalizer_;
  return out;
}

Tensor MultivariateNormal::sample(const Shape& sample_shape, Generator* generator) const {
  Shape shape = sample_shape;
  shape.push_back(event_size());
  const Tensor z = randn(shape, device(), generator);
  Tensor out = Tensor::empty(shape, device());
  const int64_t dim = event_size(), rows = out.numel() / dim;
  if (rows == 0) return out;
  const float *zp = z.data(), *mu = mean_.data(), *l = scale_tril_.data();
  float* o = out.data();
  if (ops::runs_on_cpu(device()))
    cpu::mvn_sample(zp, mu, l, rows, dim, o);
  else
    cuda::mvn_sample(zp, mu, l, rows, dim, o);
  return out;
}

void MultivariateNormal::log_prob(const Tensor& theta, Tensor& out) const {
  const int64_t dim = event_size();
  const Shape batch =
      dist::check_rows(theta, dim, device(), "MultivariateNormal::log_prob", "theta", "the prior");
  dist::check_out(out, batch, device(), "MultivariateNormal::log_prob");
  const int64_t rows = out.numel();
  if (rows == 0) return;
  const float *x = theta.data(), *mu = mean_.data();
  const double* inv_tril = as_doubles(inverse_factors_);
  const float log_normalizer = log_normalizer_;
  float* o = out.data();
  if (ops::runs_on_cpu(device()))
    cpu::mvn_log_prob(x, mu, inv_tril, rows, dim, log_normalizer, o);
  else
    cuda::mvn_log_prob(x, mu, inv_tril, rows, dim, log_normalizer, o);
}

void MultivariateNormal::log_prob_gradient(const Tensor& theta, Tensor& grad) const {
  const int64_t dim = event_size();
  dist::check_rows(theta, dim, device(), "MultivariateNormal::log_prob_gradient", "theta",
                   "the prior");
  dist::check_out(grad, theta.shape(), device(), "MultivariateNormal::log_prob_gradient", "grad");
  const int64_t rows = theta.numel() / dim;
  if (rows == 0) return;
  const float *x = theta.data(), *mu = mean_.data();
  const double* precision = as_doubles(inverse_factors_) + dim * dim;
  float* g = grad.data();
  if (ops::runs_on_cpu(device()))
    cpu::mvn_log_prob_gradient(x, mu, precision, rows, dim, g);
  else
    cuda::mvn_log_prob_gradient(x, mu, precision, rows, dim, g);
}

void MultivariateNormal::support_mask(const Tensor& theta, Tensor& out) const {
  const int64_t dim = event_size();
  const Shape batch = dist::check_rows(theta, dim, device(), "MultivariateNormal::support_mask",
                                       "theta", "the prior");
  dist::check_out(out, batch, device(), "MultivariateNormal::support_mask");
  const int64_t rows = out.numel();
  if (rows == 0) return;
  const float* x = theta.data();
  float* o = out.data();
  if (ops::runs_on_cpu(device()))
    cpu::finite_rows_mask(x, rows, dim, o);
  else
    cuda::finite_rows_mask(x, rows, dim, o);
}

Tensor MultivariateNormal::support_low() const {
  return Tensor::full({event_size()}, -std::numeric_limits<float>::infinity(), device());
}

Tensor MultivariateNormal::support_high() const {
  return Tensor::full({event_size()}, std::numeric_limits<float>::infinity(), device());
}

Tensor MultivariateNormal::stddev() const {
  const int64_t d = event_size();
  const std::vector<float> cov = covariance_.to_vector();
  std::vector<float> sd(static_cast<size_t>(d));
  for (int64_t i = 0; i < d; ++i) sd[i] = static_cast<float>(std::sqrt(double(cov[i * d + i])));
  return Tensor::from(sd, {d}, device());
}

std::string MultivariateNormal::describe() const {
  const int64_t d = event_size();
  std::string out = "MultivariateNormal(loc=" + dist::format_values(mean_.to_vector());
  const std::vector<float> cov = covariance_.to_vector();
  if (d <= 4) {  // small enough to print the whole matrix on one line
    out += ", covariance=[";
    for (int64_t i = 0; i < d; ++i)
      out += (i ? ", " : "") + dist::format_values(std::vector<float>(cov.begin() + i * d,
                                                                      cov.begin() + (i + 1) * d));
    return out + "])";
  }
  bool diagonal = true;
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j) diagonal = diagonal && (i == j || cov[i * d + j] == 0.0f);
  return out + ", stddev=" + dist::format_values(stddev().to_vector()) +
         (diagonal ? ", diagonal covariance)" : ", full covariance)");
}

}  // namespace cusbi
