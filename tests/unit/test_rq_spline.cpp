// Unit tests of kernels/rq_spline.h (nflows' rational-quadratic spline, linear tails) in float and
// double: knot construction, bin search ties, inverse o forward = identity both ways, log|det| vs
// finite differences, identity tails and continuity at +-B, knots mapped exactly, monotonicity.
// Gradients are in tests/gradcheck/test_rq_spline_gradcheck.cpp, nflows in tests/golden/.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

#include "kernels/rq_spline.h"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using kern::RqOut;
using kern::RqSpline;

constexpr double kBound = 3.0;  // sbi's tail_bound

// Raw conditioner outputs for one dimension, N(0, scale^2). With divisor 1, scale 30 makes
// softmax logits differ by ~100: most bins collapse to the minimum width/height (1e-3 * 2B) and
// derivatives reach both the min_derivative floor and softplus's linear regime (> 20).
template <typename T>
std::vector<T> random_params(int num_bins, double scale, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, scale);
  std::vector<T> p(kern::rq_num_params(num_bins));
  for (T& v : p) v = T(normal(rng));
  return p;
}

template <typename T>
RqSpline<T> make_spline(const std::vector<T>& p, int num_bins, T divisor = T(1)) {
  RqSpline<T> sp;
  kern::rq_make_spline(p.data(), num_bins, T(kBound), divisor, sp);
  return sp;
}

template <typename T>
class RqSplineTest : public ::testing::Test {
 protected:
  static constexpr T kEps = std::numeric_limits<T>::epsilon();
};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(RqSplineTest, Scalars);

TEST(RqSplineLimits, BinsSupportedFollowsNflowsLimits) {
  EXPECT_FALSE(kern::rq_bins_supported(0));
  EXPECT_TRUE(kern::rq_bins_supported(1));
  EXPECT_TRUE(kern::rq_bins_supported(kern::kRqMaxBins));
  EXPECT_FALSE(kern::rq_bins_supported(kern::kRqMaxBins + 1));
  EXPECT_TRUE(kern::rq_bins_supported(1000, 1000));   // min_bin * K == 1 is allowed
  EXPECT_FALSE(kern::rq_bins_supported(1001, 2000));  // nflows raises: min bin width too large
  EXPECT_EQ(kern::rq_num_params(10), 29);
}

// Ends exact, bins no narrower than the min-bin map allows, boundary derivatives 1, interior
// derivatives >= min_derivative, and only widths/heights divided by the divisor.
TYPED_TEST(RqSplineTest, KnotsFollowNflowsConstruction) {
  using T = TypeParam;
  std::mt19937_64 rng(1);
  for (int num_bins : {1, 2, 4, 10, 64}) {
    for (double scale : {0.5, 30.0}) {
      const std::vector<T> p = random_params<T>(num_bins, scale, rng);
      const RqSpline<T> sp = make_spline(p, num_bins);
      EXPECT_EQ(sp.cw[0], T(-kBound));
      EXPECT_EQ(sp.cw[num_bins], T(kBound));
      EXPECT_EQ(sp.ch[0], T(-kBound));
      EXPECT_EQ(sp.ch[num_bins], T(kBound));
      // Boundary derivative 1e-3 + softplus(logit) = 1 up to the rounding of the logit, softplus
      // and the add: 4 ulp of 1.
      EXPECT_NEAR(sp.d[0], 1.0, 4 * this->kEps);
      EXPECT_EQ(sp.d[0], sp.d[num_bins]);
      T psum_w = 0, psum_h = 0;
      for (int k = 0; k < num_bins; ++k) {
        // Min width 1e-3 * 2B, less the rounding of knots of size <= B (a few ulp of 3).
        const double min_w = 1e-3 * 2 * kBound - 8 * kBound * this->kEps;
        EXPECT_GE(sp.cw[k + 1] - sp.cw[k], min_w) << "K " << num_bins << " bin " << k;
        EXPECT_GE(sp.ch[k + 1] - sp.ch[k], min_w) << "K " << num_bins << " bin " << k;
        psum_w += sp.pw[k];
        psum_h += sp.ph[k];
        if (k > 0) EXPECT_GE(sp.d[k], T(kern::kRqMinDerivative));
      }
      // A softmax sums to 1 up to K roundings of terms <= 1.
      EXPECT_NEAR(psum_w, 1.0, (num_bins + 2) * this->kEps);
      EXPECT_NEAR(psum_h, 1.0, (num_bins + 2) * this->kEps);
    }
  }
  // Extreme logits put one bin at nearly the whole range and the rest at the minimum width.
  // A width is a difference of two knots each rounded to an ulp of B: 16 ulp of B is a margin.
  std::vector<T> p(kern::rq_num_params(4), T(0));
  p[2] = T(200);
  const RqSpline<T> sp = make_spline(p, 4);
  EXPECT_NEAR(sp.cw[1] - sp.cw[0], 2 * kBound * 1e-3, 16 * kBound * this->kEps);
  EXPECT_NEAR(sp.cw[3] - sp.cw[2], 2 * kBound * (1 - 3e-3), 16 * kBound * this->kEps);

  // The divisor scales widths and heights only: dividing them beforehand gives the same bits.
  std::vector<T> q = random_params<T>(10, 5.0, rng), q_divided = q;
  const T divisor = T(std::sqrt(50.0));
  for (int i = 0; i < 20; ++i) q_divided[i] = q[i] / divisor;
  const RqSpline<T> a = make_spline(q, 10, divisor), b = make_spline(q_divided, 10);
  for (int k = 0; k <= 10; ++k) {
    EXPECT_EQ(a.cw[k], b.cw[k]);
    EXPECT_EQ(a.ch[k], b.ch[k]);
    EXPECT_EQ(a.d[k], b.d[k]);
  }
}

