// Tensor ops on the CPU against plain std:: references: elementwise (+ - * / with suffix
// broadcasting (general broadcasting and out= forms: test_ops_broadcast.cpp), scalars, unary math),
// reductions over a dim (incl. -inf/inf/NaN rows and empty dims), sum_all, cat, finiteness checks,
// and the error messages of misuse.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <random>

#include "support/test_support.hpp"

namespace cusbi {
namespace {

using cusbi::testing::contains;
using cusbi::testing::error_of;

using cusbi::testing::all_close;
const Device kCpu = Device::cpu();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<float> values(int64_t n, float lo, float hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = u(rng);
  return v;
}

// out[i] = f(a[i % na], b[i % nb]) computed in float, as one IEEE operation per element.
std::vector<float> reference(const std::vector<float>& a, const std::vector<float>& b, size_t n,
                             const std::function<float(float, float)>& f) {
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = f(a[i % a.size()], b[i % b.size()]);
  return out;
}

struct BinaryCase {
  Shape a, b, out;
};

// Every op over every broadcast pattern. + - * / are single correctly rounded IEEE operations
// on both sides, so the results must be bit-identical (tolerance 0).
TEST(Ops, BinaryBroadcastsBySuffix) {
  const std::vector<BinaryCase> cases = {
      {{3, 4}, {3, 4}, {3, 4}},       {{3, 4}, {4}, {3, 4}},
      {{4}, {3, 4}, {3, 4}},          {{3, 4}, {1, 4}, {3, 4}},
      {{3, 4}, {}, {3, 4}},           {{}, {3, 4}, {3, 4}},
      {{2, 3, 4}, {3, 4}, {2, 3, 4}}, {{1, 3, 4}, {2, 3, 4}, {2, 3, 4}},
      {{0, 4}, {4}, {0, 4}}};
  const std::vector<std::pair<std::function<Tensor(const Tensor&, const Tensor&)>,
                              std::function<float(float, float)>>>
      ops = {{[](const Tensor& x, const Tensor& y) { return x + y; }, std::plus<float>()},
             {[](const Tensor& x, const Tensor& y) { return x - y; }, std::minus<float>()},
             {[](const Tensor& x, const Tensor& y) { return x * y; }, std::multiplies<float>()},
             {[](const Tensor& x, const Tensor& y) { return x / y; }, std::divides<float>()}};
  for (const BinaryCase& c : cases) {
    const auto va = values(shape_numel(c.a), 0.5f, 2.0f, 1),
               vb = values(shape_numel(c.b), -2.0f, 2.0f, 2);
    const Tensor a = Tensor::from(va, c.a, kCpu), b = Tensor::from(vb, c.b, kCpu);
    for (const auto& [op, f] : ops) {
      const Tensor out = op(a, b);
      ASSERT_EQ(out.shape(), c.out) << shape_str(c.a) << " with " << shape_str(c.b);
      EXPECT_EQ(out.to_vector(), reference(va, vb, static_cast<size_t>(out.numel()), f))
          << shape_str(c.a) << " with " << shape_str(c.b);
    }
  }
}

TEST(Ops, BinaryShapeErrorsNameBothShapes) {
  const Tensor a = Tensor::zeros({3, 4}, kCpu);
  const std::string column = error_of([&] { a + Tensor::zeros({2, 1}, kCpu); });
  EXPECT_TRUE(contains(column, "operator+: shapes (3, 4) and (2, 1) do not broadcast"));
  EXPECT_TRUE(contains(column, "equal or 1"));
  EXPECT_TRUE(contains(error_of([&] { a* Tensor::zeros({3}, kCpu); }), "(3, 4) and (3,)"));
  EXPECT_TRUE(contains(error_of([&] { Tensor::zeros({2, 4}, kCpu) / a; }), "(2, 4) and (3, 4)"));
  EXPECT_TRUE(contains(error_of([&] { a - Tensor(); }), "undefined"));
}

// A tensor on another device needs a GPU to exist; the CPU-only half is tested in test_device.
TEST(Ops, DifferentDevicesAskForTo) {
  CUSBI_REQUIRE_GPU();
  const Tensor a = Tensor::zeros({2}, kCpu), b = Tensor::zeros({2}, Device::cuda());
  const std::string msg = error_of([&] { a + b; });
  EXPECT_TRUE(contains(msg, "different devices (cpu and cuda:0)"));
  EXPECT_TRUE(contains(msg, ".to("));
  EXPECT_TRUE(contains(error_of([&] { cat({a, b}); }), "different devices"));
}

TEST(Ops, ScalarOperandsOnEitherSide) {
  const auto v = values(7, 0.5f, 2.0f, 3);
  const Tensor a = Tensor::from(v, {7}, kCpu);
  const float s = 1.75f;
  auto map = [&](const std::function<float(float)>& f) {
    std::vector<float> out;
    for (float x : v) out.push_back(f(x));
    return out;
  };
  // One IEEE operation per element on both sides: exact.
  EXPECT_EQ((a + s).to_vector(), map([&](float x) { return x + s; }));
  EXPECT_EQ((a - s).to_vector(), map([&](float x) { return x - s; }));
  EXPECT_EQ((a * s).to_vector(), map([&](float x) { return x * s; }));
  EXPECT_EQ((a / s).to_vector(), map([&](float x) { return x / s; }));
  EXPECT_EQ((s + a).to_vector(), map([&](float x) { return s + x; }));
  EXPECT_EQ((s - a).to_vector(), map([&](float x) { return s - x; }));
  EXPECT_EQ((s * a).to_vector(), map([&](float x) { return s * x; }));
  EXPECT_EQ((s / a).to_vector(), map([&](float x) { return s / x; }));
  EXPECT_EQ((-a).to_vector(), map([](float x) { return -x; }));
  EXPECT_EQ((a * 2.0f).shape(), Shape{7});
}

// Unary math against a double-precision reference. rtol 4e-7 (about 3 float ulp): the result
// is rounded once to float (0.5 ulp) and libm's float exp/log are within 1 ulp; sigmoid adds
// one division and one addition.
TEST(Ops, UnaryMatchesStdReference) {
  const auto v = values(101, -8.0f, 8.0f, 4), pos = values(101, 1e-3f, 50.0f, 5);
  const Tensor a = Tensor::from(v, {101}, kCpu), p = Tensor::from(pos, {101}, kCpu);
  auto ref = [](const std::vector<float>& in, double (*f)(double)) {
    std::vector<float> out;
    for (float x : in) out.push_back(static_cast<float>(f(x)));
    return out;
  };
  constexpr double kRtol = 4e-7;
  EXPECT_TRUE(
      all_close(exp(a).to_vector(), ref(v, [](double x) { return std::exp(x); }), 0, kRtol));
  EXPECT_TRUE(
      all_close(log(p).to_vector(), ref(pos, [](double x) { return std::log(x); }), 0, kRtol));
  EXPECT_TRUE(
      all_close(sqrt(p).to_vector(), ref(pos, [](double x) { return std::sqrt(x); }), 0, kRtol));
  EXPECT_TRUE(all_close(square(a).to_vector(), ref(v, [](double x) { return x * x; }), 0, kRtol));
  EXPECT_TRUE(all_close(sigmoid(a).to_vector(),
                        ref(v, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }), 0, kRtol));
  // abs and relu are exact.
  EXPECT_EQ(abs(a).to_vector(), ref(v, [](double x) { return std::fabs(x); }));
  EXPECT_EQ(relu(a).to_vector(), ref(v, [](double x) { return x > 0 ? x : 0.0; }));
}

TEST(Ops, UnarySpecialValues) {
  const Tensor t = Tensor::from({0.0f, -1.0f, 100.0f, -100.0f, kInf}, {5}, kCpu);
  const auto lg = log(t).to_vector(), sq = sqrt(t).to_vector(), ex = exp(t).to_vector();
  EXPECT_EQ(lg[0], -kInf);
  EXPECT_TRUE(std::isnan(lg[1]));
  EXPECT_TRUE(std::isnan(sq[1]));
  EXPECT_EQ(ex[2], kInf);
  EXPECT_GE(ex[3], 0.0f);  // exp(-100) = 3.7e-44 is denormal: flushed or not, in [0, 1e-43)
  EXPECT_LT(ex[3], 1e-43f);
  const auto sg = sigmoid(t).to_vector();
  // Stable sigmoid: saturates without NaN at both ends.
  EXPECT_EQ(sg[2], 1.0f);
  EXPECT_GE(sg[3], 0.0f);
  EXPECT_LT(sg[3], 1e-40f);
  EXPECT_EQ(sg[4], 1.0f);
}

// Reference reduction over `dim` of a row-major tensor, in double.
std::vector<float> reduce_ref(const std::vector<float>& v, const Shape& shape, int64_t dim,
                              const std::string& op) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= shape[d];
  for (size_t d = dim + 1; d < shape.size(); ++d) inner *= shape[d];
  const int64_t len = shape[dim];
  std::vector<float> out;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double s = 0, m = -INFINITY;
      for (int64_t k = 0; k < len; ++k) m = std::max<double>(m, v[(o * len + k) * inner + i]);
      for (int64_t k = 0; k < len; ++k) {
        const double x = v[(o * len + k) * inner + i];
        s += op == "logsumexp" ? std::exp(x - m) : x;
      }
      const double r = op == "sum" ? s : op == "mean" ? s / len : op == "max" ? m : m + std::log(s);
      out.push_back(static_cast<float>(r));
    }
  return out;
}

