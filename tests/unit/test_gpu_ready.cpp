// What keeps the GPU path free of host round-trips, checked where it runs on this machine too:
// loss() still rejects NaN/Inf inputs on the CPU (on a GPU the data is checked at intake), the
// CPU twin of rejection sampling's device compaction keeps sbi's order (the first accepted
// proposals, in proposal order), and the launch / round-trip counters stay at zero for CPU work.
#include <cmath>
#include <limits>
#include <vector>

#include "host/cpu/select.hpp"
#include "kernels/cuda_api.h"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using testing::contains;
using testing::error_of;

TEST(GpuReady, LossRejectsNonFiniteInputsOnTheCpu) {
  Generator g(3);
  const Tensor theta = randn({20, 2}, Device::cpu(), &g), x = randn({20, 2}, Device::cpu(), &g);
  NsfOptions o;
  o.num_transforms = 1;
  o.hidden_features = 8;
  NeuralSplineFlow flow = build_nsf(theta, x, o, &g);
  Tensor bad = theta.clone();
  bad[3][1].fill_(std::numeric_limits<float>::quiet_NaN());
  const std::string msg = error_of([&] { flow.loss(bad, x); });
  EXPECT_TRUE(contains(msg, "input (training data)")) << msg;
  Tensor bad_x = x.clone();
  bad_x[0][0].fill_(std::numeric_limits<float>::infinity());
  EXPECT_TRUE(contains(error_of([&] { flow.loss(theta, bad_x); }), "condition (training data)"));
  // A trainer that checked at intake turns the check off: the NaN then shows in the loss.
  flow.set_check_training_inputs(false);
  const std::vector<float> loss = flow.loss(bad, x).to_vector();
  EXPECT_TRUE(std::isnan(loss[3]));
  EXPECT_TRUE(std::isfinite(loss[2]));
}

// 5 proposals for 2 observations; column 0 draws for observation 1, column 1 for observation 0.
// Observation 1 already has 1 of its 2 rows; observation 0 has none.
TEST(GpuReady, CpuSelectKeepsTheFirstAcceptedInProposalOrder) {
  const int64_t m = 5, cols = 2, dim = 2, capacity = 2, observations = 2;
  std::vector<float> samples(m * cols * dim);
  for (size_t i = 0; i < samples.size(); ++i) samples[i] = float(i);  // row r = (i, k): 2r, 2r+1
  const std::vector<float> accept = {1, 0,                            // proposal 0: column 0 only
                                     0, 0,                            //
                                     1, 1,                            // proposal 2: both
                                     0, 1,                            // proposal 3: column 1
                                     1, 1};                           // proposal 4: both
  const std::vector<int64_t> target = {1, 0};
  std::vector<int64_t> filled = {0, 1}, counts(2, -1);
  std::vector<float> store(capacity * observations * dim, -1.0f);
  cpu::select_accepted(m, cols, dim, samples.data(), accept.data(), target.data(), capacity,
                       observations, filled.data(), store.data(), counts.data());
  EXPECT_EQ(counts, (std::vector<int64_t>{3, 3}));  // overshoot included
  EXPECT_EQ(filled, (std::vector<int64_t>{3, 4}));
  // Observation 0 (column 1): proposals 2, 3 fill rows 0, 1. Observation 1 (column 0): row 0 was
  // there already (untouched), proposal 0 fills row 1, proposals 2 and 4 overshoot.
  // store layout (capacity, observations, dim).
  const std::vector<float> want = {
      /*row 0, obs 0*/ 10, 11, /*row 0, obs 1*/ -1, -1,
      /*row 1, obs 0*/ 14, 15, /*row 1, obs 1*/ 0,  1};
  EXPECT_EQ(store, want);
  // Counting only (the leakage correction): no store, same counts.
  std::vector<int64_t> filled2 = {0, 0};
  cpu::select_accepted(m, cols, dim, samples.data(), accept.data(), target.data(), capacity,
                       observations, filled2.data(), nullptr, counts.data());
  EXPECT_EQ(counts, (std::vector<int64_t>{3, 3}));
}

TEST(GpuReady, CpuWorkLaunchesNothing) {
  const cuda::Counters before = cuda::counters();
  Generator g(1);
  const Tensor a = randn({64, 3}, Device::cpu(), &g);
  (void)sum(a * a, 0).to_vector();
  const cuda::Counters after = cuda::counters();
  EXPECT_EQ(after.launches, before.launches);
  EXPECT_EQ(after.cublas_calls, before.cublas_calls);
  EXPECT_EQ(after.host_syncs, before.host_syncs);
  if (!cuda::built_with_cuda()) EXPECT_EQ(after.launches + after.host_syncs, 0);
}

}  // namespace
}  // namespace cusbi
