// kernels/rq_spline.h's float path against nflows 0.14's unconstrained_rational_quadratic_spline
// (tails "linear", tail bound 3) on torch's CPU: forward values and log|det|, autograd gradients
// of sum(dvalue * y + dlogdet * log|det|) w.r.t. inputs and raw parameters, and the inverse.
// Fixtures rq_spline_K{4,10}.safetensors from tools/make_spline_fixtures.py: K=10 divides widths
// and heights by sqrt(50) as sbi's NSF coupling does, K=4 by nothing; parameters reach min-width
// bins and softplus's linear regime.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "golden/golden_support.hpp"
#include "kernels/rq_spline.h"

namespace cusbi::golden {
namespace {

// The six result tensors of a fixture, by name, in the order below.
constexpr const char* kNames[] = {"outputs",     "logdet",      "grad_inputs",
                                  "grad_params", "inv_outputs", "inv_logdet"};
using Results = std::map<std::string, std::vector<double>>;

template <typename T>
std::vector<T> as(const Tensor& t) {
  const std::vector<float> v = t.to_vector();
  return std::vector<T>(v.begin(), v.end());
}

// cusbi's spline in precision T on the fixture's (float32) data.
template <typename T>
Results run_cusbi(const Fixture& f) {
  const int K = int(f.integer("num_bins"));
  const int P = kern::rq_num_params(K);
  const T bound = T(f.number("tail_bound")), divisor = T(f.number("divisor"));
  const std::vector<T> x = as<T>(f.at("inputs")), params = as<T>(f.at("params"));
  const std::vector<T> dv = as<T>(f.at("dvalue")), dl = as<T>(f.at("dlogdet"));
  const std::vector<T> y = as<T>(f.at("inv_inputs"));
  Results r;
  std::vector<T> dp(P);
  for (size_t i = 0; i < x.size(); ++i) {
    const T* p = params.data() + i * P;
    const kern::RqOut<T> fw = kern::rq_spline_forward(p, K, bound, divisor, x[i]);
    r["outputs"].push_back(fw.value);
    r["logdet"].push_back(fw.logdet);
    r["grad_inputs"].push_back(
        kern::rq_spline_backward(p, K, bound, divisor, x[i], dv[i], dl[i], dp.data()));
    r["grad_params"].insert(r["grad_params"].end(), dp.begin(), dp.end());
    const kern::RqOut<T> iv = kern::rq_spline_inverse(p, K, bound, divisor, y[i]);
    r["inv_outputs"].push_back(iv.value);
    r["inv_logdet"].push_back(iv.logdet);
  }
  return r;
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

class RqSplineGolden : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { fixture_ = load_fixture(GetParam()); }
  Fixture fixture_;
};

// The fixture covers what it claims: tails on both sides, both bounds exactly, min-width bins
// (width within 2x of 1e-3 * 2B), derivative logits in softplus's linear regime (> 20).
TEST_P(RqSplineGolden, FixtureCoversTheRegimes) {
  const Fixture& f = fixture_;
  const int K = int(f.integer("num_bins")), P = kern::rq_num_params(K);
  const double bound = f.number("tail_bound"), divisor = f.number("divisor");
  const std::vector<double> x = as<double>(f.at("inputs")), params = as<double>(f.at("params"));
  int below = 0, above = 0, at_bounds = 0, narrow_bins = 0, big_logits = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    below += x[i] < -bound;
    above += x[i] > bound;
    at_bounds += std::fabs(x[i]) == bound;
    kern::RqSpline<double> sp;
    kern::rq_make_spline(params.data() + i * P, K, bound, divisor, sp);
    for (int k = 0; k < K; ++k) narrow_bins += sp.cw[k + 1] - sp.cw[k] < 2 * 2e-3 * bound;
    for (int j = 2 * K; j < P; ++j) big_logits += params[i * P + j] > 20;
  }
  EXPECT_GT(below, 0);
  EXPECT_GT(above, 0);
  EXPECT_GE(at_bounds, 2);
  EXPECT_GT(narrow_bins, 0);
  EXPECT_GT(big_logits, 0);
}

// cusbi's double path on the same float32 data against nflows' float64 rerun, element by
// element: the same function evaluated in double, so only the float32 storage of the reference
// (6e-8 relative) separates them; 1e-6 relative leaves a 16x margin, plus 1e-9 of the tensor's
// scale for elements that cancel to ~1e-12 (double rounding of O(10) terms, amplified <= 1e3).
// Measured: 6e-8 relative. A wrong constant or formula shows at 1e-4 and up.
TEST_P(RqSplineGolden, DoublePathMatchesNflowsFloat64) {
  const Results r64 = run_cusbi<double>(fixture_);
  for (const char* name : kNames) {
    const std::vector<double>& ours = r64.at(name);
    const std::vector<double> ref = as<double>(fixture_.at(std::string("f64.") + name));
    double scale = 0;
    for (double v : ref) scale = std::max(scale, std::fabs(v));
    for (size_t i = 0; i < ref.size(); ++i)
      ASSERT_NEAR(ours[i], ref[i], 1e-6 * std::fabs(ref[i]) + 1e-9 * scale) << name << " " << i;
  }
}

// cusbi's float path against nflows' float32 results. Both round the same operations, but exp,
// log and log1p differ in the last bit (SLEEF vs glibc), and min-width bins amplify a 1-ulp
// difference in a knot (knots ~3, bins ~6e-3) ~1e3-fold in log|det| and the gradients, and the
// inverse's root form amplifies it further (see root_condition in tests/unit/test_rq_spline.cpp).
// So the tolerance is nflows' own float32 error D (max |f32 - f64| of its results, recorded in
// the fixture): cusbi's float path must be as accurate, |cusbi32 - nflows64| <= 2 D, and hence
// agree with nflows' float32 results within 3 D (triangle inequality). Measured: cusbi32 is
// within 0.54-1.13 D of nflows64 and within 0.06-1.07 D of nflows32; 173/256 K=4 forward values
// are bit-identical to nflows'.
TEST_P(RqSplineGolden, FloatPathMatchesNflowsFloat32) {
  const Results r32 = run_cusbi<float>(fixture_);
  for (const char* name : kNames) {
    const std::vector<double> ref32 = as<double>(fixture_.at(name));
    const std::vector<double> ref64 = as<double>(fixture_.at(std::string("f64.") + name));
    const double drift = fixture_.number(std::string("f32_vs_f64_") + name + "_max_abs");
    const double vs64 = max_abs_diff(r32.at(name), ref64), vs32 = max_abs_diff(r32.at(name), ref32);
    std::printf(
        "[ measured ] %s %-11s max |cusbi32 - nflows32| %.3g, |cusbi32 - nflows64| %.3g, "
        "nflows' own |f32 - f64| %.3g\n",
        GetParam().c_str(), name, vs32, vs64, drift);
    EXPECT_LE(vs64, 2 * drift) << name;
    EXPECT_LE(vs32, 3 * drift) << name;
  }
}

// Outside [-B, B] nflows copies the input and leaves log|det| and all parameter gradients at 0:
// cusbi must do the same bit for bit.
TEST_P(RqSplineGolden, TailsMatchExactly) {
  const Fixture& f = fixture_;
  const Results r32 = run_cusbi<float>(f);
  const int P = kern::rq_num_params(int(f.integer("num_bins")));
  const double bound = f.number("tail_bound");
  const std::vector<double> x = as<double>(f.at("inputs")), y = as<double>(f.at("inv_inputs"));
  const std::vector<double> dv = as<double>(f.at("dvalue"));
  int checked = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::fabs(x[i]) > bound) {
      EXPECT_EQ(r32.at("outputs")[i], x[i]);
      EXPECT_EQ(r32.at("logdet")[i], 0.0);
      EXPECT_EQ(r32.at("grad_inputs")[i], dv[i]);
      for (int j = 0; j < P; ++j) EXPECT_EQ(r32.at("grad_params")[i * P + j], 0.0);
      ++checked;
    }
    if (std::fabs(y[i]) > bound) {
      EXPECT_EQ(r32.at("inv_outputs")[i], y[i]);
      EXPECT_EQ(r32.at("inv_logdet")[i], 0.0);
    }
  }
  EXPECT_GT(checked, 0);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, RqSplineGolden,
                         ::testing::Values("rq_spline_K4", "rq_spline_K10"));

}  // namespace
}  // namespace cusbi::golden
