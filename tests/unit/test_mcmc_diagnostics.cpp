// cusbi::mcmc_diagnostics on synthetic chains whose answers are known: iid draws (R-hat ~ 1,
// ESS ~ the number of draws), AR(1) draws (ESS ~ S (1 - rho) / (1 + rho)), chains with different
// means (R-hat well above 1), plus the documented edge cases (constant dimension, ESS cap, odd N,
// one chain, invariance under monotone maps) and the input checks. Seeds are fixed, so each check
// is deterministic; the bands are several Monte Carlo standard errors of the estimator wide.
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "cusbi/diagnostics.hpp"
#include "host/mcmc/diagnostics_impl.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using testing::error_of;

// (C, N, D) chains of AR(1) processes x_t = rho x_{t-1} + sqrt(1 - rho^2) e_t with unit marginal
// variance (rho = 0: iid N(0, 1)), started in the stationary law; chain c is shifted by shift[c].
Tensor ar1_chains(int64_t c, int64_t n, int64_t d, double rho, uint64_t seed,
                  const std::vector<double>& shift = {}) {
  Generator gen(seed);
  const std::vector<float> e = randn({c, n, d}, Device::cpu(), &gen).to_vector();
  std::vector<float> x(e.size());
  const double scale = std::sqrt(1.0 - rho * rho);
  for (int64_t ci = 0; ci < c; ++ci)
    for (int64_t j = 0; j < d; ++j) {
      double prev = e[(ci * n) * d + j];
      for (int64_t t = 0; t < n; ++t) {
        const size_t at = static_cast<size_t>((ci * n + t) * d + j);
        if (t > 0) prev = rho * prev + scale * e[at];
        x[at] = static_cast<float>(prev + (shift.empty() ? 0.0 : shift[ci]));
      }
    }
  return Tensor::from(x, {c, n, d}, Device::cpu());
}

// Dimension j of (C, N, D) chains as the chain-major doubles the per-quantity functions take.
std::vector<double> column(const Tensor& chains, int64_t j) {
  const std::vector<float> v = chains.to_vector();
  const int64_t d = chains.size(2);
  std::vector<double> out;
  for (size_t i = static_cast<size_t>(j); i < v.size(); i += static_cast<size_t>(d))
    out.push_back(v[i]);
  return out;
}

TEST(McmcDiagnostics, IidChainsHaveRhatOneAndEssNearTheDrawCount) {
  const int64_t c = 8, n = 2000;
  const Diagnostics d = mcmc_diagnostics(ar1_chains(c, n, 3, 0.0, 11));
  ASSERT_EQ(d.rhat.shape(), Shape({3}));
  for (int64_t j = 0; j < 3; ++j) {
    // Split R-hat of converged chains is 1 + O(1/S); 0.01 is the paper's convergence threshold.
    EXPECT_GE(d.rhat.to_vector()[j], 0.99);
    EXPECT_LE(d.rhat.to_vector()[j], 1.01);
    // Each autocorrelation estimate has sd ~ 1/sqrt(S) = 0.008 and the truncated sum of a few of
    // them sets tau: over seeds the ESS estimate spreads by ~3% here, so +-15% is ~5 sd.
    EXPECT_NEAR(d.ess_bulk.to_vector()[j], c * n, 0.15 * c * n);
    EXPECT_NEAR(d.ess_tail.to_vector()[j], c * n, 0.15 * c * n);
  }
}

TEST(McmcDiagnostics, Ar1ChainsHaveEssOfTheIntegratedAutocorrelation) {
  const int64_t c = 8, n = 2000;
  const double rho = 0.9, expected = c * n * (1 - rho) / (1 + rho);  // tau = (1 + rho) / (1 - rho)
  const Diagnostics d = mcmc_diagnostics(ar1_chains(c, n, 2, rho, 12));
  for (int64_t j = 0; j < 2; ++j) {
    // tau ~ 19 sums ~40 noisy lags: over seeds the estimate spreads by ~8% (745 to 971 for
    // expected 842 in 32 tries), so +-25% is ~3 sd.
    EXPECT_NEAR(d.ess_bulk.to_vector()[j], expected, 0.25 * expected);
    EXPECT_LE(d.rhat.to_vector()[j], 1.02);  // mixed well enough: 2000 draws is 100 tau
  }
}

