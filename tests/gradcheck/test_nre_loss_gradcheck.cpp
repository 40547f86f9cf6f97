// Gradient checks of NRE's fused losses: the analytic d loss / d logits of the CPU twins
// (host/cpu/nre_loss.cpp, the per-row math of kernels/nre_loss.h instantiated in double) against
// central differences of the same loss in double, for NRE_B, NRE_A / BNRE and both inputs of
// NRE_C, at logits spread widely enough to reach saturated sigmoids and peaked softmaxes.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "host/cpu/nre_loss.hpp"

namespace cusbi {
namespace {

std::vector<double> random_logits(size_t n, double scale, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, scale);
  std::vector<double> v(n);
  for (double& x : v) x = normal(rng);
  return v;
}

// Central differences with step h have error O(h^2 f''') ~ 1e-10 for these smooth losses, and
// rounding error ~ 1e-16 / h ~ 1e-11: 1e-8 absolute (the gradients are O(1 / B)) is tight
// enough that a factor or sign slip in any single entry fails.
constexpr double kStep = 1e-5, kTol = 1e-8;

void check(const std::function<double(const std::vector<double>&)>& loss, std::vector<double> at,
           const std::vector<double>& analytic) {
  ASSERT_EQ(at.size(), analytic.size());
  for (size_t e = 0; e < at.size(); ++e) {
    const double saved = at[e];
    at[e] = saved + kStep;
    const double up = loss(at);
    at[e] = saved - kStep;
    const double down = loss(at);
    at[e] = saved;
    EXPECT_NEAR(analytic[e], (up - down) / (2 * kStep), kTol) << "entry " << e;
  }
}

TEST(NreLossGradcheck, NreB) {
  for (const auto [b, k] : {std::pair<int64_t, int64_t>{5, 2}, {4, 10}, {3, 33}}) {
    SCOPED_TRACE(k);
    const std::vector<double> f = random_logits(b * k, 3.0, 7 + unsigned(k));
    std::vector<double> grad(f.size()), scratch(f.size());
    double l;
    cpu::nre_b_loss(f.data(), b, k, &l, grad.data());
    check(
        [&, b = b, k = k](const std::vector<double>& z) {
          double v;
          cpu::nre_b_loss(z.data(), b, k, &v, scratch.data());
          return v;
        },
        f, grad);
  }
}

TEST(NreLossGradcheck, NreAAndBnre) {
  for (const double lambda : {0.0, 1.0, 100.0}) {
    SCOPED_TRACE(lambda);
    const int64_t b = 6;
    const std::vector<double> f = random_logits(2 * b, 4.0, 11);
    std::vector<double> grad(f.size()), scratch(f.size());
    double l;
    cpu::bnre_loss(f.data(), b, lambda, &l, grad.data());
    check(
        [&](const std::vector<double>& z) {
          double v;
          cpu::bnre_loss(z.data(), b, lambda, &v, scratch.data());
          return v;
        },
        f, grad);
  }
}

TEST(NreLossGradcheck, NreC) {
  for (const auto [k, gamma] : {std::pair<int64_t, double>{2, 1.0}, {5, 0.25}, {10, 4.0}}) {
    SCOPED_TRACE(k);
    const int64_t b = 4;
    const std::vector<double> g = random_logits(b * (k + 1), 3.0, 21),
                              h = random_logits(b * k, 3.0, 22);
    std::vector<double> grad_g(g.size()), grad_h(h.size()), sg(g.size()), sh(h.size());
    double l;
    cpu::nre_c_loss(g.data(), h.data(), b, k, gamma, &l, grad_g.data(), grad_h.data());
    check(
        [&, k = k, gamma = gamma](const std::vector<double>& z) {
          double v;
          cpu::nre_c_loss(z.data(), h.data(), b, k, gamma, &v, sg.data(), sh.data());
          return v;
        },
        g, grad_g);
    check(
        [&, k = k, gamma = gamma](const std::vector<double>& z) {
          double v;
          cpu::nre_c_loss(g.data(), z.data(), b, k, gamma, &v, sg.data(), sh.data());
          return v;
        },
        h, grad_h);
    for (int64_t i = 0; i < b; ++i) EXPECT_EQ(grad_g[i * (k + 1)], 0.0);  // dropped column
  }
}

}  // namespace
}  // namespace cusbi
