// Priors, as sbi uses them: BoxUniform (sbi.utils.BoxUniform) and MultivariateNormal
// (torch.distributions.MultivariateNormal, diagonal or full covariance), behind one interface
// that the trainers and posteriors take. Every method runs on the distribution's device
// (device(); copy elsewhere with to()). Shapes: a draw of sample_shape S gives (*S, D);
// log_prob and support_mask reduce the last dimension, (..., D) -> (...).
// ThetaTransform is sbi's mcmc_transform: the bijection between the prior's support and R^D
// that MAP search and MCMC work in.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cusbi/random.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi {

class Distribution {
 public:
  virtual ~Distribution() = default;

  virtual int64_t event_size() const = 0;  // D
  virtual Device device() const = 0;
  // A deep copy on `device` (the same device when omitted).
  virtual std::unique_ptr<Distribution> clone() const = 0;
  virtual std::unique_ptr<Distribution> to(Device device) const = 0;

  // Draws (*sample_shape, D) from `generator` (the default generator when null).
  virtual Tensor sample(const Shape& sample_shape, Generator* generator = nullptr) const = 0;
  // theta (..., D) -> (...): the log-density, -inf where it is zero (outside a box).
  Tensor log_prob(const Tensor& theta) const;
  // The same into a preallocated out of shape (...) on device(): allocates nothing and does not
  // synchronise with the host (the form for hot loops such as an MCMC iteration).
  virtual void log_prob(const Tensor& theta, Tensor& out) const = 0;
  // theta (..., D) -> (...): 1 where theta lies in the support, else 0. This is sbi's
  // within_support (prior.support.check), closed at both ends for BoxUniform, so theta == high
  // passes here while log_prob(theta) is -inf. NaN is never in the support.
  Tensor support_mask(const Tensor& theta) const;
  virtual void support_mask(const Tensor& theta, Tensor& out) const = 0;  // out (...)
  // d log_prob / d theta into a preallocated grad of theta's shape (..., D) on device(),
  // allocation-free. BoxUniform: 0 everywhere, outside the support too (where log_prob is the
  // constant -inf; a potential masks those rows itself). MultivariateNormal: -Sigma^-1 (theta -
  // mean).
  virtual void log_prob_gradient(const Tensor& theta, Tensor& grad) const = 0;

  // True when the support is a box [support_low(), support_high()] (D,), as for BoxUniform; false
  // when it is all of R^D.
  virtual bool bounded() const = 0;
  virtual Tensor support_low() const = 0;   // (D,): -inf entries when unbounded
  virtual Tensor support_high() const = 0;  // (D,): +inf entries when unbounded
  virtual Tensor mean() const = 0;          // (D,)
  virtual Tensor stddev() const = 0;        // (D,)

  // A one-line description with the parameters, for messages and summaries.
  virtual std::string describe() const = 0;
};

// Independent uniform on the box [low, high) (sbi's BoxUniform): sample draws
// low + U[0,1)·(high - low); log_prob is -sum_d log(high_d - low_d) inside the half-open box
// and -inf outside it (theta == high counts as outside, as in torch).
class BoxUniform final : public Distribution {
 public:
  // low, high: (D,) on one device, finite, low < high in every dimension; otherwise throws
  // cusbi::Error naming the first offending dimension.
  BoxUniform(const Tensor& low, const Tensor& high);
  BoxUniform(const std::vector<float>& low, const std::vector<float>& high,
             Device device = Device::best());
  // The same bounds in each of `dim` dimensions (sbi's BoxUniform(low * ones(dim), ...)).
  BoxUniform(float low, float high, int64_t dim, Device device = Device::best());

  const Tensor& low() const { return low_; }
  const Tensor& high() const { return high_; }

  int64_t event_size() const override { return low_.numel(); }
  Device device() const override { return low_.device(); }
  std::unique_ptr<Distribution> clone() const override;
  std::unique_ptr<Distribution> to(Device device) const override;
  Tensor sample(const Shape& sample_shape, Generator* generator = nullptr) const override;
  using Distribution::log_prob;
  using Distribution::support_mask;
  void log_prob(const Tensor& theta, Tensor& out) const override;
  void support_mask(const Tensor& theta, Tensor& out) const override;
  void log_prob_gradient(const Tensor& theta, Tensor& grad) const override;  // zeros
  bool bounded() const override { return true; }
  Tensor support_low() const override { return low_; }
  Tensor support_high() const override { return high_; }
  Tensor mean() const override;    // (low + high) / 2
  Tensor stddev() const override;  // (high - low) / sqrt(12)
  std::string describe() const override;

