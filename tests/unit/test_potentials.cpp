// Potentials on the CPU (include/cusbi/potentials.hpp): the posterior potential is the masked
// log q of the flow, the likelihood potential the sum over trials of log q(x_j | theta) plus
// the prior, TransformedPotential is sbi's closed form (spec mcmc_nre.md §3.3), gradients agree
// with central differences, a second call at the same batch allocates nothing, the flow's
// parameter gradients are left alone, and bad arguments get messages naming the problem.
#include <cmath>
#include <limits>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include "host/allocation_counter.hpp"
#include "unit/direct_posterior_fixtures.hpp"

namespace cusbi {
namespace {

using direct_posterior_test::gaussian_flow;
using direct_posterior_test::kCpu;
using direct_posterior_test::row;
using testing::all_close;
using testing::contains;
using testing::error_of;
constexpr float kInf = std::numeric_limits<float>::infinity();

// Rows inside the box [-2, 2]^2, one on its closed upper edge (in sbi's support check), and
// two outside.
Tensor box_theta() {
  return Tensor::from({0.1f, -0.4f, 1.5f, 0.7f, -1.9f, 1.2f, 2.0f, 0.3f, 2.5f, 0.0f, 0.0f, -3.0f},
                      {6, 2}, kCpu);
}

const std::vector<float> kX = {0.2f, -0.5f, 1.0f};
Tensor row3() { return Tensor::from(kX, {1, 3}, kCpu); }

// Potential values and gradient by central differences, each coordinate moved by +-h.
std::vector<float> central_differences(Potential& potential, const Tensor& at, float h) {
  const int64_t m = at.size(0), d = at.size(1);
  const std::vector<float> base = at.to_vector();
  std::vector<float> grad(base.size());
  for (int64_t j = 0; j < d; ++j) {
    std::vector<float> plus = base, minus = base;
    for (int64_t r = 0; r < m; ++r) {
      plus[r * d + j] += h;
      minus[r * d + j] -= h;
    }
    const std::vector<float> up = potential(Tensor::from(plus, {m, d}, kCpu)).to_vector();
    const std::vector<float> down = potential(Tensor::from(minus, {m, d}, kCpu)).to_vector();
    for (int64_t r = 0; r < m; ++r)
      grad[r * d + j] = static_cast<float>((double(up[r]) - down[r]) / (2.0 * h));
  }
  return grad;
}

TEST(PosteriorPotential, IsTheFlowsLogProbMaskedByTheSupport) {
  auto flow = gaussian_flow(2, 3, 0.2f, 0.9f);
  const BoxUniform prior(-2.0f, 2.0f, 2, kCpu);
  auto [potential, transform] = posterior_estimator_based_potential(flow, prior, row3());
  EXPECT_EQ(potential->dim(), 2);
  EXPECT_TRUE(potential->has_gradient());
  const Tensor theta = box_theta();
  const std::vector<float> lq = flow->log_prob(theta, Tensor::from(kX, {1, 3}, kCpu)).to_vector();
  const std::vector<float> expected = {lq[0], lq[1], lq[2], lq[3], -kInf, -kInf};
  // Exact: the same flow call, then a select.
  EXPECT_EQ((*potential)(theta).to_vector(), expected);
  EXPECT_FALSE(transform.is_identity());
  EXPECT_TRUE(all_close(
      transform.forward(theta.slice_rows(0, 1)).to_vector(),
      ThetaTransform::for_prior(prior).forward(theta.slice_rows(0, 1)).to_vector(), 0, 0));
}

TEST(PosteriorPotential, GradientMatchesCentralDifferencesAndSparesTheFlowsGradients) {
  auto flow = gaussian_flow(2, 3, 0.2f, 0.9f);
  auto [potential, transform] =
      posterior_estimator_based_potential(flow, BoxUniform(-2.0f, 2.0f, 2, kCpu), row3());
  const Tensor theta = box_theta();
  flow->gradients().fill_(0.25f);  // a caller's accumulated gradients
  Tensor out = Tensor::empty({6}, kCpu), grad = Tensor::empty({6, 2}, kCpu);
  potential->evaluate_with_gradient(theta, out, grad);
  const std::vector<float> params = flow->gradients().to_vector();
  for (const float g : params) ASSERT_EQ(g, 0.25f);

  // The value from the loss path equals the log_prob path up to float rounding of log q
  // (|log q| < 20 here, so 1e-5 relative is a few ulp).
  EXPECT_TRUE(all_close(out.to_vector(), (*potential)(theta).to_vector(), 0, 1e-5));
  const std::vector<float> g = grad.to_vector();
  for (int i = 8; i < 12; ++i) EXPECT_EQ(g[i], 0.0f) << "no gradient outside the support";
  // Inside, exactly minus the flow's input gradient of -log q (the flow's backward itself is
  // checked against central differences in double in tests/gradcheck/test_nsf_gradcheck.cpp;
  // this float flow has ReLU kinks within 1e-2 of these points, where differences mislead).
  flow->loss(theta.slice_rows(0, 4), row3());
  Tensor neg_grad;
  flow->backward(Tensor::ones({4}, kCpu), &neg_grad);
  const std::vector<float> ng = neg_grad.to_vector();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(g[i], -ng[i]) << i;
}

TEST(PosteriorPotential, ASecondCallAtTheSameBatchAllocatesNothing) {
  auto flow = gaussian_flow(2, 3, 0.2f, 0.9f);
  auto [potential, transform] =
      posterior_estimator_based_potential(flow, BoxUniform(-2.0f, 2.0f, 2, kCpu), row3());
  TransformedPotential transformed(potential, transform);
  const Tensor theta = box_theta(), z = transform.forward(theta.slice_rows(0, 4));
  Tensor out = Tensor::empty({6}, kCpu), grad = Tensor::empty({6, 2}, kCpu);
  Tensor out_z = Tensor::empty({4}, kCpu), grad_z = Tensor::empty({4, 2}, kCpu);
  auto all_calls = [&, &potential = potential] {
    potential->evaluate(theta, out);
    potential->evaluate_with_gradient(theta, out, grad);
    transformed.evaluate(z, out_z);
    transformed.evaluate_with_gradient(z, out_z, grad_z);
  };
  all_calls();  // sizes the workspaces
  const int64_t before = detail::allocation_count();
  all_calls();
  EXPECT_EQ(detail::allocation_count(), before);
}

// sbi's closed form for BoxUniform (spec §3.3): U(z) = potential(theta) + sum_i [log(high_i -
// low_i) - softplus(z_i) - softplus(-z_i)], theta_i = low_i + (high_i - low_i) sigmoid(z_i).
TEST(TransformedPotential, MatchesSbisClosedFormForABox) {
  auto flow = gaussian_flow(2, 3, 0.2f, 0.9f);
  const std::vector<float> low = {-2.0f, -1.0f}, high = {2.0f, 3.0f};
  auto [potential, transform] =
      posterior_estimator_based_potential(flow, BoxUniform(low, high, kCpu), row3());
  const std::vector<float> z = {0.3f, -1.2f, -4.0f, 2.5f, 0.0f, 0.0f, 7.0f, -6.0f};
  const Tensor zt = Tensor::from(z, {4, 2}, kCpu);
  std::vector<float> theta(z.size());
  std::vector<double> log_det(4, 0.0);
  auto softplus = [](double v) {
    return v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
  };
  for (int r = 0; r < 4; ++r)
    for (int i = 0; i < 2; ++i) {
      const double zi = z[r * 2 + i], width = double(high[i]) - low[i];
      theta[r * 2 + i] = static_cast<float>(low[i] + width / (1.0 + std::exp(-zi)));
      log_det[r] += std::log(width) - softplus(zi) - softplus(-zi);
    }
  const std::vector<float> pot = (*potential)(Tensor::from(theta, {4, 2}, kCpu)).to_vector();
  std::vector<float> expected(4);
  for (int r = 0; r < 4; ++r) expected[r] = static_cast<float>(pot[r] + log_det[r]);
  TransformedPotential transformed(potential, transform);
  // theta from float sigmoid vs double moves log q by ~1e-6; log|det| in float: rtol 1e-5.
  EXPECT_TRUE(all_close(transformed(zt).to_vector(), expected, 1e-5, 1e-5));

  TransformedPotential no_jacobian(potential, transform, false, true);
  std::vector<float> negated(4);
  for (int r = 0; r < 4; ++r) negated[r] = -pot[r];
  EXPECT_TRUE(all_close(no_jacobian(zt).to_vector(), negated, 1e-5, 1e-5));
}

// An unbounded prior: the affine z-score, whose log|det| is the constant sum log stddev.
TEST(TransformedPotential, AddsTheAffineLogDeterminant) {
  auto flow = gaussian_flow(2, 3, 0.2f, 0.9f);
  const MultivariateNormal prior = MultivariateNormal::diagonal(
      Tensor::from({0.5f, -1.0f}, {2}, kCpu), Tensor::from({4.0f, 0.25f}, {2}, kCpu));
  auto [potential, transform] = posterior_estimator_based_potential(flow, prior, row3());
  const Tensor z = Tensor::from({0.3f, -1.2f, 1.0f, 0.5f}, {2, 2}, kCpu);
  const std::vector<float> pot = (*potential)(transform.inverse(z)).to_vector();
  TransformedPotential transformed(potential, transform);
  const double log_det = std::log(2.0) + std::log(0.5);
  // One float addition of a constant: rtol 1e-6.
  EXPECT_TRUE(all_close(transformed(z).to_vector(),
                        {float(pot[0] + log_det), float(pot[1] + log_det)}, 1e-6, 1e-6));
}

// A smooth potential with an exact gradient (a Gaussian's log-density), so that finite
// differences test the transform's chain rule and log|det| gradient alone.
class GaussianPotential final : public Potential {
 public:
  explicit GaussianPotential(MultivariateNormal density) : density_(std::move(density)) {}
  int64_t dim() const override { return density_.event_size(); }
  Device device() const override { return density_.device(); }
  bool has_gradient() const override { return true; }
  void set_x(const Tensor& x_o) override { x_ = x_o; }
  const Tensor& x() const override { return x_; }
  void evaluate(const Tensor& theta, Tensor& out) override { density_.log_prob(theta, out); }
  void evaluate_with_gradient(const Tensor& theta, Tensor& out, Tensor& grad) override {
    density_.log_prob(theta, out);
    density_.log_prob_gradient(theta, grad);
  }

