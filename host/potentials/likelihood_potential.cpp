// sbi's LikelihoodBasedPotential (NLE) in iid mode: for x_o (T, C) and theta (M, D), the flow
// evaluates log q(x_j | theta_i) for all T x M pairs in one log_prob call (x viewed as (T, 1, C)
// broadcast against the condition theta (M, D), as sbi expands it), summed over trials, plus
// the prior's log-density (-inf outside a box, as sbi relies on).
#include "cusbi/error.hpp"
#include "cusbi/potentials.hpp"
#include "host/potentials/potential_support.hpp"

namespace cusbi {

namespace {

constexpr const char* kWhere = "likelihood potential";

class LikelihoodPotential final : public Potential {
 public:
  LikelihoodPotential(std::shared_ptr<NeuralSplineFlow> flow, const Distribution& prior)
      : flow_(std::move(flow)), prior_(prior.to(flow_->device())) {}

  int64_t dim() const override { return flow_->condition_features(); }
  Device device() const override { return flow_->device(); }
  // Needs the flow's gradient w.r.t. its condition, which it does not provide yet.
  bool has_gradient() const override { return false; }
  const Tensor& x() const override { return x_; }

  void set_x(const Tensor& x_o) override {
    x_ = potentials::observations(x_o, flow_->input_features(), device(), kWhere);
    trials_ = x_.reshape({x_.size(0), 1, x_.size(1)});
  }

  void evaluate(const Tensor& theta, Tensor& out) override {
    CUSBI_CHECK(x_.defined(), kWhere << ": no observation; call set_x(x_o) first");
    CUSBI_CHECK(flow_->device() == prior_->device(),
                kWhere << ": the flow moved to " << flow_->device().str()
                       << " after the potential was built on " << prior_->device().str()
                       << "; build the potential again");
    const int64_t m = potentials::check_theta(theta, dim(), device(), kWhere);
    potentials::check_buffer(out, {m}, device(), kWhere, "out");
    Tensor log_likelihood = potentials::workspace(log_likelihood_, {x_.size(0), m}, device());
    flow_->log_prob(trials_, theta, log_likelihood);  // (T, M)
    Tensor prior = potentials::workspace(prior_log_prob_, {m}, device());
    prior_->log_prob(theta, prior);
    potentials::sum_trials(log_likelihood, prior, out);
  }

  void evaluate_with_gradient(const Tensor&, Tensor&, Tensor&) override {
    CUSBI_FAIL(kWhere << ": no gradient: the flow cannot differentiate its condition (theta) "
                         "yet; use a gradient-free sampler (slice sampling) or evaluate()");
  }

 private:
  std::shared_ptr<NeuralSplineFlow> flow_;
  std::unique_ptr<Distribution> prior_;     // on the flow's device
  Tensor x_;                                // (T, C)
  Tensor trials_;                           // x_ viewed as (T, 1, C)
  Tensor log_likelihood_, prior_log_prob_;  // grow-only (T, M) and (M,)
};

}  // namespace

std::pair<std::shared_ptr<Potential>, ThetaTransform> likelihood_estimator_based_potential(
    std::shared_ptr<NeuralSplineFlow> flow, const Distribution& prior, const Tensor& x_o,
    bool enable_transform) {
  CUSBI_CHECK(flow != nullptr, "likelihood_estimator_based_potential: the flow is null");
  potentials::check_prior(prior, flow->condition_features(),
                          "likelihood_estimator_based_potential");
  auto potential = std::make_shared<LikelihoodPotential>(flow, prior);
  if (x_o.defined()) potential->set_x(x_o);
  ThetaTransform transform = ThetaTransform::for_prior(prior, enable_transform);
  transform.to(flow->device());
  return {std::move(potential), std::move(transform)};
}

std::pair<std::shared_ptr<Potential>, ThetaTransform> likelihood_estimator_based_potential(
    const NeuralSplineFlow& flow, const Distribution& prior, const Tensor& x_o,
    bool enable_transform) {
  return likelihood_estimator_based_potential(std::make_shared<NeuralSplineFlow>(flow.clone()),
                                              prior, x_o, enable_transform);
}

}  // namespace cusbi
