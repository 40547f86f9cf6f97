// MCMCPosterior's sample_batched (sbi's ordering, spec mcmc_nre.md §1.6), map, diagnostics, and
// the transformed potential's Jacobian term against finite differences of the inverse map.
// sample_batched runs on an analytic paired potential, so each observation's samples can be
// checked against its known posterior.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using testing::CaptureWarnings;
using testing::contains;
using testing::error_of;

const Device kCpu = Device::cpu();
constexpr float kSigma = 0.1f;

// The likelihood x ~ N(theta, kSigma^2 I) with a flat prior: the potential is
// sum_j log N(x_j; theta, kSigma^2 I) + const over the iid trials x_j, or, after set_x_paired,
// row i of theta against row i of xs only. The posterior of one trial x is N(x, kSigma^2 I).
class GaussianLikelihood final : public Potential {
 public:
  explicit GaussianLikelihood(int64_t dim) : dim_(dim) {}
  int64_t dim() const override { return dim_; }
  Device device() const override { return kCpu; }
  bool has_gradient() const override { return false; }
  void set_x(const Tensor& x) override {
    x_ = x.dim() == 1 ? x.reshape({1, -1}).clone() : x.clone();
    paired_ = false;
  }
  const Tensor& x() const override { return x_; }
  bool supports_paired_x() const override { return true; }
  void set_x_paired(const Tensor& xs) override {
    x_ = xs.clone();
    paired_ = true;
  }
  void evaluate(const Tensor& theta, Tensor& out) override {
    const std::vector<float> t = theta.to_vector(), x = x_.to_vector();
    const int64_t m = theta.size(0), n = x_.size(0);
    if (paired_) ASSERT_EQ(m, n) << "paired evaluation with another row count";
    std::vector<float> v(static_cast<size_t>(m), 0.0f);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = paired_ ? i : 0; j < (paired_ ? i + 1 : n); ++j)
        for (int64_t k = 0; k < dim_; ++k) {
          const float r = (x[j * dim_ + k] - t[i * dim_ + k]) / kSigma;
          v[i] -= 0.5f * r * r;
        }
    out.copy_(Tensor::from(v, {m}, kCpu));
  }
  void evaluate_with_gradient(const Tensor&, Tensor&, Tensor&) override {
    CUSBI_FAIL("no gradient");
  }

 private:
  int64_t dim_;
  Tensor x_;
  bool paired_ = false;
};

MCMCOptions quiet(int64_t chains, int64_t warmup, Generator& generator) {
  MCMCOptions o;
  o.num_chains = chains;
  o.warmup_steps = warmup;
  o.init_strategy = "proposal";
  o.show_progress = false;
  o.generator = &generator;
  return o;
}

TEST(McmcPosteriorBatched, EachObservationGetsItsOwnChainsInSbisOrder) {
  Generator g(21);
  BoxUniform proposal(-3.0f, 3.0f, 2, kCpu);
  MCMCPosterior posterior(std::make_shared<GaussianLikelihood>(2), proposal, ThetaTransform(),
                          quiet(4, 10, g));
  const std::vector<float> obs = {0.5f, -1.0f, -1.5f, 1.0f, 2.0f, 0.0f};
  const Tensor xs = Tensor::from(obs, {3, 2}, kCpu);
  const int64_t n = 200, b = 3, c = 4;
  const Tensor s = posterior.sample_batched({n}, xs);
  ASSERT_EQ(s.shape(), (Shape{n, b, 2}));
  // B·C chains, observation-major; each observation's C chains run 50 + W + ceil(N / C) sweeps.
  const int64_t kept = (n + c - 1) / c;
  ASSERT_EQ(posterior.chains().shape(), (Shape{b * c, kept, 2}));
  EXPECT_EQ(posterior.last_run().sweeps_per_chain, 50 + 10 + kept);

  // Sample j of observation i is row j of observation i's chains taken chain-major.
  const std::vector<float> out = s.to_vector(), ch = posterior.chains().to_vector();
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < b; ++i)
      for (int64_t k = 0; k < 2; ++k)
        ASSERT_EQ(out[(j * b + i) * 2 + k], ch[((i * c + j / kept) * kept + j % kept) * 2 + k])
            << "sample " << j << " observation " << i;

  // Observation i's posterior is N(x_i, 0.1^2 I): 200 well-mixed draws (autocorrelation of a
  // few sweeps at most) give a mean standard error <= 0.015; 0.05 is > 3 of them, and a mix-up
  // of observations moves a mean by >= 1.
  for (int64_t i = 0; i < b; ++i)
    for (int64_t k = 0; k < 2; ++k) {
      double mean = 0;
      for (int64_t j = 0; j < n; ++j) mean += out[(j * b + i) * 2 + k] / double(n);
      EXPECT_NEAR(mean, obs[i * 2 + k], 0.05) << "observation " << i << " dim " << k;
    }
  // The chains of one observation are one run: diagnostics() refuses the mixed set.
  EXPECT_TRUE(contains(error_of([&] { posterior.diagnostics(); }), "sample_batched"));
}