 private:
  MultivariateNormal density_;
  Tensor x_;
};

TEST(TransformedPotential, GradientMatchesCentralDifferences) {
  auto potential = std::make_shared<GaussianPotential>(
      MultivariateNormal(Tensor::from({0.5f, -0.3f}, {2}, kCpu),
                         Tensor::from({0.8f, 0.3f, 0.3f, 0.5f}, {2, 2}, kCpu)));
  const Tensor z = Tensor::from({0.3f, -1.2f, -2.0f, 1.5f, 0.0f, 0.4f}, {3, 2}, kCpu);
  const std::vector<ThetaTransform> transforms = {
      ThetaTransform::for_prior(BoxUniform({-2.0f, -1.0f}, {2.0f, 3.0f}, kCpu)),
      ThetaTransform::for_prior(MultivariateNormal::diagonal(
          Tensor::from({1.0f, -1.0f}, {2}, kCpu), Tensor::from({4.0f, 0.5f}, {2}, kCpu))),
      ThetaTransform()};
  for (const ThetaTransform& transform : transforms)
    for (const bool log_det : {true, false})
      for (const bool negate : {false, true}) {
        TransformedPotential transformed(potential, transform, log_det, negate);
        Tensor out = Tensor::empty({3}, kCpu), grad = Tensor::empty({3, 2}, kCpu);
        transformed.evaluate_with_gradient(z, out, grad);
        EXPECT_EQ(out.to_vector(), transformed(z).to_vector());  // the same passes
        // h = 1e-2: rounding of |U| < 30 (ulp <= 2e-6) over 2h is ~1e-4; the h^2 / 6 times
        // third-derivative term of these smooth maps ~1e-4: atol 2e-3, rtol 1e-3.
        EXPECT_TRUE(
            all_close(grad.to_vector(), central_differences(transformed, z, 1e-2f), 2e-3, 1e-3))
            << "log_det " << log_det << ", negate " << negate;
      }
}

// With the flow: the transformed gradient is the flow potential's gradient times d theta / dz
// plus the log|det| gradient, as separately computed (one fma vs two roundings: rtol 1e-6).
TEST(TransformedPotential, ComposesTheFlowPotentialsGradient) {
  auto flow = gaussian_flow(2, 3, 0.2f, 0.9f);
  auto [potential, transform] =
      posterior_estimator_based_potential(flow, BoxUniform(-2.0f, 2.0f, 2, kCpu), row3());
  const Tensor z = Tensor::from({0.3f, -1.2f, -2.0f, 1.5f, 0.0f, 0.4f}, {3, 2}, kCpu);
  TransformedPotential transformed(potential, transform);
  Tensor out = Tensor::empty({3}, kCpu), grad = Tensor::empty({3, 2}, kCpu);
  transformed.evaluate_with_gradient(z, out, grad);
  const Tensor theta = transform.inverse(z);
  Tensor pot = Tensor::empty({3}, kCpu), grad_theta = Tensor::empty({3, 2}, kCpu);
  potential->evaluate_with_gradient(theta, pot, grad_theta);
  Tensor log_det_gradient = Tensor::empty({3, 2}, kCpu);
  transform.inverse_log_abs_det_jacobian_gradient(z, log_det_gradient);
  EXPECT_TRUE(
      all_close(grad, grad_theta * transform.inverse_derivative(z) + log_det_gradient, 1e-6, 1e-6));
  EXPECT_TRUE(all_close(out, pot + transform.inverse_log_abs_det_jacobian(z), 1e-6, 1e-6));
}

TEST(LikelihoodPotential, IsTheSumOverTrialsOfLogQPlusThePrior) {
  auto flow = gaussian_flow(3, 2, 0.1f, 1.2f);  // input x (C = 3), condition theta (D = 2)
  const BoxUniform prior(-2.0f, 2.0f, 2, kCpu);
  const std::vector<float> xs = {0.2f, -0.5f, 1.0f, 0.0f, 0.3f, -1.1f, 1.4f, 0.9f, 0.2f};
  auto [potential, transform] =
      likelihood_estimator_based_potential(flow, prior, Tensor::from(xs, {3, 3}, kCpu));
  EXPECT_EQ(potential->dim(), 2);
  EXPECT_TRUE(potential->has_gradient());
  const Tensor theta = box_theta();
  const std::vector<float> lp = prior.log_prob(theta).to_vector();
  std::vector<double> sum(6, 0.0);
  for (int j = 0; j < 3; ++j) {
    std::vector<float> xj;
    for (int r = 0; r < 6; ++r) xj.insert(xj.end(), xs.begin() + 3 * j, xs.begin() + 3 * j + 3);
    const std::vector<float> lq = flow->log_prob(Tensor::from(xj, {6, 3}, kCpu), theta).to_vector();
    for (int r = 0; r < 6; ++r) sum[r] += lq[r];
  }
  std::vector<float> expected(6);
  for (int r = 0; r < 6; ++r) expected[r] = static_cast<float>(sum[r]) + lp[r];
  // The same per-pair flow values, summed in double in trial order: only the broadcast
  // evaluation may round differently (a few ulp of |log q| < 50): rtol 1e-6.
  EXPECT_TRUE(all_close((*potential)(theta).to_vector(), expected, 0, 1e-6));
  EXPECT_EQ((*potential)(theta).to_vector()[4], -kInf);

  Tensor out = Tensor::empty({6}, kCpu);
  potential->evaluate(theta, out);
  const int64_t before = detail::allocation_count();
  potential->evaluate(theta, out);
  EXPECT_EQ(detail::allocation_count(), before) << "a second call at the same batch";
}

// The gradient w.r.t. theta: per trial, the flow's own condition gradient (its backward is
// gradchecked in double in tests/gradcheck), summed over the trials, plus the prior's; 0
// outside the support. The flow's parameter gradients are left as they were.
TEST(LikelihoodPotential, GradientIsTheSumOverTrialsOfTheFlowsConditionGradient) {
  auto flow = gaussian_flow(3, 2, 0.1f, 1.2f);
  Generator g(3);
  Tensor p = flow->parameters();
  p.copy_(p + uniform(p.shape(), -0.2f, 0.2f, kCpu, &g));  // off the near-identity init
  const MultivariateNormal prior = MultivariateNormal::diagonal(
      Tensor::from({0.3f, -0.2f}, {2}, kCpu), Tensor::from({0.8f, 1.5f}, {2}, kCpu));
  const std::vector<float> xs = {0.2f, -0.5f, 1.0f, 0.0f, 0.3f, -1.1f, 1.4f, 0.9f, 0.2f};
  auto [potential, transform] =
      likelihood_estimator_based_potential(flow, prior, Tensor::from(xs, {3, 3}, kCpu));
  const Tensor theta = box_theta();
  flow->gradients().fill_(0.25f);
  Tensor out = Tensor::empty({6}, kCpu), grad = Tensor::empty({6, 2}, kCpu);
  potential->evaluate_with_gradient(theta, out, grad);
  EXPECT_EQ(flow->gradients().to_vector(), std::vector<float>(flow->gradients().numel(), 0.25f));
  EXPECT_TRUE(all_close(out.to_vector(), (*potential)(theta).to_vector(), 0, 1e-6))
      << "the value from the loss path equals evaluate()'s (rtol 1e-6: same pairs, -log q "
         "summed in trial order)";

  Tensor prior_grad = Tensor::empty({6, 2}, kCpu);
  prior.log_prob_gradient(theta, prior_grad);
  const std::vector<float> pg = prior_grad.to_vector();
  std::vector<double> expected(pg.begin(), pg.end());
  for (int j = 0; j < 3; ++j) {
    const Tensor xj =
        Tensor::from(std::vector<float>(xs.begin() + 3 * j, xs.begin() + 3 * j + 3), {1, 3}, kCpu);
    flow->loss(xj, theta);
    Tensor gc;
    flow->backward(Tensor::ones({6}, kCpu), nullptr, &gc);
    const std::vector<float> v = gc.to_vector();
    for (size_t i = 0; i < v.size(); ++i) expected[i] -= v[i];  // d log q = -d loss
  }
  const std::vector<float> got = grad.to_vector();
  // Same float per-pair gradients, summed in float (trial order) vs double here: a few ulp of
  // O(1-10) terms: 1e-5 absolute plus 1e-5 relative.
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], expected[i], 1e-5 * (1.0 + std::fabs(expected[i]))) << i;

