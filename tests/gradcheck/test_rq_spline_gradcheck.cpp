// Gradient checks of kernels/rq_spline.h's backward against central differences in double: of
// the value, of log|det| and of a mix G = dvalue * y + dlogdet * log|det|, w.r.t. the input and all
// 3K-1 unnormalised parameters, for K in {2, 4, 10}, with and without the sqrt(hidden) divisor,
// at inputs in the first, an interior and the last bin, at +-B and outside. Then the float
// instantiation against the double one, so the two cannot disagree.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gradcheck/nn_gradcheck.hpp"
#include "kernels/rq_spline.h"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using testing::central_differences;
using testing::grads_agree;

constexpr double kBound = 3.0;

struct Weights {
  double dvalue, dlogdet;
  const char* name;
};
constexpr Weights kWeights[] = {{1.0, 0.0, "value"}, {0.0, 1.0, "logdet"}, {0.7, -1.3, "mix"}};

std::vector<double> random_params(int num_bins, double scale, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, scale);
  std::vector<double> p(kern::rq_num_params(num_bins));
  for (double& v : p) v = normal(rng);
  return p;
}

// Inputs to check for one spline: fixed fractions inside the first, middle and last bins (far
// from knots: a perturbation of 1e-6 moves knots by < 1e-5, bins are >= 6e-3 wide), both bounds
// (parameters only: the input difference would straddle the tail) and two points outside.
struct Probe {
  double x;
  bool check_x;
};
std::vector<Probe> probes(const kern::RqSpline<double>& sp) {
  const int K = sp.num_bins;
  auto at = [&](int k, double frac) { return sp.cw[k] + frac * (sp.cw[k + 1] - sp.cw[k]); };
  return {{at(0, 0.37), true}, {at(K / 2, 0.45), true}, {at(K - 1, 0.61), true}, {-kBound, false},
          {kBound, false},     {kBound + 0.4, true},    {-kBound - 2.0, true}};
}

void check_case(const std::vector<double>& p0, int num_bins, double divisor, const Probe& probe,
                const Weights& w, const std::string& what) {
  std::vector<double> p = p0, x = {probe.x};
  auto loss = [&] {
    const kern::RqOut<double> r =
        kern::rq_spline_forward(p.data(), num_bins, kBound, divisor, x[0]);
    return w.dvalue * r.value + w.dlogdet * r.logdet;
  };
  std::vector<double> dp(p.size(), -99.0);
  const double dx = kern::rq_spline_backward(p.data(), num_bins, kBound, divisor, x[0], w.dvalue,
                                             w.dlogdet, dp.data());
  // Default tolerance 1e-6 (1 + |numeric|): see nn_gradcheck.hpp.
  EXPECT_TRUE(grads_agree(dp, central_differences(p, loss), what + " d/dparams"));
  if (probe.check_x) EXPECT_TRUE(grads_agree({dx}, central_differences(x, loss), what + " d/dx"));
  if (!kern::rq_inside(probe.x, kBound)) {
    // The identity tail: parameters untouched (exactly), the input gradient is dvalue itself.
    EXPECT_EQ(dx, w.dvalue) << what;
    for (double g : dp) ASSERT_EQ(g, 0.0) << what;
  }
}

TEST(RqSplineGradcheck, ValueAndLogDetWrtInputAndAllParams) {
  std::mt19937_64 rng(11);
  int checked = 0;
  for (int num_bins : {2, 4, 10}) {
    for (double divisor : {1.0, std::sqrt(50.0)}) {
      // Logits of O(0.5) and O(3) after the division: near-uniform and strongly uneven bins.
      for (double scale : {0.5, 3.0}) {
        const std::vector<double> p = random_params(num_bins, scale * divisor, rng);
        kern::RqSpline<double> sp;
        kern::rq_make_spline(p.data(), num_bins, kBound, divisor, sp);
        for (const Probe& probe : probes(sp)) {
          for (const Weights& w : kWeights) {
            const std::string what = "K " + std::to_string(num_bins) + " divisor " +
                                     std::to_string(divisor) + " scale " + std::to_string(scale) +
                                     " x " + std::to_string(probe.x) + " " + w.name;
            check_case(p, num_bins, divisor, probe, w, what);
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 3 * 2 * 2 * 7 * 3);
}

// The derivative parameters of knots the input's bin does not touch, and every parameter at an
// input in the tails, get exactly zero: the backward writes the whole block.
TEST(RqSplineGradcheck, UntouchedDerivativesGetZero) {
  std::mt19937_64 rng(12);
  const int K = 10;
  const std::vector<double> p = random_params(K, 1.0, rng);
  kern::RqSpline<double> sp;
  kern::rq_make_spline(p.data(), K, kBound, 1.0, sp);
  const int k = 4;
  const double x = sp.cw[k] + 0.5 * (sp.cw[k + 1] - sp.cw[k]);
  std::vector<double> dp(p.size(), -99.0);
  kern::rq_spline_backward(p.data(), K, kBound, 1.0, x, 0.3, 0.8, dp.data());
  for (int j = 0; j < K - 1; ++j) {
    const double g = dp[2 * K + j];  // interior derivative j + 1
    if (j + 1 == k || j + 1 == k + 1)
      EXPECT_NE(g, 0.0) << j;
    else
      EXPECT_EQ(g, 0.0) << j;
  }
}

// The float instantiation against the double one on moderate parameters (slopes 0.1..10): float
// rounds each of ~50 operations to 6e-8 relative, amplified by the same conditioning as the
// values (|f''/f'| <~ 10 here), so 2e-4 of the gradient block's scale is ~100x the expected
// error; a wrong term in float only (e.g. a precision-losing rewrite) shows at 1e-2 and up.
TEST(RqSplineGradcheck, FloatBackwardMatchesDouble) {
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> unif(-kBound, kBound);
  double worst = 0.0;
  for (int num_bins : {2, 4, 10}) {
    for (int rep = 0; rep < 20; ++rep) {
      const std::vector<double> pd = random_params(num_bins, 1.0, rng);
      const std::vector<float> pf(pd.begin(), pd.end());
      const std::vector<double> pdr(pf.begin(), pf.end());  // the float values, in double
      const double x = double(float(unif(rng)));
      std::vector<double> gd(pd.size());
      std::vector<float> gf(pd.size());
      const double dxd = kern::rq_spline_backward(pdr.data(), num_bins, kBound, std::sqrt(50.0), x,
                                                  0.7, -1.3, gd.data());
      const float dxf =
          kern::rq_spline_backward(pf.data(), num_bins, float(kBound), float(std::sqrt(50.0)),
                                   float(x), 0.7f, -1.3f, gf.data());
      double scale = std::fabs(dxd);
      for (double g : gd) scale = std::max(scale, std::fabs(g));
      double diff = std::fabs(double(dxf) - dxd);
      for (size_t i = 0; i < gd.size(); ++i)
        diff = std::max(diff, std::fabs(double(gf[i]) - gd[i]));
      EXPECT_LE(diff, 2e-4 * scale) << "K " << num_bins << " x " << x;
      worst = std::max(worst, diff / scale);
    }
  }
  std::printf("[ measured ] float vs double backward: worst %.3g of the block's scale\n", worst);
}

}  // namespace
}  // namespace cusbi