TEST(McmcPosteriorBatched, CapsChainsAtTheSampleCountAndNeedsPairing) {
  Generator g(22);
  BoxUniform proposal(-3.0f, 3.0f, 2, kCpu);
  MCMCPosterior posterior(std::make_shared<GaussianLikelihood>(2), proposal, ThetaTransform(),
                          quiet(20, 2, g));
  const Tensor xs = Tensor::from({0.0f, 0.0f, 1.0f, 1.0f}, {2, 2}, kCpu);
  CaptureWarnings warnings;
  EXPECT_EQ(posterior.sample_batched({5}, xs).shape(), (Shape{5, 2, 2}));
  EXPECT_EQ(posterior.last_run().num_chains, 2 * 5);
  ASSERT_EQ(warnings.messages.size(), 1u);
  EXPECT_TRUE(contains(warnings.messages[0], "using 5 chains"));

  auto plain =
      potential_from_function([](const Tensor& t) { return sum(t * t, 1) * -0.5f; }, 2, kCpu);
  MCMCPosterior unpaired(plain, proposal, ThetaTransform(), quiet(2, 0, g));
  EXPECT_TRUE(
      contains(error_of([&] { unpaired.sample_batched({4}, xs); }), "cannot pair observations"));
  EXPECT_TRUE(contains(error_of([&] { posterior.sample_batched({4}, Tensor::zeros({2}, kCpu)); }),
                       "(B, C)"));
}

TEST(McmcPosteriorBatched, DiagnosticsOfWellMixedChains) {
  Generator g(23);
  BoxUniform proposal(-3.0f, 3.0f, 2, kCpu);
  MCMCPosterior posterior(std::make_shared<GaussianLikelihood>(2), proposal, ThetaTransform(),
                          quiet(8, 20, g));
  EXPECT_FALSE(error_of([&] { posterior.diagnostics(); }).empty());  // no run yet
  posterior.sample({800}, Tensor::from({0.5f, -1.0f}, {2}, kCpu));
  const Diagnostics d = posterior.diagnostics();
  // 8 chains of 100 draws of a Gaussian after 70 burn-in sweeps: split R-hat of equilibrated
  // chains is 1 + O(1/n), ~1.01; 1.05 is the usual convergence bar.
  for (const float r : d.rhat.to_vector()) EXPECT_LT(r, 1.05f);
  for (const float e : d.ess_bulk.to_vector()) EXPECT_GT(e, 200.0f);
}