  // A box prior: -inf and a zero gradient outside its support.
  auto [boxed, box_tf] = likelihood_estimator_based_potential(
      flow, BoxUniform(-2.0f, 2.0f, 2, kCpu), Tensor::from(xs, {3, 3}, kCpu));
  boxed->evaluate_with_gradient(theta, out, grad);
  const std::vector<float> o = out.to_vector(), gb = grad.to_vector();
  EXPECT_EQ(o[4], -kInf);
  EXPECT_EQ(gb[8], 0.0f);
  EXPECT_EQ(gb[9], 0.0f);
  EXPECT_NE(gb[0], 0.0f) << "inside the box the flow's term remains";
  const int64_t before = detail::allocation_count();
  boxed->evaluate_with_gradient(theta, out, grad);
  EXPECT_EQ(detail::allocation_count(), before) << "a second gradient call at the same batch";
}

TEST(Potentials, BuildersTakingAFlowByValueKeepTheirOwnCopy) {
  auto flow = gaussian_flow(2, 3, 0.2f, 0.9f);
  const BoxUniform prior(-2.0f, 2.0f, 2, kCpu);
  auto [shared, tf_shared] = posterior_estimator_based_potential(flow, prior, row3());
  auto [copied, tf_copied] = posterior_estimator_based_potential(*flow, prior, row3());
  const Tensor theta = box_theta();
  const std::vector<float> before = (*shared)(theta).to_vector();
  EXPECT_EQ((*copied)(theta).to_vector(), before);  // the same flow, the same program: same bits
  Tensor p = flow->parameters();
  p.copy_(p + 0.5f);  // "later training" of the caller's flow
  EXPECT_NE((*shared)(theta).to_vector(), before) << "the shared potential sees the new weights";
  EXPECT_EQ((*copied)(theta).to_vector(), before) << "the copy must not";
  auto [lik, tf_lik] = likelihood_estimator_based_potential(
      *flow, BoxUniform(-2.0f, 2.0f, 3, kCpu), Tensor::from({0.1f, 0.2f}, {1, 2}, kCpu));
  EXPECT_EQ(lik->dim(), 3);
}

