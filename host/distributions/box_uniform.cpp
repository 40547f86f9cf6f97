// BoxUniform (sbi.utils.BoxUniform): independent uniforms on [low, high). Bounds are checked
// once at construction and their log-volume summed in double; each method then checks theta
// and dispatches once to the CPU twin (host/cpu/distributions) or the CUDA entry point.
#include <cmath>
#include <sstream>

#include "cusbi/distributions.hpp"
#include "cusbi/error.hpp"
#include "host/cpu/distributions.hpp"
#include "host/distributions/dist_common.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace {

void check_bounds(const Tensor& low, const Tensor& high) {
  CUSBI_CHECK(low.defined() && high.defined(),
              "BoxUniform: low and high must be defined tensors of shape (D,)");
  CUSBI_CHECK(low.dim() == 1 && high.dim() == 1 && low.shape() == high.shape(),
              "BoxUniform: low and high must both have shape (D,), got low "
                  << shape_str(low.shape()) << " and high " << shape_str(high.shape())
                  << "; pass one bound per dimension (reshape({-1}) flattens)");
  CUSBI_CHECK(low.numel() > 0, "BoxUniform: low and high are empty; pass at least one dimension");
  CUSBI_CHECK(low.device() == high.device(), "BoxUniform: low is on "
                                                 << low.device().str() << " and high on "
                                                 << high.device().str()
                                                 << "; move both to one device with .to(...)");
  const std::vector<float> lo = low.to_vector(), hi = high.to_vector();
  for (size_t d = 0; d < lo.size(); ++d) {
    CUSBI_CHECK(std::isfinite(lo[d]) && std::isfinite(hi[d]),
                "BoxUniform: the bounds of dimension "
                    << d << " are not finite (low " << lo[d] << ", high " << hi[d]
                    << "); a box needs finite bounds (use MultivariateNormal for an unbounded "
                       "prior)");
    CUSBI_CHECK(lo[d] < hi[d], "BoxUniform: dimension "
                                   << d << " has low " << lo[d] << " >= high " << hi[d]
                                   << "; each low must be strictly below its high");
  }
}

Tensor bounds_tensor(float value, int64_t dim, Device device) {
  CUSBI_CHECK(dim > 0, "BoxUniform: dim is " << dim << "; pass at least one dimension");
  return Tensor::full({dim}, value, device);
}

Tensor bounds_tensor(const std::vector<float>& values, Device device) {
  return Tensor::from(values, {static_cast<int64_t>(values.size())}, device);
}

}  // namespace

BoxUniform::BoxUniform(const Tensor& low, const Tensor& high) {
  check_bounds(low, high);
  // Own copies: a caller changing its tensors later must not change the prior.
  low_ = low.clone();
  high_ = high.clone();
  const std::vector<float> lo = low_.to_vector(), hi = high_.to_vector();
  double log_volume = 0.0;
  for (size_t d = 0; d < lo.size(); ++d)
    log_volume += std::log(static_cast<double>(hi[d]) - static_cast<double>(lo[d]));
  log_volume_ = static_cast<float>(log_volume);
}

BoxUniform::BoxUniform(const std::vector<float>& low, const std::vector<float>& high, Device device)
    : BoxUniform(bounds_tensor(low, device), bounds_tensor(high, device)) {}

BoxUniform::BoxUniform(float low, float high, int64_t dim, Device device)
    : BoxUniform(bounds_tensor(low, dim, device), bounds_tensor(high, dim, device)) {}

std::unique_ptr<Distribution> BoxUniform::clone() const {
  return std::make_unique<BoxUniform>(low_, high_);  // the constructor copies the bounds
}

std::unique_ptr<Distribution> BoxUniform::to(Device device) const {
  return std::make_unique<BoxUniform>(low_.to(device), high_.to(device));
}

Tensor BoxUniform::sample(const Shape& sample_shape, Generator* generator) const {
  Shape shape = sample_shape;
  shape.push_back(event_size());
  Tensor out = rand(shape, device(), generator);
  const int64_t n = out.numel(), dim = event_size();
  if (n == 0) return out;
  float* u = out.data();
  const float *lo = low_.data(), *hi = high_.data();
  if (ops::runs_on_cpu(device()))
    cpu::box_from_uniform(u, lo, hi, n, dim);
  else
    cuda::box_from_uniform(u, lo, hi, n, dim);
  return out;
}

void BoxUniform::log_prob(const Tensor& theta, Tensor& out) const {
  const int64_t dim = event_size();
  const Shape batch =
      dist::check_rows(theta, dim, device(), "BoxUniform::log_prob", "theta", "the prior");
  dist::check_out(out, batch, device(), "BoxUniform::log_prob");
  const int64_t rows = out.numel();
  if (rows == 0) return;
  const float *x = theta.data(), *lo = low_.data(), *hi = high_.data();
  float* o = out.data();
  if (ops::runs_on_cpu(device()))
    cpu::box_log_prob(x, lo, hi, rows, dim, log_volume_, o);
  else
    cuda::box_log_prob(x, lo, hi, rows, dim, log_volume_, o);
}

void BoxUniform::support_mask(const Tensor& theta, Tensor& out) const {
  const int64_t dim = event_size();
  const Shape batch =
      dist::check_rows(theta, dim, device(), "BoxUniform::support_mask", "theta", "the prior");
  dist::check_out(out, batch, device(), "BoxUniform::support_mask");
  const int64_t rows = out.numel();
  if (rows == 0) return;
  const float *x = theta.data(), *lo = low_.data(), *hi = high_.data();
  float* o = out.data();
  if (ops::runs_on_cpu(device()))
    cpu::box_support_mask(x, lo, hi, rows, dim, o);
  else
    cuda::box_support_mask(x, lo, hi, rows, dim, o);
}

// The density is constant on the box, so the gradient is 0 there; outside, log_prob is the
// constant -inf, and 0 is the gradient a caller can use without NaN (sbi's potentials zero it).
void BoxUniform::log_prob_gradient(const Tensor& theta, Tensor& grad) const {
  dist::check_rows(theta, event_size(), device(), "BoxUniform::log_prob_gradient", "theta",
                   "the prior");
  dist::check_out(grad, theta.shape(), device(), "BoxUniform::log_prob_gradient", "grad");
  grad.zero_();
}

Tensor BoxUniform::mean() const { return (low_ + high_) * 0.5f; }

Tensor BoxUniform::stddev() const { return (high_ - low_) / std::sqrt(12.0f); }

std::string BoxUniform::describe() const {
  return "BoxUniform(low=" + dist::format_values(low_.to_vector()) +
         ", high=" + dist::format_values(high_.to_vector()) + ")";
}

}  // namespace cusbi
