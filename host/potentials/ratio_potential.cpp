// sbi's RatioBasedPotential (NRE, spec mcmc_nre.md §4.2): for x_o (T, C) iid trials and theta
// (M, D), the classifier's logits f(theta_i, x_j) for all T x M pairs in one forward (row
// j M + i: x_j repeated M times, theta tiled, as sbi builds them), summed over trials, plus the
// prior's log-density (-inf outside a box, as sbi relies on). Paired mode (batched sampling):
// f(theta_i, x_i) + log prior. The gradient runs the classifier's backward with respect to theta,
// with the classifier's parameter gradients saved and put back (the user may be mid-training).
// The pair rows are gathered on the device with cached index tensors: no allocation and no host
// synchronisation per call once a batch size has been seen.
#include "cusbi/classifiers.hpp"
#include "cusbi/error.hpp"
#include "cusbi/potentials.hpp"
#include "host/potentials/potential_support.hpp"

namespace cusbi {

namespace {

constexpr const char* kWhere = "ratio potential";

class RatioPotential final : public Potential {
 public:
  RatioPotential(std::shared_ptr<RatioClassifier> net, const Distribution& prior)
      : net_(std::move(net)), prior_(prior.to(net_->device())) {}

  int64_t dim() const override { return net_->theta_features(); }
  Device device() const override { return net_->device(); }
  bool has_gradient() const override { return true; }
  const Tensor& x() const override { return x_; }

  void set_x(const Tensor& x_o) override {
    x_ = potentials::observations(x_o, net_->x_features(), device(), kWhere);
    paired_ = false;
    rows_for_ = -1;
  }
  bool supports_paired_x() const override { return true; }
  void set_x_paired(const Tensor& xs) override {
    x_ = potentials::observations(xs, net_->x_features(), device(), kWhere);
    paired_ = true;
    rows_for_ = -1;
  }

  void evaluate(const Tensor& theta, Tensor& out) override {
    const int64_t m = check(theta, out);
    Tensor logits = pair_logits(theta, m);
    finish(theta, logits, m, out);
  }

  void evaluate_with_gradient(const Tensor& theta, Tensor& out, Tensor& grad) override {
    const int64_t m = check(theta, out);
    potentials::check_buffer(grad, theta.shape(), device(), kWhere, "grad");
    Tensor logits = pair_logits(theta, m);
    const int64_t rows = logits.numel();
    Tensor ones = potentials::workspace(ones_, {rows}, device());
    ones.fill_(1.0f);
    Tensor pair_grad;  // (rows, D): set by backward to a view of the classifier's workspace
    const Tensor gradients = net_->gradients();
    Tensor saved = potentials::workspace(saved_, {gradients.numel()}, device());
    saved.copy_(gradients);
    Tensor restore = gradients;
    try {
      net_->backward(ones, &pair_grad);
    } catch (...) {
      restore.copy_(saved);
      throw;
    }
    restore.copy_(saved);
    finish(theta, logits, m, out);
    // d/d theta_i: the sum over trials of the pair rows' gradients, then the prior's.
    potentials::trial_sum_gradient(pair_grad, 1.0f, *prior_, theta, grad, prior_gradient_, mask_);
  }

 private:
  int64_t check(const Tensor& theta, const Tensor& out) const {
    CUSBI_CHECK(x_.defined(), kWhere << ": no observation; call set_x(x_o) first");
    CUSBI_CHECK(net_->device() == prior_->device(),
                kWhere << ": the classifier moved to " << net_->device().str()
                       << " after the potential was built on " << prior_->device().str()
                       << "; build the potential again");
    const int64_t m = potentials::check_theta(theta, dim(), device(), kWhere);
    potentials::check_buffer(out, {m}, device(), kWhere, "out");
    CUSBI_CHECK(!paired_ || m == x_.size(0),
                kWhere << ": " << m << " theta rows for " << x_.size(0)
                       << " paired observations (set_x_paired); pass one theta per observation");
    return m;
  }

  // logits (T M,) of the pairs (theta_i, x_j), row j M + i (paired: (M,) of (theta_i, x_i)).
  Tensor pair_logits(const Tensor& theta, int64_t m) {
    const int64_t trials = paired_ ? 1 : x_.size(0), rows = trials * m;
    Tensor logits = potentials::workspace(logits_, {rows}, device());
    if (paired_) {
      net_->forward(theta, x_, logits);
      return logits;
    }
    if (rows_for_ != m) {  // index tensors for this M, built once per batch size
      std::vector<int64_t> theta_rows(static_cast<size_t>(rows)), x_rows(static_cast<size_t>(rows));
      for (int64_t r = 0; r < rows; ++r) {
        theta_rows[r] = r % m;
        x_rows[r] = r / m;
      }
      theta_index_ = Tensor::from(theta_rows, {rows}, device());
      x_rep_ = Tensor::empty({rows, x_.size(1)}, device());
      take_rows(x_, Tensor::from(x_rows, {rows}, device()), x_rep_);  // fixed for this x_o, M
      theta_rep_ = trials > 1 ? Tensor::empty({rows, dim()}, device()) : Tensor();
      rows_for_ = m;
    }
    if (trials == 1) {  // one trial: the theta rows are the pairs' rows already
      net_->forward(theta, x_rep_, logits);
      return logits;
    }
    take_rows(theta, theta_index_, theta_rep_);
    net_->forward(theta_rep_, x_rep_, logits);
    return logits;
  }

  // out (M,) = sum over trials of logits + log prior (-inf outside a box).
  void finish(const Tensor& theta, const Tensor& logits, int64_t m, Tensor& out) {
    Tensor prior = potentials::workspace(prior_log_prob_, {m}, device());
    prior_->log_prob(theta, prior);
    potentials::sum_trials(logits.reshape({logits.numel() / m, m}), prior, out);
  }

  std::shared_ptr<RatioClassifier> net_;
  std::unique_ptr<Distribution> prior_;
  Tensor x_;
  bool paired_ = false;
  int64_t rows_for_ = -1;                   // M the index tensors below were built for
  Tensor theta_index_, theta_rep_, x_rep_;  // for M = rows_for_
  Tensor logits_, ones_, saved_, prior_log_prob_, prior_gradient_, mask_;
};

}  // namespace

std::pair<std::shared_ptr<Potential>, ThetaTransform> ratio_estimator_based_potential(
    std::shared_ptr<RatioClassifier> net, const Distribution& prior, const Tensor& x_o,
    bool enable_transform) {
  CUSBI_CHECK(net != nullptr, "ratio_estimator_based_potential: the classifier is null");
  potentials::check_prior(prior, net->theta_features(), "ratio_estimator_based_potential");
  auto potential = std::make_shared<RatioPotential>(net, prior);
  if (x_o.defined()) potential->set_x(x_o);
  ThetaTransform transform = ThetaTransform::for_prior(prior, enable_transform);
  transform.to(net->device());
  return {std::move(potential), std::move(transform)};
}

std::pair<std::shared_ptr<Potential>, ThetaTransform> ratio_estimator_based_potential(
    const RatioClassifier& net, const Distribution& prior, const Tensor& x_o,
    bool enable_transform) {
  return ratio_estimator_based_potential(std::make_shared<RatioClassifier>(net.clone()), prior, x_o,
                                         enable_transform);
}

}  // namespace cusbi
