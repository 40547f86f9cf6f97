// Prior samplers against their analytic moments: 200k draws with fixed seeds, tolerances of 5
// Monte Carlo standard errors (a false failure has probability ~6e-7 per statistic) and KS
// distances at alpha = 0.001. Each test also shows that a plausible wrong sampler (L^T instead
// of L; the box stretched by 1%) would fail the same checks, so none of them can pass vacuously.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "support/test_support.hpp"

namespace cusbi {
namespace {

const Device kCpu = Device::cpu();
constexpr int64_t kDraws = 200000;
constexpr double kSigmas = 5.0;

const double kKsCritical = 1.95 / std::sqrt(double(kDraws));

std::vector<double> column(const std::vector<float>& s, int64_t dim, int64_t d) {
  std::vector<double> c;
  for (size_t i = d; i < s.size(); i += dim) c.push_back(s[i]);
  return c;
}

// Sample covariance (unbiased) of the rows of s (n, dim).
std::vector<double> covariance(const std::vector<float>& s, int64_t dim,
                               std::vector<double>& mean) {
  const double n = static_cast<double>(s.size() / dim);
  mean.assign(dim, 0.0);
  for (size_t i = 0; i < s.size(); ++i) mean[i % dim] += s[i] / n;
  std::vector<double> cov(dim * dim, 0.0);
  for (size_t r = 0; r < s.size() / dim; ++r)
    for (int64_t i = 0; i < dim; ++i)
      for (int64_t j = 0; j < dim; ++j)
        cov[i * dim + j] += (s[r * dim + i] - mean[i]) * (s[r * dim + j] - mean[j]) / (n - 1);
  return cov;
}

// Largest |estimate - truth| in units of its standard error: mean_i has se sqrt(C_ii / n), the
// sample covariance C_ij has se sqrt((C_ii C_jj + C_ij^2) / n) for Gaussian data.
double worst_z_score(const std::vector<float>& s, const std::vector<double>& mu,
                     const std::vector<double>& c, int64_t dim) {
  std::vector<double> mean;
  const std::vector<double> cov = covariance(s, dim, mean);
  const double n = static_cast<double>(s.size() / dim);
  double worst = 0;
  for (int64_t i = 0; i < dim; ++i) {
    worst = std::max(worst, std::fabs(mean[i] - mu[i]) / std::sqrt(c[i * dim + i] / n));
    for (int64_t j = 0; j < dim; ++j) {
      const double se =
          std::sqrt((c[i * dim + i] * c[j * dim + j] + c[i * dim + j] * c[i * dim + j]) / n);
      worst = std::max(worst, std::fabs(cov[i * dim + j] - c[i * dim + j]) / se);
    }
  }
  return worst;
}

// Full, strongly correlated covariance (correlations 0.6, -0.55, 0.3), unequal scales.
TEST(DistributionsStats, MultivariateNormalMomentsAndMarginals) {
  const std::vector<double> mu = {0.5, -1.0, 2.0};
  const std::vector<double> c = {2.0, 0.6, -0.55, 0.6, 0.5, 0.15, -0.55, 0.15, 0.5};
  const MultivariateNormal prior(
      Tensor::from({0.5f, -1.0f, 2.0f}, {3}, kCpu),
      Tensor::from(std::vector<float>(c.begin(), c.end()), {3, 3}, kCpu));
  Generator g(2024);
  const std::vector<float> s = prior.sample({kDraws}, &g).to_vector();
  const double z = worst_z_score(s, mu, c, 3);
  std::printf("[ measured ] MVN worst |z| of mean/cov entries: %.2f (limit %.1f)\n", z, kSigmas);
  EXPECT_LT(z, kSigmas);
  for (int64_t d = 0; d < 3; ++d) {
    const double m = mu[d], sd = std::sqrt(c[d * 3 + d]);
    const double ks = testing::ks_distance(column(s, 3, d), [&](double x) {
      return 0.5 * std::erfc(-(x - m) / (sd * std::sqrt(2.0)));
    });
    EXPECT_LT(ks, kKsCritical) << "dimension " << d;
  }
  // Power: the same z through L^T (a transposed factor) has covariance L^T L != C.
  Generator again(2024);
  const std::vector<float> zs = randn({kDraws, 3}, kCpu, &again).to_vector();
  const std::vector<float> l = prior.scale_tril().to_vector();
  std::vector<float> wrong(zs.size());
  for (int64_t r = 0; r < kDraws; ++r)
    for (int64_t i = 0; i < 3; ++i) {
      double acc = mu[i];
      for (int64_t j = i; j < 3; ++j) acc += double(l[j * 3 + i]) * zs[r * 3 + j];
      wrong[r * 3 + i] = float(acc);
    }
  EXPECT_GT(worst_z_score(wrong, mu, c, 3), 4 * kSigmas);
}

struct BoxStats {
  double worst_z = 0, worst_ks = 0;
  bool in_range = true, edges_reached = true;
};

// Mean (se w / sqrt(12 n)), variance (se w^2 sqrt(1/80 - 1/144) / sqrt(n), from the uniform's
// fourth central moment w^4 / 80), a KS test per dimension, every draw in [low, high), and the
// min / max within 15 w / n of the edges (missed with probability e^-15 each).
BoxStats box_stats(const std::vector<float>& s, const std::vector<double>& low,
                   const std::vector<double>& high) {
  BoxStats out;
  const int64_t dim = static_cast<int64_t>(low.size());
  const double n = static_cast<double>(s.size() / dim);
  for (int64_t d = 0; d < dim; ++d) {
    const std::vector<double> v = column(s, dim, d);
    const double w = high[d] - low[d];
    double mean = 0, var = 0;
    for (double x : v) mean += x / n;
    for (double x : v) var += (x - mean) * (x - mean) / (n - 1);
    out.worst_z =
        std::max(out.worst_z, std::fabs(mean - (low[d] + high[d]) / 2) / (w / std::sqrt(12 * n)));
    const double var_se = w * w * std::sqrt(1.0 / 80 - 1.0 / 144) / std::sqrt(n);
    out.worst_z = std::max(out.worst_z, std::fabs(var - w * w / 12) / var_se);
    out.worst_ks =
        std::max(out.worst_ks,
                 testing::ks_distance(v, [&](double x) { return std::clamp((x - low[d]) / w, 0.0, 1.0); }));
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    out.in_range = out.in_range && *lo >= low[d] && *hi < high[d];
    out.edges_reached =
        out.edges_reached && *lo - low[d] < 15 * w / n && high[d] - *hi < 15 * w / n;
  }
  return out;
}

TEST(DistributionsStats, BoxUniformMomentsAndRange) {
  const std::vector<double> low = {-3.0, 0.5, 10.0}, high = {3.0, 2.0, 10.25};
  const BoxUniform prior({-3.0f, 0.5f, 10.0f}, {3.0f, 2.0f, 10.25f}, kCpu);
  Generator g(77);
  const std::vector<float> s = prior.sample({kDraws}, &g).to_vector();
  const BoxStats good = box_stats(s, low, high);
  std::printf("[ measured ] box worst |z| %.2f (limit %.1f), worst KS %.5f (limit %.5f)\n",
              good.worst_z, kSigmas, good.worst_ks, kKsCritical);
  EXPECT_LT(good.worst_z, kSigmas);
  EXPECT_LT(good.worst_ks, kKsCritical);
  EXPECT_TRUE(good.in_range);
  EXPECT_TRUE(good.edges_reached);
  // Power: a box 1% too wide (centred) fails the variance and the range checks.
  std::vector<float> wide(s);
  for (size_t i = 0; i < s.size(); ++i) {
    const double mid = (low[i % 3] + high[i % 3]) / 2;
    wide[i] = float(mid + 1.01 * (s[i] - mid));
  }
  const BoxStats bad = box_stats(wide, low, high);
  EXPECT_GT(bad.worst_z, kSigmas);
  EXPECT_FALSE(bad.in_range);
}

}  // namespace
}  // namespace cusbi
