// sbi's LikelihoodBasedPotential (NLE) in iid mode: for x_o (T, C) and theta (M, D), the flow
// evaluates log q(x_j | theta_i) for all T x M pairs in one log_prob call (x viewed as (T, 1, C)
// broadcast against the condition theta (M, D), as sbi expands it), summed over trials, plus
// the prior's log-density (-inf outside a box, as sbi relies on). The gradient runs the same
// T x M pairs through the flow's loss and its backward with respect to the condition (theta),
// sums the T gradient rows of each theta with the fixed-order reduction, and adds the prior's.
#include "cusbi/error.hpp"
#include "cusbi/potentials.hpp"
#include "host/potentials/flow_input_gradient.hpp"
#include "host/potentials/potential_support.hpp"

namespace cusbi {

namespace {

constexpr const char* kWhere = "likelihood potential";

class LikelihoodPotential final : public potentials::FlowPotential {
 public:
  LikelihoodPotential(std::shared_ptr<NeuralSplineFlow> flow, const Distribution& prior)
      : FlowPotential(std::move(flow), prior, kWhere) {}

  int64_t dim() const override { return flow_->condition_features(); }
  // Through the flow's gradient w.r.t. its condition (theta).
  bool has_gradient() const override { return true; }

  void set_x(const Tensor& x_o) override {
    x_ = potentials::observations(x_o, flow_->input_features(), device(), kWhere);
    trials_ = x_.reshape({x_.size(0), 1, x_.size(1)});
    paired_ = false;
  }

  // Batched sampling (sbi's x_is_iid=False): one trial per theta row, x row i with theta row i,
  // i.e. the iid form's (T, M) pairs with T = 1 and the observations along the batch.
  bool supports_paired_x() const override { return true; }
  void set_x_paired(const Tensor& xs) override {
    x_ = potentials::observations(xs, flow_->input_features(), device(), kWhere);
    trials_ = x_.reshape({1, x_.size(0), x_.size(1)});
    paired_ = true;
  }

  void evaluate(const Tensor& theta, Tensor& out) override {
    const int64_t m = check(theta, out);
    Tensor log_likelihood =
        potentials::workspace(log_likelihood_, {paired_ ? 1 : x_.size(0), m}, device());
    flow_->log_prob(trials_, theta, log_likelihood);  // (T, M)
    Tensor prior = potentials::workspace(prior_log_prob_, {m}, device());
    prior_->log_prob(theta, prior);
    potentials::sum_trials(log_likelihood, prior, out);
  }

  void evaluate_with_gradient(const Tensor& theta, Tensor& out, Tensor& grad) override {
    const int64_t m = check(theta, out), trials = paired_ ? 1 : x_.size(0);
    potentials::check_buffer(grad, theta.shape(), device(), kWhere, "grad");
    Tensor neg_log_q = potentials::workspace(log_likelihood_, {trials, m}, device());
    Tensor pair_grad;  // (T M, D): d(-log q(x_j | theta_i)) / d theta_i, row j M + i
    flow_gradient_(*flow_, trials_, theta, neg_log_q, pair_grad,
                   potentials::FlowInputGradient::Wrt::Condition);
    Tensor prior = potentials::workspace(prior_log_prob_, {m}, device());
    prior_->log_prob(theta, prior);
    sum(neg_log_q, 0, out);  // sum_j -log q, in trial order
    sub(prior, out, out);
    // A box's log_prob_gradient is 0 outside its support, the flow's term is not: masked there.
    potentials::trial_sum_gradient(pair_grad, -1.0f, *prior_, theta, grad, prior_gradient_, mask_);
  }

 private:
  Tensor trials_;                           // x_ viewed as (T, 1, C), or (1, M, C) when paired
  Tensor log_likelihood_, prior_log_prob_;  // grow-only (T, M) and (M,)
  Tensor prior_gradient_, mask_;            // grow-only (M, D) and (M,)
  potentials::FlowInputGradient flow_gradient_;
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