// sbi's MAP on an NLE potential: gradient ascent in z from the best of the inits.
TEST(McmcPosteriorBatched, MapClimbsFromTheInitsAndIsCached) {
  Generator g(24);
  BoxUniform prior(-2.0f, 2.0f, 2, kCpu);
  const Tensor x_o = Tensor::from({0.3f, -0.2f, 0.5f}, {3}, kCpu);
  auto [potential, transform] =
      likelihood_estimator_based_potential(testing::small_flow(), prior, x_o);
  MCMCPosterior posterior(potential, prior, transform, quiet(2, 0, g));
  posterior.set_default_x(x_o);
  MapOptions o;
  o.num_iter = 100;
  o.num_to_optimize = 4;
  o.init = testing::random_tensor({16, 2}, -1.5f, 1.5f, 3);
  const Tensor map = posterior.map(o);
  ASSERT_EQ(map.shape(), (Shape{1, 2}));  // sbi's (1, D)
  float best_init = -INFINITY;
  for (const float v : (*potential)(o.init).to_vector()) best_init = std::max(best_init, v);
  const float at_map = (*potential)(map).to_vector()[0];
  // Adam with lr 0.01 for 100 steps on a smooth potential ends above its start; float noise of
  // the potential is ~1e-5.
  EXPECT_GT(at_map, best_init + 1e-3f);

  // Cached for the default x: other inits are ignored and nothing is drawn...
  MapOptions other = o;
  other.init = testing::random_tensor({16, 2}, -1.5f, 1.5f, 4);
  const uint64_t offset = g.offset();
  EXPECT_EQ(posterior.map(other).to_vector(), map.to_vector());
  EXPECT_EQ(g.offset(), offset);
  // ...until force_update recomputes, giving what a fresh posterior gives for those inits.
  other.force_update = true;
  const Tensor forced = posterior.map(other);
  MCMCPosterior fresh(potential, prior, transform, quiet(2, 0, g));
  fresh.set_default_x(x_o);
  EXPECT_EQ(forced.to_vector(), fresh.map(other).to_vector());
  EXPECT_NE(forced.to_vector(), map.to_vector());

  auto plain =
      potential_from_function([](const Tensor& t) { return sum(t * t, 1) * -0.5f; }, 2, kCpu);
  MCMCPosterior no_gradient(plain, prior, ThetaTransform(), quiet(2, 0, g));
  EXPECT_TRUE(contains(error_of([&] { no_gradient.map(o); }), "no gradient"));
}

// U(z) - potential(T^-1(z)) is log|det d theta / d z|; here checked against central differences
// of T^-1 itself rather than the closed form (test_potentials.cpp checks sbi's closed form).
TEST(McmcPosteriorBatched, TransformedPotentialAddsTheInverseMapsLogDeterminant) {
  const std::vector<float> low = {-2.0f, 0.5f}, high = {3.0f, 1.0f};
  const BoxUniform prior(low, high, kCpu);
  const ThetaTransform transform = ThetaTransform::for_prior(prior);
  auto potential = potential_from_function(
      [](const Tensor& t) { return sum(t * t, 1) * -0.5f + sum(t, 1); }, 2, kCpu);
  TransformedPotential transformed(potential, transform);
  const std::vector<float> z = {0.3f, -1.2f, -2.5f, 2.0f, 0.0f, 0.0f, 1.7f, -0.4f};
  const Tensor zt = Tensor::from(z, {4, 2}, kCpu);
  const std::vector<float> u = transformed(zt).to_vector();
  const std::vector<float> p = (*potential)(transform.inverse(zt)).to_vector();
  const double h = 1e-2;
  for (int r = 0; r < 4; ++r) {
    double log_det = 0;
    for (int k = 0; k < 2; ++k) {
      std::vector<float> plus(z.begin() + r * 2, z.begin() + r * 2 + 2), minus = plus;
      plus[k] += static_cast<float>(h);
      minus[k] -= static_cast<float>(h);
      const double tp = transform.inverse(Tensor::from(plus, {1, 2}, kCpu)).to_vector()[k];
      const double tm = transform.inverse(Tensor::from(minus, {1, 2}, kCpu)).to_vector()[k];
      // The float steps z +- h are exact to ~1e-7 relative; divide by the step actually taken.
      log_det += std::log(std::fabs((tp - tm) / (double(plus[k]) - double(minus[k]))));
    }
    // Central differences err by h^2 |theta'''| / 6 <= 2e-5 |theta'| (|theta'''| <= |theta'| for a
    // scaled sigmoid); float rounding of theta (ulp <= 2.4e-7) errs by <= 1.2e-5 in theta', at
    // most 3e-4 relative to the smallest theta' here (0.035, dim 1 at z = -2.5). So < 5e-4 in the
    // log per row; 1e-3 leaves room, while a missing or doubled Jacobian term is off by >= 1.
    EXPECT_NEAR(double(u[r]) - p[r], log_det, 1e-3) << "row " << r;
  }
}

}  // namespace
}  // namespace cusbi
