// simulate_for_sbi and random_permutation: batching (number and size of simulator calls, row
// order kept), output shapes and device, determinism from the generator, errors that name the
// problem, and the permutation's invariants.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using testing::contains;
using testing::error_of;

const Device kCpu = Device::cpu();

// x = 2 theta, recording the row count of every call.
Simulator doubling(std::vector<int64_t>* calls) {
  return [calls](const Tensor& theta) {
    calls->push_back(theta.size(0));
    return theta * 2.0f;
  };
}

TEST(SimulateForSbi, CallsTheSimulatorInBatchesAndKeepsRowOrder) {
  BoxUniform prior(-1.0f, 1.0f, 3, kCpu);
  std::vector<int64_t> calls;
  Generator g(7);
  auto [theta, x] =
      simulate_for_sbi(doubling(&calls), prior, 20,
                       {.simulation_batch_size = 7, .show_progress = false, .generator = &g});
  EXPECT_EQ(calls, (std::vector<int64_t>{7, 7, 6}));  // ceil(20 / 7) calls
  EXPECT_EQ(theta.shape(), (Shape{20, 3}));
  EXPECT_EQ(x.shape(), (Shape{20, 3}));
  EXPECT_EQ(theta.device(), kCpu);
  EXPECT_EQ(x.device(), kCpu);
  // Doubling is exact in float, so row i of x must be exactly twice row i of theta.
  EXPECT_EQ(x.to_vector(), (theta * 2.0f).to_vector());
  // theta is the prior's draw from the given generator: 20 x 3 numbers consumed.
  Generator again(7);
  EXPECT_EQ(theta.to_vector(), prior.sample({20}, &again).to_vector());
  EXPECT_EQ(g.offset(), again.offset());
}

TEST(SimulateForSbi, BatchSizeZeroOrLargerThanNRunsOneCall) {
  BoxUniform prior(0.0f, 1.0f, 2, kCpu);
  for (int64_t batch : {int64_t{0}, int64_t{1000}}) {
    std::vector<int64_t> calls;
    auto [theta, x] = simulate_for_sbi(doubling(&calls), prior, 5,
                                       {.simulation_batch_size = batch, .show_progress = false});
    EXPECT_EQ(calls, (std::vector<int64_t>{5})) << "batch " << batch;
    EXPECT_EQ(x.shape(), (Shape{5, 2}));
  }
}

TEST(SimulateForSbi, DefaultBatchIsAThousandRows) {
  BoxUniform prior(0.0f, 1.0f, 1, kCpu);
  std::vector<int64_t> calls;
  simulate_for_sbi(doubling(&calls), prior, 2500, {.show_progress = false});
  EXPECT_EQ(calls, (std::vector<int64_t>{1000, 1000, 500}));
}

TEST(SimulateForSbi, OutputWidthMayDifferFromThetaAndProgressDoesNotChangeResults) {
  BoxUniform prior(-2.0f, 2.0f, 2, kCpu);
  // x = (theta_0 + theta_1, theta_0 - theta_1, 1): three outputs from two parameters.
  Simulator sim = [](const Tensor& theta) {
    const std::vector<float> t = theta.to_vector();
    std::vector<float> out;
    for (int64_t i = 0; i < theta.size(0); ++i)
      out.insert(out.end(), {t[2 * i] + t[2 * i + 1], t[2 * i] - t[2 * i + 1], 1.0f});
    return Tensor::from(out, {theta.size(0), 3}, theta.device());
  };
  Generator g1(3), g2(3);
  auto [theta1, x1] = simulate_for_sbi(
      sim, prior, 11, {.simulation_batch_size = 4, .show_progress = true, .generator = &g1});
  auto [theta2, x2] = simulate_for_sbi(
      sim, prior, 11, {.simulation_batch_size = 4, .show_progress = false, .generator = &g2});
  EXPECT_EQ(x1.shape(), (Shape{11, 3}));
  EXPECT_EQ(theta1.to_vector(), theta2.to_vector());
  EXPECT_EQ(x1.to_vector(), x2.to_vector());
}