TEST(Potentials, ErrorsNameTheProblem) {
  auto flow = gaussian_flow(2, 3, 0.2f, 0.9f);
  const BoxUniform prior(-2.0f, 2.0f, 2, kCpu);
  std::shared_ptr<Potential> potential;
  ThetaTransform transform;
  std::tie(potential, transform) = posterior_estimator_based_potential(flow, prior, Tensor());
  Tensor out = Tensor::empty({6}, kCpu);
  EXPECT_TRUE(contains(error_of([&] { potential->evaluate(box_theta(), out); }), "set_x"));
  EXPECT_TRUE(contains(error_of([&] { potential->set_x(Tensor::zeros({2}, kCpu)); }),
                       "x_o has shape (2,)"));
  EXPECT_TRUE(contains(error_of([&] {
                         potential->set_x(Tensor::from({0.0f, NAN, 1.0f}, {3}, kCpu));
                       }),
                       "NaN"));
  EXPECT_TRUE(contains(error_of([&] {
                         potential->set_x(Tensor::zeros({2, 3}, kCpu));
                       }),
                       "one observation"));
  potential->set_x(row3());
  EXPECT_TRUE(contains(error_of([&] {
                         potential->evaluate(Tensor::zeros({6, 3}, kCpu), out);
                       }),
                       "3 columns"));
  EXPECT_TRUE(contains(error_of([&] {
                         potential->evaluate(Tensor::zeros({2, 3, 2}, kCpu), out);
                       }),
                       "(M, 2)"));
  Tensor wrong = Tensor::empty({5}, kCpu);
  EXPECT_TRUE(
      contains(error_of([&] { potential->evaluate(box_theta(), wrong); }), "out has shape (5,)"));
  Tensor grad = Tensor::empty({6, 3}, kCpu);
  EXPECT_TRUE(contains(error_of([&] { potential->evaluate_with_gradient(box_theta(), out, grad); }),
                       "grad"));
  EXPECT_TRUE(contains(error_of([&] {
                         posterior_estimator_based_potential(flow, BoxUniform(0, 1, 3, kCpu),
                                                             row3());
                       }),
                       "the prior has 3 dimensions"));
  auto [likelihood, tf] =
      likelihood_estimator_based_potential(gaussian_flow(3, 2, 0.0f, 1.0f), prior, Tensor());
  EXPECT_TRUE(contains(error_of([&, &likelihood = likelihood] {
                         likelihood->set_x(Tensor::zeros({4, 2}, kCpu));
                       }),
                       "x_o has shape (4, 2)"));
}

// DirectPosterior shares its potential: the unnormalised masked log q at the default x.
TEST(Potentials, DirectPosteriorExposesItsPotential) {
  auto flow = gaussian_flow(2, 3, 0.2f, 0.9f);
  DirectPosterior posterior(flow, BoxUniform(-2.0f, 2.0f, 2, kCpu));
  posterior.set_default_x(row3());
  LogProbOptions raw;
  raw.norm_posterior = false;
  EXPECT_EQ((*posterior.potential())(box_theta()).to_vector(),
            posterior.log_prob(box_theta(), Tensor(), raw).to_vector());
}

}  // namespace
}  // namespace cusbi