// searchsorted semantics: a knot belongs to the bin it starts; B to the last bin (the 1e-6 bump).
TYPED_TEST(RqSplineTest, SearchTiesGoToTheBinStartingAtTheKnot) {
  using T = TypeParam;
  std::mt19937_64 rng(2);
  const int num_bins = 10;
  const RqSpline<T> sp = make_spline(random_params<T>(num_bins, 2.0, rng), num_bins);
  for (int k = 0; k < num_bins; ++k) {
    EXPECT_EQ(kern::rq_search(sp.cw, num_bins, sp.cw[k]), k);
    const T below = std::nextafter(sp.cw[k + 1], T(-10));
    EXPECT_EQ(kern::rq_search(sp.cw, num_bins, below), k);
  }
  EXPECT_EQ(kern::rq_search(sp.cw, num_bins, T(kBound)), num_bins - 1);
  // Out of range values are clamped (the spline never searches them).
  EXPECT_EQ(kern::rq_search(sp.cw, num_bins, T(-7)), 0);
  EXPECT_EQ(kern::rq_search(sp.cw, num_bins, T(7)), num_bins - 1);
}

// Interior knots: xi = 0 exactly, so the output is the height knot bit for bit, the inverse gives
// the width knot back bit for bit (c = 0, root -0), and log|det| = log d_k.
TYPED_TEST(RqSplineTest, KnotsAreHitExactly) {
  using T = TypeParam;
  std::mt19937_64 rng(3);
  for (int num_bins : {2, 4, 10}) {
    for (double scale : {1.0, 30.0}) {
      const RqSpline<T> sp = make_spline(random_params<T>(num_bins, scale, rng), num_bins);
      for (int k = 0; k < num_bins; ++k) {
        const RqOut<T> f = kern::rq_forward(sp, sp.cw[k]);
        EXPECT_EQ(f.value, sp.ch[k]) << "knot " << k;
        // log(s^2 d_k) - 2 log(s): logs of magnitude <= ~14 (s up to ~1e3), each rounded to an
        // ulp of itself, and their difference: 32 eps absolute.
        EXPECT_NEAR(f.logdet, std::log(double(sp.d[k])), 32 * this->kEps);
        const RqOut<T> g = kern::rq_inverse(sp, sp.ch[k]);
        EXPECT_EQ(g.value, sp.cw[k]) << "knot " << k;
      }
    }
  }
}

