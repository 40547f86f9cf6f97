// sbi's PosteriorBasedPotential (NPE): log q(theta | x_o) where theta lies in the prior's
// support, -inf elsewhere (sbi's explicit within_support check). The value comes from the flow's
// log_prob; with a gradient, from its loss and backward (FlowInputGradient). Both then pass the
// support mask, so the gradient is 0 where the value is -inf.
#include "cusbi/error.hpp"
#include "cusbi/potentials.hpp"
#include "host/potentials/flow_input_gradient.hpp"
#include "host/potentials/potential_support.hpp"

namespace cusbi {

namespace {

constexpr const char* kWhere = "posterior potential";

class PosteriorPotential final : public potentials::FlowPotential {
 public:
  PosteriorPotential(std::shared_ptr<NeuralSplineFlow> flow, const Distribution& prior)
      : FlowPotential(std::move(flow), prior, kWhere) {}

  int64_t dim() const override { return flow_->input_features(); }
  bool has_gradient() const override { return true; }

  // One observation: sbi's posterior potential is not iid by default (x_is_iid = False), and
  // the iid form with several trials needs a prior correction that is not supported here.
  void set_x(const Tensor& x_o) override {
    Tensor x = potentials::observations(x_o, flow_->condition_features(), device(), kWhere);
    CUSBI_CHECK(x.size(0) == 1, kWhere << ": x_o has " << x.size(0)
                                       << " rows; the posterior potential takes one observation "
                                          "(C,) or (1, C)");
    x_ = std::move(x);
    paired_ = false;
  }

  // Batched sampling: log q(theta_i | x_i), row i of xs with theta row i.
  bool supports_paired_x() const override { return true; }
  void set_x_paired(const Tensor& xs) override {
    x_ = potentials::observations(xs, flow_->condition_features(), device(), kWhere);
    paired_ = true;
  }

  void evaluate(const Tensor& theta, Tensor& out) override {
    const int64_t m = check(theta, out);
    Tensor out_row = out.reshape({1, m});  // the flow's (S, B) result with S = 1
    flow_->log_prob(paired_ ? theta.reshape({1, m, dim()}) : theta, x_, out_row);
    Tensor mask = potentials::workspace(mask_, {m}, device());
    prior_->support_mask(theta, mask);
    potentials::support_select(mask, 1.0f, out, nullptr, nullptr);
  }

  void evaluate_with_gradient(const Tensor& theta, Tensor& out, Tensor& grad) override {
    const int64_t m = check(theta, out);
    potentials::check_buffer(grad, theta.shape(), device(), kWhere, "grad");
    Tensor neg_log_q_grad;  // d(-log q) / d theta, a view of the flow's workspace
    flow_gradient_(*flow_, theta, x_, out, neg_log_q_grad);  // x_ (1, C) broadcast or (M, C)
    Tensor mask = potentials::workspace(mask_, {m}, device());
    prior_->support_mask(theta, mask);
    potentials::support_select(mask, -1.0f, out, &neg_log_q_grad, &grad);
  }

 private:
  Tensor mask_;  // grow-only support mask (M,)
  potentials::FlowInputGradient flow_gradient_;
};

}  // namespace

std::pair<std::shared_ptr<Potential>, ThetaTransform> posterior_estimator_based_potential(
    std::shared_ptr<NeuralSplineFlow> flow, const Distribution& prior, const Tensor& x_o,
    bool enable_transform) {
  CUSBI_CHECK(flow != nullptr, "posterior_estimator_based_potential: the flow is null");
  potentials::check_prior(prior, flow->input_features(), "posterior_estimator_based_potential");
  auto potential = std::make_shared<PosteriorPotential>(flow, prior);
  if (x_o.defined()) potential->set_x(x_o);
  ThetaTransform transform = ThetaTransform::for_prior(prior, enable_transform);
  transform.to(flow->device());
  return {std::move(potential), std::move(transform)};
}

std::pair<std::shared_ptr<Potential>, ThetaTransform> posterior_estimator_based_potential(
    const NeuralSplineFlow& flow, const Distribution& prior, const Tensor& x_o,
    bool enable_transform) {
  return posterior_estimator_based_potential(std::make_shared<NeuralSplineFlow>(flow.clone()),
                                             prior, x_o, enable_transform);
}

}  // namespace cusbi
