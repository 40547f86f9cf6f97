// Gradient check of LuLinear's backward (host/flows/lu_linear.cpp's CPU code in double) against
// central differences: loss G = sum(R * y) + sum_b r_b logdet_b at non-identity random
// parameters, w.r.t. every parameter (lower, upper, diagonal logits, bias) and the input, for
// D in {1, 2, 3, 5} and a batch large enough for the chunked reductions. Then the float layer
// against that double code, so the layer's wiring (slots, scratch, cache) is covered too.
#include <random>
#include <string>
#include <vector>

#include "gradcheck/nn_gradcheck.hpp"
#include "host/cpu/lu.hpp"
#include "host/flows/lu_linear.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using flows::LuLinear;
namespace lu_cpu = cpu::lu;
using testing::central_differences;
using testing::grads_agree;

std::vector<double> normal_vector(int64_t n, double scale, std::mt19937_64& rng) {
  std::normal_distribution<double> normal(0.0, scale);
  std::vector<double> v(n);
  for (double& e : v) e = normal(rng);
  return v;
}

struct Case {
  int64_t rows, d;
  std::vector<double> lower, upper, diag, bias, x, r_y, r_logdet;
  Case(int64_t rows_, int64_t d_, std::mt19937_64& rng) : rows(rows_), d(d_) {
    const int64_t tri = d * (d - 1) / 2;
    lower = normal_vector(tri, 0.5, rng);
    upper = normal_vector(tri, 0.5, rng);
    diag = normal_vector(d, 1.0, rng);
    bias = normal_vector(d, 1.0, rng);
    x = normal_vector(rows * d, 1.0, rng);
    r_y = normal_vector(rows * d, 1.0, rng);
    r_logdet = normal_vector(rows, 1.0, rng);
  }
  // G = sum R y + sum r_b logdet_b, recomputing L\U and W from the current parameters.
  double loss() const {
    std::vector<double> lu(d * d), w(d * d), ld(1), y(rows * d), logdet(rows, 0.0);
    lu_cpu::prepare(d, lower.data(), upper.data(), diag.data(), lu.data(), w.data(), ld.data());
    lu_cpu::forward(rows, d, w.data(), bias.data(), ld.data(), x.data(), y.data(), logdet.data());
    return testing::dot(r_y, y, y.size()) + testing::dot(r_logdet, logdet, logdet.size());
  }
};

struct Grads {
  std::vector<double> lower, upper, diag, bias, x;
};

Grads analytic(const Case& c) {
  const int64_t d = c.d;
  std::vector<double> lu(d * d), w(d * d), ld(1);
  lu_cpu::prepare(d, c.lower.data(), c.upper.data(), c.diag.data(), lu.data(), w.data(), ld.data());
  Grads g{std::vector<double>(c.lower.size(), 0.0), std::vector<double>(c.upper.size(), 0.0),
          std::vector<double>(d, 0.0), std::vector<double>(d, 0.0),
          std::vector<double>(c.x.size(), 0.0)};
  std::vector<double> scratch(lu_cpu::backward_scratch(c.rows, d));
  lu_cpu::backward(c.rows, d, lu.data(), w.data(), c.diag.data(), c.x.data(), c.r_y.data(),
                   c.r_logdet.data(), g.lower.data(), g.upper.data(), g.diag.data(), g.bias.data(),
                   g.x.data(), scratch.data());
  return g;
}

TEST(LuLinearGradcheck, AllParametersAndInputAgainstCentralDifferences) {
  std::mt19937_64 rng(11);
  // 300 rows: three GEMM chunks of 128 rows, so the chunked dW reduction is exercised.
  const std::pair<int64_t, int64_t> shapes[] = {{4, 1}, {4, 2}, {5, 3}, {7, 5}, {300, 3}};
  for (const auto& [rows, d] : shapes) {
    const std::string what = "B=" + std::to_string(rows) + " D=" + std::to_string(d);
    Case c(rows, d, rng);
    const Grads g = analytic(c);
    auto loss = [&] { return c.loss(); };
    // G grows with the batch (a sum over rows of O(1) terms): scale the tolerance with it, as
    // the differences' rounding (~1e-16 |G| / 1e-6) does.
    const double tol = 1e-6 * (1.0 + rows / 50.0);
    if (d > 1) {
      EXPECT_TRUE(grads_agree(g.lower, central_differences(c.lower, loss), what + " lower", tol));
      EXPECT_TRUE(grads_agree(g.upper, central_differences(c.upper, loss), what + " upper", tol));
    }
    EXPECT_TRUE(grads_agree(g.diag, central_differences(c.diag, loss), what + " diag", tol));
    EXPECT_TRUE(grads_agree(g.bias, central_differences(c.bias, loss), what + " bias", tol));
    EXPECT_TRUE(grads_agree(g.x, central_differences(c.x, loss), what + " input", tol));
  }
}