// Every dim of a 3-D tensor, given positive and negative. rtol 2e-7: both sides accumulate in
// double and round once to float, so they differ by at most one float ulp (~1.2e-7).
TEST(Ops, ReductionsOverEveryDim) {
  const Shape shape = {3, 5, 4};
  const auto v = values(60, -3.0f, 3.0f, 6);
  const Tensor a = Tensor::from(v, shape, kCpu);
  const std::vector<std::pair<std::string, Tensor (*)(const Tensor&, int64_t)>> ops = {
      {"sum", &sum}, {"mean", &mean}, {"max", &max}, {"logsumexp", &logsumexp}};
  for (const auto& [name, op] : ops)
    for (int64_t dim = -3; dim < 3; ++dim) {
      const int64_t d = dim < 0 ? dim + 3 : dim;
      const Tensor out = op(a, dim);
      Shape expected_shape = shape;
      expected_shape.erase(expected_shape.begin() + d);
      ASSERT_EQ(out.shape(), expected_shape) << name << " dim " << dim;
      EXPECT_TRUE(all_close(out.to_vector(), reduce_ref(v, shape, d, name), 1e-7, 2e-7))
          << name << " dim " << dim;
    }
}

TEST(Ops, LogSumExpIsStableAndHandlesInfinities) {
  const Tensor t = Tensor::from({1000.0f, 1000.0f, -1000.0f, -1000.0f,  // huge, tiny: no overflow
                                 -kInf, -kInf, -kInf, 2.0f,             // all -inf; one finite
                                 kInf, 1.0f, kNaN, 1.0f},               // +inf wins; NaN spreads
                                {6, 2}, kCpu);
  const auto r = logsumexp(t, 1).to_vector();
  EXPECT_FLOAT_EQ(r[0], 1000.0f + std::log(2.0f));  // FLOAT_EQ: 4 ulp, one log and one add
  EXPECT_FLOAT_EQ(r[1], -1000.0f + std::log(2.0f));
  EXPECT_EQ(r[2], -kInf);
  EXPECT_EQ(r[3], 2.0f);
  EXPECT_EQ(r[4], kInf);
  EXPECT_TRUE(std::isnan(r[5]));
  const auto m = max(t, 1).to_vector();
  EXPECT_EQ(m[2], -kInf);
  EXPECT_TRUE(std::isnan(m[5]));  // as torch.max: NaN propagates
}