TEST(McmcDiagnostics, ChainsWithDifferentMeansHaveLargeRhat) {
  // Four well-mixed chains around -1, 0, 0, 1 (in units of the within-chain sd).
  const Diagnostics d = mcmc_diagnostics(ar1_chains(4, 500, 2, 0.3, 13, {-1.0, 0.0, 0.0, 1.0}));
  for (int64_t j = 0; j < 2; ++j) EXPECT_GT(d.rhat.to_vector()[j], 1.1);
  // Converged copies of the same chains are fine (so the check above is about the shift).
  const Diagnostics ok = mcmc_diagnostics(ar1_chains(4, 500, 2, 0.3, 13));
  for (int64_t j = 0; j < 2; ++j) EXPECT_LT(ok.rhat.to_vector()[j], 1.01);
}

TEST(McmcDiagnostics, ConstantDimensionGivesNanRhatAndFullEss) {
  std::vector<float> v(static_cast<size_t>(3 * 9 * 2));
  for (size_t i = 0; i < v.size(); ++i) v[i] = i % 2 ? 2.5f : static_cast<float>(i % 7);
  const Diagnostics d = mcmc_diagnostics(Tensor::from(v, {3, 9, 2}, Device::cpu()));
  EXPECT_TRUE(std::isnan(d.rhat.to_vector()[1]));  // 0 / 0, as arviz
  EXPECT_FALSE(std::isnan(d.rhat.to_vector()[0]));
  EXPECT_EQ(d.ess_bulk.to_vector()[1], 2 * 3 * 4);  // arviz: a constant input's ESS is its size
  EXPECT_EQ(d.ess_tail.to_vector()[1], 2 * 3 * 4);
}

TEST(McmcDiagnostics, AntitheticChainsHitTheEssCap) {
  // rho = -0.9: tau = 0.05 < 1 / log10(S), so tau takes the floor and ESS = S log10(S).
  const int64_t c = 4, n = 1000;
  const double s = c * n;
  const double bulk = ess_bulk(column(ar1_chains(c, n, 1, -0.9, 14), 0), c);
  EXPECT_NEAR(bulk, s * std::log10(s), 1e-9 * s);
}

TEST(McmcDiagnostics, OddDrawCountDropsTheMiddleDraw) {
  // R-hat and bulk ESS only see the split halves, so removing the middle draw changes nothing.
  const int64_t c = 3, n = 51;
  const std::vector<double> odd = column(ar1_chains(c, n, 1, 0.5, 15), 0);
  std::vector<double> even;
  for (int64_t ci = 0; ci < c; ++ci)
    for (int64_t t = 0; t < n; ++t)
      if (t != n / 2) even.push_back(odd[ci * n + t]);
  EXPECT_EQ(split_rhat(odd, c), split_rhat(even, c));
  EXPECT_EQ(ess_bulk(odd, c), ess_bulk(even, c));
  // ...while dropping another draw does change them (so the check above can fail).
  std::vector<double> other;
  for (int64_t ci = 0; ci < c; ++ci)
    for (int64_t t = 1; t < n; ++t) other.push_back(odd[ci * n + t]);
  EXPECT_NE(ess_bulk(odd, c), ess_bulk(other, c));
}