// Outside [-B, B] both directions are the identity with log|det| exactly 0; NaN passes through.
TYPED_TEST(RqSplineTest, IdentityOutsideTheBound) {
  using T = TypeParam;
  std::mt19937_64 rng(4);
  const std::vector<T> p = random_params<T>(10, 3.0, rng);
  const RqSpline<T> sp = make_spline(p, 10);
  const T inf = std::numeric_limits<T>::infinity();
  for (T v : {std::nextafter(T(kBound), T(10)), T(3.5), T(-3.0001), T(1e6), T(-1e30), inf, -inf}) {
    for (const RqOut<T>& r : {kern::rq_forward(sp, v), kern::rq_inverse(sp, v),
                              kern::rq_spline_forward(p.data(), 10, T(kBound), T(1), v),
                              kern::rq_spline_inverse(p.data(), 10, T(kBound), T(1), v)}) {
      EXPECT_EQ(r.value, v);
      EXPECT_EQ(r.logdet, T(0));
    }
  }
  const RqOut<T> n = kern::rq_forward(sp, std::numeric_limits<T>::quiet_NaN());
  EXPECT_TRUE(std::isnan(n.value));
  EXPECT_EQ(n.logdet, T(0));
}

// The spline meets the identity tails: value +-B and slope 1 (log|det| 0) at both ends, so the
// map is continuous with a continuous derivative across +-B.
TYPED_TEST(RqSplineTest, ContinuousWithSlopeOneAtTheBound) {
  using T = TypeParam;
  std::mt19937_64 rng(5);
  for (int num_bins : {1, 4, 10}) {
    for (double scale : {1.0, 30.0}) {
      const RqSpline<T> sp = make_spline(random_params<T>(num_bins, scale, rng), num_bins);
      const RqOut<T> lo = kern::rq_forward(sp, T(-kBound)), hi = kern::rq_forward(sp, T(kBound));
      EXPECT_EQ(lo.value, T(-kBound));  // xi = 0 in the first bin: exact
      // At B, xi = 1: ch_{K-1} + (h s) / s, a few roundings of values <= B.
      EXPECT_NEAR(hi.value, kBound, 4 * kBound * this->kEps);
      // log d_0 = log(1 +- 4 ulp); at B the same plus the roundings of s^2 / s^2 with s <= ~1e3.
      EXPECT_NEAR(lo.logdet, 0.0, 8 * this->kEps);
      EXPECT_NEAR(hi.logdet, 0.0, 64 * this->kEps);
      const RqOut<T> ilo = kern::rq_inverse(sp, T(-kBound)), ihi = kern::rq_inverse(sp, T(kBound));
      EXPECT_EQ(ilo.value, T(-kBound));
      EXPECT_NEAR(ihi.value, kBound, 4 * kBound * this->kEps);
    }
  }
}

// Non-decreasing over a fine grid through both tails, forward and inverse (strictly increasing in
// double; float may round neighbours in a flat min-derivative stretch to the same value).
TYPED_TEST(RqSplineTest, Monotone) {
  using T = TypeParam;
  std::mt19937_64 rng(6);
  for (int num_bins : {2, 10}) {
    for (double scale : {1.0, 30.0}) {
      const RqSpline<T> sp = make_spline(random_params<T>(num_bins, scale, rng), num_bins);
      T prev = -std::numeric_limits<T>::infinity(), prev_inv = prev;
      for (int i = 0; i <= 4000; ++i) {
        const T x = T(-kBound - 0.5 + (2 * kBound + 1.0) * i / 4000);
        const RqOut<T> f = kern::rq_forward(sp, x), g = kern::rq_inverse(sp, x);
        const bool increasing = std::is_same_v<T, float> ? f.value >= prev && g.value >= prev_inv
                                                         : f.value > prev && g.value > prev_inv;
        ASSERT_TRUE(increasing) << "x " << x << ": " << f.value << " after " << prev << ", "
                                << g.value << " after " << prev_inv;
        ASSERT_TRUE(std::isfinite(f.logdet) && std::isfinite(g.logdet)) << "x " << x;
        prev = f.value;
        prev_inv = g.value;
      }
    }
  }
}