TEST(Ops, ReductionsOverEmptyAndInvalidDims) {
  const Tensor e = Tensor::zeros({2, 0}, kCpu);
  EXPECT_EQ(sum(e, 1).to_vector(), std::vector<float>(2, 0.0f));
  EXPECT_TRUE(std::isnan(mean(e, 1).to_vector()[0]));  // 0/0, as torch
  EXPECT_EQ(logsumexp(e, 1).to_vector(), std::vector<float>(2, -kInf));
  EXPECT_EQ(sum(e, 0).shape(), Shape{0});
  EXPECT_TRUE(contains(error_of([&] { max(e, 1); }), "empty"));
  const Tensor a = Tensor::zeros({2, 3}, kCpu);
  const std::string msg = error_of([&] { sum(a, 2); });
  EXPECT_TRUE(contains(msg, "sum: dimension 2 is out of range for shape (2, 3)"));
  EXPECT_TRUE(contains(error_of([&] { mean(a, -3); }), "valid: -2 to 1"));
  EXPECT_TRUE(contains(error_of([] { sum(Tensor::scalar(1.0f, Device::cpu()), 0); }), "scalar"));
}

// 1 followed by 1e5 values of 1e-8: a float accumulator stays at exactly 1 (each addend is
// below half an ulp of 1), a double one reaches 1.001. The chunked OpenMP sum must give the
// same bits with 1 or 2 threads.
TEST(Ops, SumAllAccumulatesInDoubleDeterministically) {
  std::vector<float> v(100001, 1e-8f);
  v[0] = 1.0f;
  const Tensor t = Tensor::from(v, {100001}, kCpu);
  double ref = 0;
  for (float x : v) ref += x;
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const float one = sum_all(t);
  omp_set_num_threads(2);
  const float two = sum_all(t);
  omp_set_num_threads(threads);
  EXPECT_EQ(one, static_cast<float>(ref));  // exact: both round the double sum once
  EXPECT_EQ(one, two);
  EXPECT_NEAR(one, 1.001f, 1e-6f);  // the float-accumulation answer, 1.0, is 1e-3 away
  EXPECT_EQ(sum_all(Tensor::zeros({0}, kCpu)), 0.0f);
  EXPECT_EQ(sum_all(Tensor::scalar(-2.5f, kCpu)), -2.5f);
}