TEST(McmcDiagnostics, RankBasedDiagnosticsIgnoreMonotoneMaps) {
  const int64_t c = 4;
  const std::vector<double> x = column(ar1_chains(c, 300, 1, 0.6, 16), 0);
  // ESS uses ranks (bulk) or quantile indicators (tail) only: any increasing map leaves it.
  std::vector<double> y(x.size()), affine(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = std::exp(3.0 * x[i]);  // heavy right tail
  EXPECT_NEAR(ess_bulk(y, c), ess_bulk(x, c), 1e-9);
  EXPECT_NEAR(ess_tail(y, c), ess_tail(x, c), 1e-9);
  // R-hat also folds at the median, |x - median|, which only an affine map preserves (4x - 3 is
  // exact in double for float32 draws, so the folded ranks are exactly the same).
  for (size_t i = 0; i < x.size(); ++i) affine[i] = 4.0 * x[i] - 3.0;
  EXPECT_NEAR(split_rhat(affine, c), split_rhat(x, c), 1e-12);
  EXPECT_NE(split_rhat(y, c), split_rhat(x, c));  // the folded part sees the exp
}

TEST(McmcDiagnostics, OneChainIsSplitIntoTwoHalves) {
  const Diagnostics d = mcmc_diagnostics(ar1_chains(1, 1000, 2, 0.0, 17));
  for (int64_t j = 0; j < 2; ++j) {
    EXPECT_NEAR(d.rhat.to_vector()[j], 1.0, 0.01);
    EXPECT_NEAR(d.ess_bulk.to_vector()[j], 1000, 0.25 * 1000);  // S = 1000: ~2x the spread above
  }
  // A chain that drifts between its halves is caught by the split.
  std::vector<float> drift(200);
  for (size_t t = 0; t < drift.size(); ++t) drift[t] = static_cast<float>(t) / 50.0f;
  EXPECT_GT(mcmc_diagnostics(Tensor::from(drift, {1, 200, 1}, Device::cpu())).rhat.item(), 1.5);
}

TEST(McmcDiagnostics, FftAutocovarianceEqualsTheDirectSums) {
  // Slowly mixing chains make the ESS read autocovariances from the FFT past lag 64; lengths
  // that are and are not a power of two (zero padding must keep lags from wrapping around).
  for (int64_t m : {64, 100, 257}) {
    detail::SplitChains s;
    s.chains = 3;
    s.draws = m;
    s.x = column(ar1_chains(1, 3 * m, 1, 0.8, 20 + m), 0);
    const std::vector<double> fft = detail::mean_autocov_fft(s);
    ASSERT_EQ(fft.size(), static_cast<size_t>(m));
    for (int64_t lag = 0; lag < m; ++lag) {
      double total = 0.0;
      for (int64_t c = 0; c < 3; ++c) {
        const double* x = s.x.data() + c * m;
        double mean = 0.0;
        for (int64_t i = 0; i < m; ++i) mean += x[i] / m;
        for (int64_t i = 0; i + lag < m; ++i) total += (x[i] - mean) * (x[i + lag] - mean) / m;
      }
      // FFT rounding is ~1e-16 of the total power, i.e. of lag 0's value.
      EXPECT_NEAR(fft[lag], total / 3, 1e-13 * fft[0]) << "m " << m << " lag " << lag;
    }
  }
}

TEST(McmcDiagnostics, RejectsBadInput) {
  const Tensor good = ar1_chains(2, 10, 2, 0.0, 18);
  EXPECT_NE(error_of([&] {
              mcmc_diagnostics(good.reshape({20, 2}));
            }).find("(C, N, D)"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              mcmc_diagnostics(good.slice_rows(0, 2).reshape({2, 5, 2, 2}));
            }).find("(C, N, D)"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              mcmc_diagnostics(ar1_chains(2, 3, 2, 0.0, 18));
            }).find("at least 4 draws per chain, got 3"),
            std::string::npos);
  EXPECT_NE(error_of([&] { mcmc_diagnostics(Tensor()); }).find("undefined"), std::string::npos);
  EXPECT_NE(error_of([&] {
              mcmc_diagnostics(Tensor::from(std::vector<int64_t>(8), {1, 4, 2}, Device::cpu()));
            }).find("float32"),
            std::string::npos);
  for (float bad :
       {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    std::vector<float> v = good.to_vector();
    v[2 * 10 + 7] = bad;  // chain 1, draw 3, dimension 1
    const std::string message = error_of([&] {
      mcmc_diagnostics(Tensor::from(v, {2, 10, 2}, Device::cpu()));
    });
    EXPECT_NE(message.find("chains[1, 3, 1]"), std::string::npos) << message;
    EXPECT_NE(message.find("finite"), std::string::npos) << message;
  }
  const std::vector<double> draws(12, 1.0);
  EXPECT_NE(error_of([&] { ess_bulk(draws, 5); }).find("equal chains"), std::string::npos);
  EXPECT_NE(error_of([&] { split_rhat(draws, 0); }).find("at least one chain"), std::string::npos);
  EXPECT_NE(error_of([&] { ess_tail(draws, 4); }).find("at least 4 draws"), std::string::npos);
}

TEST(McmcDiagnostics, CudaChainsGiveTheCpuResults) {
  CUSBI_REQUIRE_GPU();
  const Tensor chains = ar1_chains(4, 100, 3, 0.5, 19);
  const Diagnostics cpu = mcmc_diagnostics(chains);
  const Diagnostics gpu = mcmc_diagnostics(chains.to(Device::cuda()));
  EXPECT_EQ(gpu.rhat.device(), Device::cpu());
  EXPECT_EQ(gpu.rhat.to_vector(), cpu.rhat.to_vector());
  EXPECT_EQ(gpu.ess_bulk.to_vector(), cpu.ess_bulk.to_vector());
  EXPECT_EQ(gpu.ess_tail.to_vector(), cpu.ess_tail.to_vector());
}

}  // namespace
}  // namespace cusbi