// Amplification of rounding errors by nflows' root form 2c / (-b - sqrt(disc)) at output y: 1
// when b >= 0, but when b < 0 (upper part of a bin whose right derivative far exceeds its slope)
// the denominator cancels, by up to ~1e3 for min-height bins (then float loses ~10 bits of xi;
// nflows' own float inverse does too: see f32_vs_f64 in the golden MANIFEST).
template <typename T>
double root_condition(const RqSpline<T>& sp, T y) {
  const kern::RqBin<T> b = kern::rq_bin(sp, kern::rq_search(sp.ch, sp.num_bins, y));
  const double dy = double(y) - b.y0, sum = double(b.d0) + b.d1 - 2.0 * b.s;
  const double qa = dy * sum + double(b.h) * (double(b.s) - b.d0);
  const double qb = double(b.h) * b.d0 - dy * sum, qc = -double(b.s) * dy;
  const double root_disc = std::sqrt(std::max(0.0, qb * qb - 4 * qa * qc));
  const double denom = std::fabs(qb + root_disc);
  return denom > 0 ? std::max(1.0, (std::fabs(qb) + root_disc) / denom) : 1.0;
}

// inverse(forward(x)) = x and forward(inverse(y)) = y over random parameters, extreme ones
// included (min-width bins, slopes from ~1e-3 to ~1e3). An error of a few ulp of B in y becomes
// that over the slope f'(x) in x, times the root's condition kappa, so the tolerance is stated in
// y units: |x' - x| <= tol kappa (1 + 1 / f'(x)), |y' - y| <= tol kappa (1 + f'(x')).
TYPED_TEST(RqSplineTest, InverseUndoesForwardBothWays) {
  using T = TypeParam;
  // 16 ulp of B: forward and inverse each round a dozen operations on values <= B (measured
  // worst after the scaling: 2.1 ulp float, 2.4 ulp double).
  const double tol = 16 * kBound * this->kEps;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unif(-kBound, kBound);
  double worst_x = 0, worst_y = 0, worst_ld = 0, worst_kappa = 1;
  for (int num_bins : {1, 2, 4, 10, 64}) {
    for (double scale : {0.3, 3.0, 30.0}) {
      for (int rep = 0; rep < 4; ++rep) {
        const RqSpline<T> sp = make_spline(random_params<T>(num_bins, scale, rng), num_bins);
        for (int i = 0; i < 50; ++i) {
          const T x = T(unif(rng));
          const RqOut<T> f = kern::rq_forward(sp, x);
          const RqOut<T> g = kern::rq_inverse(sp, f.value);
          const double slope = std::exp(double(f.logdet)), kx = root_condition(sp, f.value);
          const double ex = std::fabs(double(g.value) - x) / (kx * (1 + 1 / slope));
          ASSERT_LE(ex, tol) << "K " << num_bins << " x " << x << " slope " << slope;
          // log|det| of the inverse is minus the forward one at the recovered point; the error
          // in x moves log f' by |f''/f'| |x' - x|, and |f''/f'| reaches ~1e2 here (measured
          // worst 217 ulp of B after the scaling): 64 tol = 1024 ulp leaves a 5x margin.
          const double eld = std::fabs(double(g.logdet) + f.logdet) / (kx * (1 + 1 / slope));
          ASSERT_LE(eld, 64 * tol) << "K " << num_bins << " x " << x << " slope " << slope;
          const T y = T(unif(rng));
          const RqOut<T> h = kern::rq_inverse(sp, y);
          const RqOut<T> k = kern::rq_forward(sp, h.value);
          const double ky = root_condition(sp, y);
          const double ey =
              std::fabs(double(k.value) - y) / (ky * (1 + std::exp(double(k.logdet))));
          ASSERT_LE(ey, tol) << "K " << num_bins << " y " << y;
          worst_x = std::max(worst_x, ex);
          worst_y = std::max(worst_y, ey);
          worst_ld = std::max(worst_ld, eld);
          worst_kappa = std::max({worst_kappa, kx, ky});
        }
      }
    }
  }
  std::printf(
      "[ measured ] scaled errors in ulp of B: inverse o forward %.3g, forward o inverse "
      "%.3g, log|det| %.3g; worst root condition %.3g\n",
      worst_x / (kBound * this->kEps), worst_y / (kBound * this->kEps),
      worst_ld / (kBound * this->kEps), worst_kappa);
  // The extreme parameters must reach the cancelling branch, or the scaling above is untested.
  EXPECT_GT(worst_kappa, 10.0);
}