TEST(LuLinearGradcheck, WithoutDlogdetOnlyTheMapIsDifferentiated) {
  std::mt19937_64 rng(12);
  Case c(6, 4, rng);
  c.r_logdet.assign(c.rows, 0.0);
  const Grads with_zeros = analytic(c);
  // Null dlogdet must mean "no log|det| gradient", the same as all zeros.
  std::vector<double> lu(16), w(16), ld(1), scratch(lu_cpu::backward_scratch(6, 4));
  lu_cpu::prepare(int64_t(4), c.lower.data(), c.upper.data(), c.diag.data(), lu.data(), w.data(),
                  ld.data());
  Grads g{std::vector<double>(6, 0.0), std::vector<double>(6, 0.0), std::vector<double>(4, 0.0),
          std::vector<double>(4, 0.0), std::vector<double>(24, 0.0)};
  lu_cpu::backward<double>(6, 4, lu.data(), w.data(), c.diag.data(), c.x.data(), c.r_y.data(),
                           nullptr, g.lower.data(), g.upper.data(), g.diag.data(), g.bias.data(),
                           g.x.data(), scratch.data());
  EXPECT_EQ(g.diag, with_zeros.diag);
  EXPECT_EQ(g.lower, with_zeros.lower);
}

// The float layer (ParameterSet slots, cache, scratch, accumulation into grads) against the
// gradient-checked double code on the same values.
TEST(LuLinearGradcheck, FloatLayerMatchesTheCheckedDoubleCode) {
  std::mt19937_64 rng(13);
  const int64_t rows = 37, d = 5;
  Case c(rows, d, rng);
  auto to_float = [](const std::vector<double>& v) {
    return std::vector<float>(v.begin(), v.end());
  };
  for (auto* v : {&c.lower, &c.upper, &c.diag, &c.bias, &c.x, &c.r_y, &c.r_logdet})
    for (double& e : *v) e = static_cast<float>(e);  // both sides see the same float inputs

  ParameterSet ps;
  LuLinear lu(ps, "lu", d);
  Generator gen(0);
  ps.materialize(Device::cpu(), gen);
  const Device cpu = Device::cpu();
  ps.value(lu.lower_slot()).copy_(Tensor::from(to_float(c.lower), {10}, cpu));
  ps.value(lu.upper_slot()).copy_(Tensor::from(to_float(c.upper), {10}, cpu));
  ps.value(lu.diag_slot()).copy_(Tensor::from(to_float(c.diag), {d}, cpu));
  ps.value(lu.bias_slot()).copy_(Tensor::from(to_float(c.bias), {d}, cpu));
  // Gradients accumulate: start from ones and expect ones + the gradient.
  ps.grads().fill_(1.0f);
  const Tensor x = Tensor::from(to_float(c.x), {rows, d}, cpu);
  const Tensor dy = Tensor::from(to_float(c.r_y), {rows, d}, cpu);
  const Tensor dl = Tensor::from(to_float(c.r_logdet), {rows}, cpu);
  Tensor dx = Tensor::empty({rows, d}, cpu);
  lu.prepare(ps);
  lu.backward(ps, x, dy, dl, dx);

  const Grads g = analytic(c);
  auto plus_one = [&](const std::vector<double>& v) {
    std::vector<float> out(v.size());
    for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<float>(v[i] + 1.0);
    return out;
  };
  // Float sums over 37 rows of O(1) products and then over D = 5 terms: ~1e-5 relative.
  const double atol = 1e-4, rtol = 1e-4;
  EXPECT_TRUE(
      testing::all_close(ps.grad(lu.lower_slot()).to_vector(), plus_one(g.lower), atol, rtol));
  EXPECT_TRUE(
      testing::all_close(ps.grad(lu.upper_slot()).to_vector(), plus_one(g.upper), atol, rtol));
  EXPECT_TRUE(
      testing::all_close(ps.grad(lu.diag_slot()).to_vector(), plus_one(g.diag), atol, rtol));
  EXPECT_TRUE(
      testing::all_close(ps.grad(lu.bias_slot()).to_vector(), plus_one(g.bias), atol, rtol));
  EXPECT_TRUE(testing::all_close(dx.to_vector(), to_float(g.x), atol, rtol));
}

}  // namespace
}  // namespace cusbi