TEST(Ops, CatAlongAnyDim) {
  const Tensor a = Tensor::from(values(12, -1, 1, 7), {2, 3, 2}, kCpu);
  const Tensor b = Tensor::from(values(8, -1, 1, 8), {2, 2, 2}, kCpu);
  const Tensor c = cat({a, b, Tensor::zeros({2, 0, 2}, kCpu)}, -2);
  ASSERT_EQ(c.shape(), (Shape{2, 5, 2}));
  const auto va = a.to_vector(), vb = b.to_vector(), vc = c.to_vector();
  for (int o = 0; o < 2; ++o)
    for (int k = 0; k < 5; ++k)
      for (int i = 0; i < 2; ++i)
        EXPECT_EQ(vc[(o * 5 + k) * 2 + i],
                  k < 3 ? va[(o * 3 + k) * 2 + i] : vb[(o * 2 + (k - 3)) * 2 + i]);
  const Tensor rows = cat({a, a}, 0);
  ASSERT_EQ(rows.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(rows[3].to_vector(), a[1].to_vector());
  const Tensor last = cat({a, a}, 2);
  ASSERT_EQ(last.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(last[1][2].to_vector(), (std::vector<float>{va[10], va[11], va[10], va[11]}));
  EXPECT_FALSE(cat({a}, 0).shares_memory_with(a));  // always a new tensor
}

TEST(Ops, CatErrors) {
  const Tensor a = Tensor::zeros({2, 3}, kCpu);
  const std::string msg = error_of([&] { cat({a, Tensor::zeros({2, 4}, Device::cpu())}, 0); });
  EXPECT_TRUE(contains(msg, "tensor 1 has shape (2, 4), tensor 0 has shape (2, 3)"));
  EXPECT_TRUE(contains(error_of([&] { cat({a, Tensor::zeros({6}, Device::cpu())}); }), "(6,)"));
  EXPECT_TRUE(contains(error_of([] { cat({}); }), "no tensors"));
  EXPECT_TRUE(contains(error_of([&] { cat({a}, 2); }), "out of range"));
}

TEST(Ops, FiniteChecksFindNaNAndInf) {
  EXPECT_TRUE(all_finite(Tensor::from(values(50, -1e30f, 1e30f, 9), {50}, kCpu)));
  EXPECT_NO_THROW(check_finite(Tensor::zeros({3}, kCpu), "theta"));
  for (float bad : {kNaN, kInf, -kInf}) {
    std::vector<float> v(40000, 1.0f);  // above the OpenMP threshold
    v[31234] = bad;
    const Tensor t = Tensor::from(v, {200, 200}, kCpu);
    EXPECT_FALSE(all_finite(t)) << bad;
    const std::string msg = error_of([&] { check_finite(t, "simulated x"); });
    EXPECT_TRUE(contains(msg, "simulated x has non-finite values")) << bad;
    EXPECT_TRUE(contains(msg, "at flat index 31234")) << bad;
    EXPECT_TRUE(contains(msg, "(200, 200)")) << bad;
  }
  EXPECT_TRUE(all_finite(Tensor::zeros({0}, kCpu)));
}

// Large enough to take the OpenMP paths; elementwise results cannot depend on the thread count.
TEST(Ops, LargeBroadcastMatchesSmallPath) {
  const auto va = values(70000, -1, 1, 10), vb = values(7, -1, 1, 11);
  const Tensor a = Tensor::from(va, {10000, 7}, kCpu), b = Tensor::from(vb, {7}, kCpu);
  const auto out = (a - b).to_vector(), rev = (b - a).to_vector();
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_EQ(out[i], va[i] - vb[i % 7]) << i;
    ASSERT_EQ(rev[i], vb[i % 7] - va[i]) << i;
  }
  const Tensor s = sum(a, 0);
  EXPECT_TRUE(all_close(s.to_vector(), reduce_ref(va, {10000, 7}, 0, "sum"), 1e-6, 2e-7));
}

}  // namespace
}  // namespace cusbi