TEST(SimulateForSbi, KeepsNonFiniteOutputsForTheTrainerToExclude) {
  BoxUniform prior(0.0f, 1.0f, 1, kCpu);
  Simulator sim = [](const Tensor& theta) { return log(theta - 0.5f); };  // NaN below 0.5
  auto [theta, x] = simulate_for_sbi(sim, prior, 50, {.show_progress = false});
  EXPECT_FALSE(all_finite(x));
  EXPECT_EQ(x.shape(), (Shape{50, 1}));
}

TEST(SimulateForSbi, ZeroSimulationsCallsNothing) {
  BoxUniform prior(0.0f, 1.0f, 4, kCpu);
  std::vector<int64_t> calls;
  auto [theta, x] = simulate_for_sbi(doubling(&calls), prior, 0, {.show_progress = false});
  EXPECT_TRUE(calls.empty());
  EXPECT_EQ(theta.shape(), (Shape{0, 4}));
  EXPECT_EQ(x.shape(), (Shape{0, 0}));
}

TEST(SimulateForSbi, ErrorsNameTheProblem) {
  BoxUniform prior(0.0f, 1.0f, 2, kCpu);
  const SimulateOptions quiet{.simulation_batch_size = 3, .show_progress = false};
  EXPECT_TRUE(contains(error_of([&] { simulate_for_sbi(Simulator(), prior, 5, quiet); }),
                       "simulator is empty"));
  EXPECT_TRUE(contains(error_of([&] { simulate_for_sbi(doubling(nullptr), prior, -1, quiet); }),
                       "num_simulations is -1"));
  EXPECT_TRUE(contains(error_of([&] {
                         simulate_for_sbi(doubling(nullptr), prior, 5,
                                          {.simulation_batch_size = -2, .show_progress = false});
                       }),
                       "simulation_batch_size is -2"));
  Simulator undefined = [](const Tensor&) { return Tensor(); };
  EXPECT_TRUE(contains(error_of([&] { simulate_for_sbi(undefined, prior, 5, quiet); }),
                       "undefined tensor"));
  Simulator one_row = [](const Tensor& theta) { return theta.slice_rows(0, 1).clone(); };
  EXPECT_TRUE(contains(error_of([&] { simulate_for_sbi(one_row, prior, 5, quiet); }),
                       "for a batch of 3 parameter rows"));
  int call = 0;
  Simulator changing = [&call](const Tensor& theta) {
    return Tensor::zeros({theta.size(0), ++call == 1 ? int64_t{2} : int64_t{4}}, theta.device());
  };
  EXPECT_TRUE(
      contains(error_of([&] { simulate_for_sbi(changing, prior, 5, quiet); }), "the same shape"));
}

TEST(RandomPermutation, IsAPermutationDeterminedByTheGenerator) {
  for (int64_t n : {0, 1, 2, 7, 1000, 40000}) {  // 40000 takes the parallel draw path
    Generator a(11), b(11);
    const std::vector<int64_t> p = random_permutation(n, &a);
    EXPECT_EQ(p, random_permutation(n, &b));
    EXPECT_EQ(a.offset(), static_cast<uint64_t>(n));  // one counter per element
    std::vector<int64_t> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int64_t> iota(static_cast<size_t>(n));
    std::iota(iota.begin(), iota.end(), int64_t{0});
    EXPECT_EQ(sorted, iota) << "n " << n;
  }
  Generator g(11);
  const std::vector<int64_t> first = random_permutation(1000, &g);
  EXPECT_NE(first, random_permutation(1000, &g));  // the generator moved on
}

TEST(RandomPermutation, PositionsAreUniform) {
  // Where element 0 lands over 4000 permutations of 8: each position has p = 1/8, so a count
  // is 500 +- 21 (binomial sd); 500 +- 100 is a ~4.7 sd band per cell. An off-by-one in the
  // draw range fails it: j in [0, i) (Sattolo's cycle) never leaves 0 at position 0.
  Generator g(5);
  std::vector<int> counts(8, 0);
  for (int rep = 0; rep < 4000; ++rep) {
    const std::vector<int64_t> p = random_permutation(8, &g);
    ++counts[static_cast<size_t>(std::find(p.begin(), p.end(), 0) - p.begin())];
  }
  for (int c : counts) EXPECT_NEAR(c, 500, 100);
}

}  // namespace
}  // namespace cusbi
