// Random numbers on the CPU: reproducibility (seeds, generator offsets, the default generator)
// and distribution checks whose tolerances come from the Monte Carlo error of the statistic
// (5 standard errors, or a KS critical value at alpha = 0.001). Seeds are fixed, so the checks
// are deterministic; the power test shows that a wrong sampler would fail them.
#include <algorithm>
#include <cmath>

#include "support/test_support.hpp"

namespace cusbi {
namespace {

const Device kCpu = Device::cpu();

struct Moments {
  double mean, var;
};

Moments moments(const std::vector<float>& v) {
  double s = 0, s2 = 0;
  for (float x : v) s += x;
  const double mean = s / v.size();
  for (float x : v) s2 += (x - mean) * (x - mean);
  return {mean, s2 / (v.size() - 1)};
}

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// sqrt(n) D exceeds 1.95 with probability 0.001 under the null (Kolmogorov distribution).
double ks_critical(size_t n) { return 1.95 / std::sqrt(static_cast<double>(n)); }

TEST(Random, SameSeedSameNumbers) {
  Generator g1(42), g2(42);
  EXPECT_EQ(rand({1000}, kCpu, &g1).to_vector(), rand({1000}, kCpu, &g2).to_vector());
  EXPECT_EQ(randn({1000}, kCpu, &g1).to_vector(), randn({1000}, kCpu, &g2).to_vector());
}

TEST(Random, DifferentSeedsDiffer) {
  Generator g1(1), g2(2);
  const auto a = randn({1000}, kCpu, &g1).to_vector(), b = randn({1000}, kCpu, &g2).to_vector();
  int equal = 0;
  for (size_t i = 0; i < a.size(); ++i) equal += a[i] == b[i];
  EXPECT_LE(equal, 1);  // two independent floats coincide with probability ~2^-24
}

TEST(Random, DrawsAdvanceTheOffsetAndSplitConsistently) {
  Generator g(7);
  EXPECT_EQ(g.offset(), 0u);
  const auto first = rand({3, 4}, kCpu, &g).to_vector();
  EXPECT_EQ(g.offset(), 12u);
  const auto second = rand({5}, kCpu, &g).to_vector();
  EXPECT_EQ(g.offset(), 17u);
  EXPECT_NE(first[0], second[0]);  // the second draw did not restart the stream
  // Counter-based: 12 then 5 numbers are the same as 17 at once.
  Generator whole(7);
  const auto all = rand({17}, kCpu, &whole).to_vector();
  EXPECT_TRUE(std::equal(first.begin(), first.end(), all.begin()));
  EXPECT_TRUE(std::equal(second.begin(), second.end(), all.begin() + 12));
  g.manual_seed(7);
  EXPECT_EQ(g.offset(), 0u);
  EXPECT_EQ(rand({17}, kCpu, &g).to_vector(), all);
}

TEST(Random, DefaultGeneratorFollowsManualSeed) {
  manual_seed(123);
  EXPECT_EQ(default_generator().seed(), 123u);
  const auto a = randn({64}, kCpu).to_vector();
  EXPECT_EQ(default_generator().offset(), 64u);
  manual_seed(123);
  EXPECT_EQ(randn({64}, kCpu).to_vector(), a);
  Generator own(123);
  EXPECT_EQ(randn({64}, kCpu, &own).to_vector(), a);  // same function of (seed, offset)
}

TEST(Random, LikeVariantsKeepShapeAndDevice) {
  Generator g(3);
  const Tensor like = Tensor::zeros({4, 2}, kCpu);
  const Tensor r = rand_like(like, &g), n = randn_like(like, &g);
  EXPECT_EQ(r.shape(), like.shape());
  EXPECT_EQ(n.shape(), like.shape());
  EXPECT_TRUE(r.device().is_cpu());
  EXPECT_EQ(g.offset(), 16u);
  EXPECT_EQ(rand({0}, kCpu, &g).numel(), 0);
  EXPECT_EQ(g.offset(), 16u);
}

TEST(Random, UniformRangeAndErrors) {
  Generator g(5);
  for (float x : uniform({10000}, -2.0f, 3.0f, kCpu, &g).to_vector()) {
    ASSERT_GE(x, -2.0f);
    ASSERT_LT(x, 3.0f);
  }
  for (float x : rand({10000}, kCpu, &g).to_vector()) {
    ASSERT_GE(x, 0.0f);
    ASSERT_LT(x, 1.0f);
  }
  EXPECT_EQ(uniform({3}, 2.0f, 2.0f, kCpu, &g).to_vector(), std::vector<float>(3, 2.0f));
  EXPECT_THROW(uniform({3}, 1.0f, 0.0f, kCpu, &g), Error);
}

// n = 1e6. U(0,1): sd of the mean sqrt(1/12/n) = 2.9e-4; sd of the sample variance
// sqrt((mu4 - sigma^4)/n) = sqrt((1/80 - 1/144)/n) = 7.5e-5. Tolerances are 5 sd.
TEST(Random, UniformMoments) {
  Generator g(11);
  const Moments m = moments(rand({1000000}, kCpu, &g).to_vector());
  EXPECT_NEAR(m.mean, 0.5, 5 * 2.9e-4);
  EXPECT_NEAR(m.var, 1.0 / 12.0, 5 * 7.5e-5);
}

// n = 1e6. N(0,1): sd of the mean 1e-3, of the sample variance sqrt(2/n) = 1.41e-3; 5 sd.
TEST(Random, NormalMoments) {
  Generator g(12);
  const Moments m = moments(randn({1000000}, kCpu, &g).to_vector());
  EXPECT_NEAR(m.mean, 0.0, 5 * 1e-3);
  EXPECT_NEAR(m.var, 1.0, 5 * 1.41e-3);
}

// The tails, which KS hardly sees: P(|z| > 3) = 0.0026998; with n = 1e6 the count has
// sd sqrt(n p (1 - p)) = 51.9, tolerance 5 sd. Lag-1 correlation has sd 1/sqrt(n) = 1e-3, 5 sd.
TEST(Random, NormalTailsAndIndependence) {
  Generator g(13);
  const auto v = randn({1000000}, kCpu, &g).to_vector();
  double beyond = 0, lag = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    beyond += std::fabs(v[i]) > 3.0f;
    if (i + 1 < v.size()) lag += static_cast<double>(v[i]) * v[i + 1];
  }
  EXPECT_NEAR(beyond, 2699.8, 5 * 51.9);
  EXPECT_NEAR(lag / (v.size() - 1), 0.0, 5e-3);
}

TEST(Random, KolmogorovSmirnov) {
  constexpr size_t kN = 100000;
  Generator g(14);
  const auto n = randn({kN}, kCpu, &g).to_vector();
  const auto u = rand({kN}, kCpu, &g).to_vector();
  EXPECT_LT(testing::ks_distance(n, normal_cdf), ks_critical(kN));
  EXPECT_LT(testing::ks_distance(u, [](double x) { return std::clamp(x, 0.0, 1.0); }), ks_critical(kN));
  // Power: a sampler 10% too wide (D ~ 0.023) or shifted by 0.05 sd (D ~ 0.02) must fail.
  std::vector<float> wide = n, shifted = n;
  for (float& x : wide) x *= 1.1f;
  for (float& x : shifted) x += 0.05f;
  EXPECT_GT(testing::ks_distance(wide, normal_cdf), ks_critical(kN));
  EXPECT_GT(testing::ks_distance(shifted, normal_cdf), ks_critical(kN));
}

}  // namespace
}  // namespace cusbi
