// DirectPosterior densities: log_prob with the leakage correction (sbi's acceptance-rate
// estimate of Z) and its cache for the default x, log_prob_batched with one Z per observation,
// and map()'s cache, gradient bookkeeping, ascent and allocation-free iterations.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "host/allocation_counter.hpp"
#include "unit/direct_posterior_fixtures.hpp"

namespace cusbi {
namespace {

using namespace direct_posterior_test;
using testing::contains;
using testing::error_of;

// log_prob = log q - log Z inside the (closed) box, -inf outside; Z is the acceptance rate.
TEST(DirectPosteriorTest, LogProbMasksTheSupportAndSubtractsLogZ) {
  auto flow = gaussian_flow(2, 2, 0.0f, 1.0f);
  const std::vector<float> low{-1.0f, -0.8f}, high{1.2f, 1.0f};
  DirectPosterior posterior(flow, BoxUniform(low, high, kCpu));
  const Tensor x = row({0.3f, 0.1f});
  posterior.set_default_x(x);
  // Inside, on the upper edge (in sbi's closed support), and outside in each dimension.
  const Tensor theta =
      Tensor::from({0.0f, 0.0f, 1.2f, 1.0f, -1.01f, 0.0f, 0.0f, 1.01f}, {4, 2}, kCpu);
  LogProbOptions raw;
  raw.norm_posterior = false;
  const std::vector<float> unnorm = posterior.log_prob(theta, Tensor(), raw).to_vector();
  const std::vector<float> flow_lp = flow->log_prob(theta, x).to_vector();
  EXPECT_EQ(unnorm[0], flow_lp[0]);
  EXPECT_EQ(unnorm[1], flow_lp[1]);
  EXPECT_EQ(unnorm[2], -INFINITY);
  EXPECT_EQ(unnorm[3], -INFINITY);

  const std::vector<float> lp = posterior.log_prob(theta).to_vector();
  const float z = posterior.leakage_correction(x);  // the cached value log_prob used
  EXPECT_FLOAT_EQ(lp[0], flow_lp[0] - std::log(z));
  EXPECT_FLOAT_EQ(lp[1], flow_lp[1] - std::log(z));
  EXPECT_EQ(lp[2], -INFINITY);
  const DirectStats ref = direct_stats(*flow, x, low, high, 200000, 7);
  // Z from 10,000 accepted samples: relative standard error sqrt((1 - Z) / 10,000); 4 sigma,
  // plus the reference's binomial error.
  EXPECT_NEAR(
      z, ref.fraction,
      4.0 * (z * std::sqrt((1 - z) / 1e4) + std::sqrt(ref.fraction * (1 - ref.fraction) / 2e5)));
}

// Z is cached for the default x only: recomputing draws from the default generator, so its
// offset shows whether a call sampled.
TEST(DirectPosteriorTest, LeakageFactorIsCachedForTheDefaultXOnly) {
  DirectPosterior posterior(gaussian_flow(1, 1, 0.0f, 1.0f), BoxUniform(-1.0f, 1.0f, 1, kCpu));
  Generator& g = default_generator();
  const Tensor x1 = row({0.2f}), x2 = row({0.4f});
  posterior.set_default_x(x1);
  const int64_t num = 500;
  uint64_t offset = g.offset();
  const float z1 = posterior.leakage_correction(row({0.2f}), num);  // equal values: the default
  EXPECT_GT(g.offset(), offset);
  offset = g.offset();
  EXPECT_EQ(posterior.leakage_correction(x1, num), z1);
  LogProbOptions lp;
  lp.num_rejection_samples = num;
  posterior.log_prob(Tensor::zeros({3, 1}, kCpu), Tensor(), lp);
  EXPECT_EQ(g.offset(), offset) << "the cached factor must be reused";
  posterior.leakage_correction(x1, num, /*force_update=*/true);
  EXPECT_GT(g.offset(), offset);
  offset = g.offset();
  posterior.leakage_correction(x2, num);
  EXPECT_GT(g.offset(), offset);
  offset = g.offset();
  posterior.leakage_correction(x2, num);
  EXPECT_GT(g.offset(), offset) << "another x is never cached";
  offset = g.offset();
  posterior.set_default_x(x1);  // clears the cache even for the same values
  posterior.leakage_correction(x1, num);
  EXPECT_GT(g.offset(), offset);
}

TEST(DirectPosteriorTest, BatchedLogProbUsesEachObservationsZ) {
  auto flow = trained_flow_1d();
  const std::vector<float> low{-1.0f}, high{1.0f};
  DirectPosterior posterior(flow, BoxUniform(low, high, kCpu));
  const Tensor xs = Tensor::from({-1.3f, 0.0f, 1.3f}, {3, 1}, kCpu);
  posterior.set_default_x(xs.slice_rows(2, 3));
  const Tensor theta = Tensor::from({-0.5f, 0.1f, 0.9f, 0.2f, -0.7f, 1.5f}, {2, 3, 1}, kCpu);
  LogProbOptions raw;
  raw.norm_posterior = false;
  const std::vector<float> unnorm = posterior.log_prob_batched(theta, xs, raw).to_vector();
  const std::vector<float> flow_lp = flow->log_prob(theta, xs).to_vector();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(unnorm[i], flow_lp[i]) << i;
  EXPECT_EQ(unnorm[5], -INFINITY);  // 1.5 lies outside the box

  const std::vector<float> lp = posterior.log_prob_batched(theta, xs).to_vector();
  const float z_default = posterior.leakage_correction(posterior.default_x());
  for (int64_t b = 0; b < 3; ++b) {
    const double log_z = flow_lp[b] - lp[b];  // the same for both rows of a column
    if (b < 2) {  // (the second row's theta of the last column lies outside the box)
      EXPECT_NEAR(flow_lp[3 + b] - lp[3 + b], log_z, 1e-5) << b;
    }
    const DirectStats ref = direct_stats(*flow, xs.slice_rows(b, b + 1), low, high, 100000, 70 + b);
    const double z = std::exp(log_z);
    // Relative standard error of Z from 10,000 accepted samples, and the reference's; 4 sigma.
    EXPECT_NEAR(
        z, ref.fraction,
        4.0 * (z * std::sqrt((1 - z) / 1e4) + std::sqrt(ref.fraction * (1 - ref.fraction) / 1e5)))
        << "observation " << b;
  }
  EXPECT_NEAR(flow_lp[2] - lp[2], std::log(z_default), 1e-6) << "the default x's cached Z";
}

TEST(DirectPosteriorTest, MapIsCachedAndLeavesTheFlowsGradientsAlone) {
  auto flow = gaussian_flow(2, 2, 0.3f, 0.8f);
  DirectPosterior posterior(flow, BoxUniform(-1.0f, 1.0f, 2, kCpu));
  posterior.set_default_x(row({0.0f, 0.0f}));
  flow->gradients().fill_(0.25f);  // a caller's accumulated gradients
  MapOptions options;
  options.num_iter = 60;
  options.num_init_samples = 100;
  options.num_to_optimize = 10;
  Generator& g = default_generator();
  uint64_t offset = g.offset();
  const Tensor map = posterior.map(options);
  EXPECT_GT(g.offset(), offset);  // inits drawn from the posterior
  EXPECT_EQ(map.shape(), (Shape{1, 2}));
  EXPECT_TRUE(all_inside(map.to_vector(), 2, {-1, -1}, {1, 1}));
  const std::vector<float> grads = flow->gradients().to_vector();
  EXPECT_TRUE(std::all_of(grads.begin(), grads.end(), [](float v) { return v == 0.25f; }));

  offset = g.offset();
  EXPECT_EQ(posterior.map(options).to_vector(), map.to_vector());
  EXPECT_EQ(g.offset(), offset) << "a cached MAP needs no samples";
  options.force_update = true;
  posterior.map(options);
  EXPECT_GT(g.offset(), offset);
  offset = g.offset();
  options.force_update = false;
  posterior.set_default_x(row({0.0f, 0.0f}));
  posterior.map(options);
  EXPECT_GT(g.offset(), offset) << "set_default_x clears the MAP";
}

// Gradient ascent climbs the potential; with no iterations the best init comes back (sbi would
// apply T^-1 to the constrained point here, see host/posteriors/direct_map.cpp).
TEST(DirectPosteriorTest, MapClimbsFromTheBestInits) {
  auto flow = gaussian_flow(2, 2, 0.3f, 0.8f);
  DirectPosterior posterior(flow, BoxUniform(-1.0f, 1.0f, 2, kCpu));
  const Tensor x = row({0.0f, 0.0f});
  posterior.set_default_x(x);
  const Tensor init = Tensor::from({-0.9f, -0.9f, 0.9f, -0.9f, -0.8f, 0.8f}, {3, 2}, kCpu);
  LogProbOptions raw;
  raw.norm_posterior = false;
  const std::vector<float> init_lp = posterior.log_prob(init, Tensor(), raw).to_vector();
  const int64_t best = std::max_element(init_lp.begin(), init_lp.end()) - init_lp.begin();
  MapOptions options;
  options.init = init;
  options.num_iter = 0;
  EXPECT_TRUE(testing::all_close(posterior.map(options), init.slice_rows(best, best + 1), 1e-5, 0));
  options.num_iter = 500;
  options.force_update = true;
  const Tensor map = posterior.map(options);
  const float map_lp = posterior.log_prob(map, Tensor(), raw).item();
  // 500 Adam steps of 0.01 in z move each point far enough to gain well over a nat from the
  // box corners towards the mode near 0.3.
  EXPECT_GT(map_lp, init_lp[best] + 1.0f);
  // The result is a local maximum: steps of 0.02 in any direction do not improve it by more
  // than 0.01 nats (Adam at lr 0.01 keeps jittering by about its step size in z; a point where
  // the potential still has a slope above 0.5 would fail).
  const std::vector<float> m = map.to_vector();
  for (int j = 0; j < 2; ++j)
    for (float step : {-0.02f, 0.02f}) {
      std::vector<float> moved = m;
      moved[j] += step;
      EXPECT_LE(posterior.log_prob(row(moved), Tensor(), raw).item(), map_lp + 1e-2f);
    }
}

// map()'s iterations allocate nothing: runs of 5 and 105 iterations from the same inits (so no
// sampling) allocate exactly as much, all of it in the setup (z, grad, Adam's moments, the
// potential's first call at this batch).
TEST(DirectPosteriorTest, MapIterationsAllocateNothing) {
  auto flow = gaussian_flow(2, 2, 0.3f, 0.8f);
  DirectPosterior posterior(flow, BoxUniform(-1.0f, 1.0f, 2, kCpu));
  posterior.set_default_x(row({0.0f, 0.0f}));
  MapOptions options;
  options.init = Tensor::from({-0.9f, -0.9f, 0.9f, -0.9f, -0.8f, 0.8f}, {3, 2}, kCpu);
  options.force_update = true;
  options.save_best_every = 1000;  // the best-so-far check runs at the first and last iteration
  auto allocations = [&](int64_t iterations) {
    options.num_iter = iterations;
    const int64_t before = detail::allocation_count();
    posterior.map(options);
    return detail::allocation_count() - before;
  };
  allocations(5);  // sizes the potential's and the flow's workspaces
  EXPECT_EQ(allocations(105), allocations(5));
}

}  // namespace
}  // namespace cusbi