// The self-contained per-element entry points give the same bits as the two-step API.
TYPED_TEST(RqSplineTest, SelfContainedEntryPointsMatchTwoStepApi) {
  using T = TypeParam;
  std::mt19937_64 rng(8);
  const T divisor = T(std::sqrt(50.0));
  const std::vector<T> p = random_params<T>(10, 5.0, rng);
  const RqSpline<T> sp = make_spline(p, 10, divisor);
  std::vector<T> d1(29), d2(29);
  for (T x : {T(-3), T(-1.3), T(0.2), T(2.9), T(3)}) {
    const RqOut<T> a = kern::rq_forward(sp, x);
    const RqOut<T> b = kern::rq_spline_forward<10>(p.data(), 10, T(kBound), divisor, x);
    EXPECT_EQ(a.value, b.value);
    EXPECT_EQ(a.logdet, b.logdet);
    const RqOut<T> c = kern::rq_inverse(sp, x);
    const RqOut<T> d = kern::rq_spline_inverse(p.data(), 10, T(kBound), divisor, x);
    EXPECT_EQ(c.value, d.value);
    EXPECT_EQ(c.logdet, d.logdet);
    const T g1 = kern::rq_forward_backward(sp, p.data(), divisor, x, T(0.7), T(-1.1), d1.data());
    const T g2 = kern::rq_spline_backward<16>(p.data(), 10, T(kBound), divisor, x, T(0.7), T(-1.1),
                                              d2.data());
    EXPECT_EQ(g1, g2);
    EXPECT_EQ(d1, d2);
  }
}

// log|dy/dx| against central differences of the value, both directions, in double. Points
// within 1e-4 of a knot are skipped: the second derivative jumps there and the difference
// quotient would straddle two bins.
TEST(RqSplineDouble, LogDetMatchesFiniteDifferences) {
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> unif(-kBound, kBound);
  const double h = 1e-6;
  for (int num_bins : {2, 4, 10}) {
    for (double scale : {0.5, 3.0, 10.0}) {
      const std::vector<double> p = random_params<double>(num_bins, scale, rng);
      const RqSpline<double> sp = make_spline(p, num_bins);
      auto near_knot = [&](const double* knots, double v) {
        for (int k = 0; k <= num_bins; ++k)
          if (std::fabs(v - knots[k]) < 1e-4) return true;
        return false;
      };
      auto fwd = [&](double v) { return kern::rq_forward(sp, v).value; };
      auto inv = [&](double v) { return kern::rq_inverse(sp, v).value; };
      for (int i = 0; i < 40; ++i) {
        // Central difference error h^2 |f'''| / 6 + 1e-16 B / h ~ 1e-10 for slopes up to ~1e3
        // and |f'''| <~ 1e6 here; 1e-6 relative to the slope leaves a margin, while any wrong
        // term in log|det| is off by O(1).
        const double x = unif(rng);
        if (!near_knot(sp.cw, x)) {
          const double fd = (fwd(x + h) - fwd(x - h)) / (2 * h);
          EXPECT_NEAR(std::exp(kern::rq_forward(sp, x).logdet), fd, 1e-6 * (1 + fd))
              << "K " << num_bins << " x " << x;
        }
        const double y = unif(rng);
        if (!near_knot(sp.ch, y)) {
          const double fd = (inv(y + h) - inv(y - h)) / (2 * h);
          EXPECT_NEAR(std::exp(kern::rq_inverse(sp, y).logdet), fd, 1e-6 * (1 + fd))
              << "K " << num_bins << " y " << y;
        }
      }
    }
  }
}

}  // namespace
}  // namespace cusbi
