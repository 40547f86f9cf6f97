// Potentials, as sbi's BasePotential: the unnormalised log posterior log p~(theta | x_o) of a
// batch of theta, which MAP search and MCMC climb or sample. A potential lives on its
// estimator's device and writes into the caller's buffers: once sized for a batch of M rows it
// allocates nothing and does not synchronise with the host per call, so a sampler iteration can
// stay on the GPU. The builders return sbi's pair (potential, theta_transform); the transform
// maps theta to the unconstrained z that samplers work in (TransformedPotential). A potential
// keeps workspaces, so one object must not be called from several threads at once.
#pragma once
#include <cstdint>
#include <memory>
#include <utility>

#include "cusbi/classifiers.hpp"
#include "cusbi/distributions.hpp"
#include "cusbi/flows.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi {

class Potential {
 public:
  virtual ~Potential() = default;

  virtual int64_t dim() const = 0;  // D, the number of parameters
  virtual Device device() const = 0;
  // Whether evaluate_with_gradient is available (the estimator can differentiate its input).
  virtual bool has_gradient() const = 0;

  // The observation x_o: (C,) or (n, C), finite, copied to device(). Throws cusbi::Error naming
  // the problem for a wrong width or NaN / inf. Each builder documents what n > 1 rows mean.
  virtual void set_x(const Tensor& x_o) = 0;
  virtual const Tensor& x() const = 0;  // as stored, (n, C); undefined until set

  // sbi's set_x(xs, x_is_iid=False), for batched sampling: row i of xs (M, C) is the
  // observation of theta row i (no sum over trials); evaluate() then takes exactly M rows.
  // Undone by the next set_x. Potentials that cannot pair rows throw cusbi::Error.
  virtual bool supports_paired_x() const { return false; }
  virtual void set_x_paired(const Tensor& xs);

  // theta (M, D) on device() -> out (M,) on device(). Internal buffers grow to the largest M
  // seen and are reused, so calls at a fixed M allocate nothing; nothing is read back.
  virtual void evaluate(const Tensor& theta, Tensor& out) = 0;
  // The same, and grad (M, D) = d out / d theta. Rows where out is -inf (outside the prior's
  // support) get a zero gradient. Throws cusbi::Error when !has_gradient().
  virtual void evaluate_with_gradient(const Tensor& theta, Tensor& out, Tensor& grad) = 0;

  // Allocating convenience: theta (M, D) or (D,) -> (M,) ((1,) for a single theta).
  Tensor operator()(const Tensor& theta);
};

// sbi's transformed_potential: the potential seen from z = T(theta),
//   U(z) = potential(T^-1(z)) + log|det d theta / d z|,
// and its gradient by the chain rule through T^-1's diagonal Jacobian,
//   dU/dz_d = d potential / d theta_d * d theta_d / d z_d + d/dz_d log|det d theta / d z|.
// The potential shares the wrapped one (and its observation). Options:
//   include_log_abs_det = false drops the Jacobian term, as sbi's gradient_ascent does for MAP
//     (an argmax in theta needs none);
//   negate = true returns -U and -dU/dz, as sbi's HMC/pyro variant does (and as a minimiser
//     such as Adam wants).
class TransformedPotential final : public Potential {
 public:
  TransformedPotential(std::shared_ptr<Potential> potential, ThetaTransform transform,
                       bool include_log_abs_det = true, bool negate = false);

  int64_t dim() const override { return potential_->dim(); }
  Device device() const override { return potential_->device(); }
  bool has_gradient() const override { return potential_->has_gradient(); }
  void set_x(const Tensor& x_o) override { potential_->set_x(x_o); }
  const Tensor& x() const override { return potential_->x(); }
  bool supports_paired_x() const override { return potential_->supports_paired_x(); }
  void set_x_paired(const Tensor& xs) override { potential_->set_x_paired(xs); }
  // z (M, D) -> out (M,) [, grad (M, D) = d out / d z].
  void evaluate(const Tensor& z, Tensor& out) override;
  void evaluate_with_gradient(const Tensor& z, Tensor& out, Tensor& grad) override;

  const Potential& potential() const { return *potential_; }
  const ThetaTransform& transform() const { return transform_; }

 private:
  Tensor theta_of(const Tensor& z);

  std::shared_ptr<Potential> potential_;
  ThetaTransform transform_;
  bool include_log_abs_det_, negate_;
  Tensor theta_, log_det_, derivative_, log_det_gradient_;  // grow-only workspaces
};

// sbi's posterior_estimator_based_potential for NPE (spec mcmc_nre.md §4.3): log q(theta | x_o),
// -inf outside the prior's support (an explicit support check, as sbi), for one observation
// x_o (C,) or (1, C) (undefined: set it later with set_x). The gradient comes from the flow's
// backward; it leaves the flow's parameter gradients as they were (on the GPU the flow's loss
// does not check its inputs, so a gradient call never waits for the device). The theta
// transform is
// ThetaTransform::for_prior(prior, enable_transform) on the flow's device.
std::pair<std::shared_ptr<Potential>, ThetaTransform> posterior_estimator_based_potential(
    std::shared_ptr<NeuralSplineFlow> flow, const Distribution& prior, const Tensor& x_o,
    bool enable_transform = true);

// sbi's likelihood_estimator_based_potential for NLE (spec mcmc_nre.md §4.1): x_o (n_trials, C)
// are iid trials, and the potential is sum_j log q(x_j | theta) + log prior(theta) (-inf outside
// a box prior, through its log_prob). The flow's input is x and its condition theta. The gradient
// with respect to theta comes from the flow's backward with respect to its condition, summed
// over the trials, plus the prior's log_prob_gradient; 0 outside the prior's support.
std::pair<std::shared_ptr<Potential>, ThetaTransform> likelihood_estimator_based_potential(
    std::shared_ptr<NeuralSplineFlow> flow, const Distribution& prior, const Tensor& x_o,
    bool enable_transform = true);

// The same builders for a flow held by value, as sbi's tutorial writes them
// (`likelihood_estimator_based_potential(density_estimator, prior, x_o)`): the potential keeps
// a deep copy of the flow, so later training of `flow` does not change it (as build_posterior).
std::pair<std::shared_ptr<Potential>, ThetaTransform> posterior_estimator_based_potential(
    const NeuralSplineFlow& flow, const Distribution& prior, const Tensor& x_o,
    bool enable_transform = true);
std::pair<std::shared_ptr<Potential>, ThetaTransform> likelihood_estimator_based_potential(
    const NeuralSplineFlow& flow, const Distribution& prior, const Tensor& x_o,
    bool enable_transform = true);

// sbi's ratio_estimator_based_potential for NRE (spec mcmc_nre.md §4.2): x_o (n_trials, C) are
// iid trials, and the potential is sum_j f(theta, x_j) + log prior(theta), f the classifier's
// logit (the log-ratio, no sigmoid) (-inf outside a box prior, through its log_prob). The
// gradient w.r.t. theta comes from the classifier's backward to its theta input, summed over the
// trials, plus the prior's; 0 outside the prior's support. By shared_ptr (shares the network)
// or by value (a deep copy, as sbi's tutorial calls it on the trained net).
std::pair<std::shared_ptr<Potential>, ThetaTransform> ratio_estimator_based_potential(
    std::shared_ptr<RatioClassifier> net, const Distribution& prior, const Tensor& x_o,
    bool enable_transform = true);
std::pair<std::shared_ptr<Potential>, ThetaTransform> ratio_estimator_based_potential(
    const RatioClassifier& net, const Distribution& prior, const Tensor& x_o,
    bool enable_transform = true);

}  // namespace cusbi