 private:
  Tensor low_, high_;
  float log_volume_ = 0.0f;  // sum_d log(high_d - low_d), in double, once
};

// Gaussian N(mean, covariance) on R^D. sample draws mean + L·z with L the lower Cholesky factor
// of the covariance and z ~ N(0, I) (torch's reparameterised sample); log_prob is
// -0.5·|L^-1 (theta - mean)|^2 - sum log L_dd - D/2·log(2 pi). Support: all of R^D.
class MultivariateNormal final : public Distribution {
 public:
  // mean (D,), covariance (D, D) symmetric positive definite; throws cusbi::Error naming the
  // problem (shape, NaN, asymmetry, not positive definite) otherwise.
  MultivariateNormal(const Tensor& mean, const Tensor& covariance);
  // Diagonal covariance from per-dimension variances (D,), all > 0.
  static MultivariateNormal diagonal(const Tensor& mean, const Tensor& variances);

  const Tensor& loc() const { return mean_; }
  const Tensor& covariance() const { return covariance_; }
  const Tensor& scale_tril() const { return scale_tril_; }  // L, (D, D), lower triangular

  int64_t event_size() const override { return mean_.numel(); }
  Device device() const override { return mean_.device(); }
  std::unique_ptr<Distribution> clone() const override;
  std::unique_ptr<Distribution> to(Device device) const override;
  Tensor sample(const Shape& sample_shape, Generator* generator = nullptr) const override;
  using Distribution::log_prob;
  using Distribution::support_mask;
  void log_prob(const Tensor& theta, Tensor& out) const override;
  void support_mask(const Tensor& theta, Tensor& out) const override;  // 1 where all finite
  void log_prob_gradient(const Tensor& theta, Tensor& grad) const override;
  bool bounded() const override { return false; }
  Tensor support_low() const override;
  Tensor support_high() const override;
  Tensor mean() const override { return mean_; }
  Tensor stddev() const override;  // sqrt of the covariance's diagonal
  std::string describe() const override;

 private:
  MultivariateNormal() = default;
  Tensor mean_, covariance_, scale_tril_;
  // L^-1 then Sigma^-1, each (D, D) row-major in double (formed once on the host), stored
  // bit-for-bit in a float tensor of 4 D^2 entries so they move between devices with the rest.
  Tensor inverse_factors_;
  float log_normalizer_ = 0.0f;  // sum log L_dd + D/2 log(2 pi), in double, once
};

// sbi's mcmc_transform(prior): z = T(theta) maps the prior's support onto R^D.
//   bounded prior:   theta = low + (high - low)·sigmoid(z),
//                    so z = logit((theta - low)/(high - low));
//   unbounded prior: theta = mean + stddev·z (an affine z-score with the prior's moments);
//   disabled:        the identity.
// All maps act on (..., D) tensors on the transform's device and return the same shape, except
// the log-determinant, which reduces the last dimension. Each has an out= form writing into a
// preallocated tensor of the result's shape on that device: no allocation, no host sync; out may
// be the input itself (every map is elementwise).
class ThetaTransform {
 public:
  ThetaTransform() = default;  // the identity for any D
  static ThetaTransform for_prior(const Distribution& prior, bool enable = true);

  Tensor forward(const Tensor& theta) const;  // theta -> z
  Tensor inverse(const Tensor& z) const;      // z -> theta
  // d theta_d / d z_d at z (the Jacobian of inverse() is diagonal), (..., D).
  Tensor inverse_derivative(const Tensor& z) const;
  // log|det d theta / d z| at z, (..., D) -> (...).
  Tensor inverse_log_abs_det_jacobian(const Tensor& z) const;

  void forward(const Tensor& theta, Tensor& z) const;
  void inverse(const Tensor& z, Tensor& theta) const;
  void inverse_derivative(const Tensor& z, Tensor& out) const;
  void inverse_log_abs_det_jacobian(const Tensor& z, Tensor& out) const;  // out (...)
  // d/dz_d of inverse_log_abs_det_jacobian at z, (..., D): 1 - 2 sigmoid(z_d) for the sigmoid
  // map, 0 for the affine map and the identity.
  void inverse_log_abs_det_jacobian_gradient(const Tensor& z, Tensor& out) const;

  bool is_identity() const { return kind_ == Kind::Identity; }
  void to(Device device);

 private:
  enum class Kind { Identity, Sigmoid, Affine };
  void check_map(const char* where, const char* what, const Tensor& in, const Tensor& out) const;
  Kind kind_ = Kind::Identity;
  Tensor shift_, scale_;  // Sigmoid: low, high - low; Affine: mean, stddev
};

}  // namespace cusbi
