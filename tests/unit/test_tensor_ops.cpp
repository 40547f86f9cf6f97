// tensor_ops.hpp on the CPU: each op against std:: closed forms or naive loops, broadcasting,
// edge cases (NaN through clamp/minimum/comparisons, bounds errors), and the random fills'
// moments and reproducibility.
#include <cmath>
#include <limits>
#include <vector>

#include "support/test_support.hpp"

namespace cusbi {
namespace {

using cusbi::testing::all_close;
using cusbi::testing::random_tensor;
const Device kCpu = Device::cpu();
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// Every element of op(a) equals the std:: function of the element, bit for bit: the CPU loop
// calls that same function (kernels/elementwise.h), so tolerance 0.
template <class Op, class Ref>
void expect_unary(Op op, Ref ref, float lo, float hi) {
  const Tensor a = random_tensor({7, 33}, lo, hi, 3);
  const std::vector<float> x = a.to_vector(), y = op(a).to_vector();
  ASSERT_EQ(op(a).shape(), a.shape());
  for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y[i], ref(x[i])) << "x = " << x[i];
}

TEST(TensorOps, UnaryMatchesStd) {
  expect_unary([](const Tensor& t) { return sin(t); }, [](float v) { return std::sin(v); }, -10,
               10);
  expect_unary([](const Tensor& t) { return cos(t); }, [](float v) { return std::cos(v); }, -10,
               10);
  expect_unary([](const Tensor& t) { return tanh(t); }, [](float v) { return std::tanh(v); }, -5,
               5);
  expect_unary([](const Tensor& t) { return log1p(t); }, [](float v) { return std::log1p(v); },
               -0.9f, 5);
  expect_unary([](const Tensor& t) { return expm1(t); }, [](float v) { return std::expm1(v); }, -5,
               5);
  expect_unary([](const Tensor& t) { return floor(t); }, [](float v) { return std::floor(v); }, -5,
               5);
  expect_unary([](const Tensor& t) { return pow(t, 2.5f); },
               [](float v) { return std::pow(v, 2.5f); }, 0, 3);
}

TEST(TensorOps, UnaryOutFormsWriteInPlace) {
  Tensor a = random_tensor({5, 3}, -2, 2, 4);
  const std::vector<float> expected = sin(a).to_vector();
  sin(a, a);  // out may be the input itself
  EXPECT_EQ(a.to_vector(), expected);
  Tensor wrong = Tensor::empty({3, 5}, kCpu);
  EXPECT_THROW(tanh(a, wrong), Error);
}

TEST(TensorOps, PowBroadcastsTensorExponent) {
  const Tensor a = Tensor::from({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f}, {2, 3}, kCpu);
  const Tensor p = Tensor::from({0.0f, 1.0f, 2.0f}, {3}, kCpu);
  EXPECT_EQ(pow(a, p).to_vector(), (std::vector<float>{1, 2, 9, 1, 5, 36}));
}

TEST(TensorOps, ClampKeepsNanAndBounds) {
  const Tensor a = Tensor::from({-3.0f, 0.5f, 7.0f, kNan, -kInf, kInf}, {6}, kCpu);
  const std::vector<float> y = clamp(a, -1.0f, 2.0f).to_vector();
  EXPECT_EQ(y[0], -1.0f);
  EXPECT_EQ(y[1], 0.5f);
  EXPECT_EQ(y[2], 2.0f);
  EXPECT_TRUE(std::isnan(y[3]));  // torch.clamp keeps NaN
  EXPECT_EQ(y[4], -1.0f);
  EXPECT_EQ(y[5], 2.0f);
  EXPECT_THROW(clamp(a, 2.0f, -1.0f), Error);
}

TEST(TensorOps, MinimumMaximumBroadcastAndPropagateNan) {
  const Tensor a = Tensor::from({1.0f, 5.0f, kNan, 2.0f}, {2, 2}, kCpu);
  const Tensor b = Tensor::from({3.0f, 0.0f}, {2}, kCpu);
  const std::vector<float> lo = minimum(a, b).to_vector(), hi = maximum(a, b).to_vector();
  EXPECT_EQ(lo[0], 1.0f);
  EXPECT_EQ(lo[1], 0.0f);
  EXPECT_TRUE(std::isnan(lo[2]));
  EXPECT_EQ(lo[3], 0.0f);
  EXPECT_EQ(hi[0], 3.0f);
  EXPECT_EQ(hi[1], 5.0f);
  EXPECT_TRUE(std::isnan(hi[2]));
  EXPECT_EQ(hi[3], 2.0f);
  const Tensor nan_right = Tensor::from({kNan}, {1}, kCpu);
  EXPECT_TRUE(std::isnan(minimum(b, nan_right).to_vector()[0]));
  EXPECT_TRUE(std::isnan(maximum(b, nan_right).to_vector()[1]));
}

TEST(TensorOps, ComparisonsAreFloatMasks) {
  const Tensor a = Tensor::from({1.0f, 2.0f, 3.0f, kNan, 2.0f, 0.0f}, {2, 3}, kCpu);
  const Tensor b = Tensor::from({2.0f, 2.0f, 2.0f}, {3}, kCpu);
  using V = std::vector<float>;
  EXPECT_EQ(lt(a, b).to_vector(), (V{1, 0, 0, 0, 0, 1}));
  EXPECT_EQ(le(a, b).to_vector(), (V{1, 1, 0, 0, 1, 1}));
  EXPECT_EQ(gt(a, b).to_vector(), (V{0, 0, 1, 0, 0, 0}));
  EXPECT_EQ(ge(a, b).to_vector(), (V{0, 1, 1, 0, 1, 0}));
  EXPECT_EQ(eq(a, b).to_vector(), (V{0, 1, 0, 0, 1, 0}));
  EXPECT_EQ(ne(a, b).to_vector(), (V{1, 0, 1, 1, 0, 1}));  // NaN != anything
  EXPECT_EQ(lt(a, 2.0f).to_vector(), lt(a, b).to_vector());
  EXPECT_EQ(le(a, 2.0f).to_vector(), le(a, b).to_vector());
  EXPECT_EQ(gt(a, 2.0f).to_vector(), gt(a, b).to_vector());
  EXPECT_EQ(ge(a, 2.0f).to_vector(), ge(a, b).to_vector());
  EXPECT_EQ(eq(a, 2.0f).to_vector(), eq(a, b).to_vector());
  EXPECT_EQ(ne(a, 2.0f).to_vector(), ne(a, b).to_vector());
  EXPECT_EQ((a < b).to_vector(), lt(a, b).to_vector());
  EXPECT_EQ((a <= b).to_vector(), le(a, b).to_vector());
  EXPECT_EQ((a > b).to_vector(), gt(a, b).to_vector());
  EXPECT_EQ((a >= b).to_vector(), ge(a, b).to_vector());
  EXPECT_EQ((a < 2.0f).to_vector(), lt(a, b).to_vector());
  EXPECT_EQ((a <= 2.0f).to_vector(), le(a, b).to_vector());
  EXPECT_EQ((a > 2.0f).to_vector(), gt(a, b).to_vector());
  EXPECT_EQ((a >= 2.0f).to_vector(), ge(a, b).to_vector());
  const Tensor wide = Tensor::zeros({4}, kCpu);
  EXPECT_THROW(lt(a, wide), Error);  // (2, 3) and (4,) do not broadcast
}

TEST(TensorOps, WhereBroadcastsAllThree) {
  const Tensor mask = Tensor::from({1.0f, 0.0f}, {2, 1}, kCpu);     // per row
  const Tensor a = Tensor::from({10.0f, 20.0f, 30.0f}, {3}, kCpu);  // per column
  const Tensor b = Tensor::from({-1.0f, -2.0f, -3.0f, -4.0f, -5.0f, -6.0f}, {2, 3}, kCpu);
  using V = std::vector<float>;
  const Tensor y = where(mask, a, b);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_EQ(y.to_vector(), (V{10, 20, 30, -4, -5, -6}));
  EXPECT_EQ(where(mask, a, 7.0f).to_vector(), (V{10, 20, 30, 7, 7, 7}));
  EXPECT_EQ(where(mask, 7.0f, b).to_vector(), (V{7, 7, 7, -4, -5, -6}));
  // A NaN mask is != 0, so it selects a, as torch.where(mask.bool(), ...) does.
  const Tensor nan_mask = Tensor::from({kNan}, {1}, kCpu);
  EXPECT_EQ(where(nan_mask, a, 0.0f).to_vector(), a.to_vector());
  Tensor out = b.clone();
  where(mask, a, out, out);  // in place into b's copy
  EXPECT_EQ(out.to_vector(), y.to_vector());
  EXPECT_THROW(where(Tensor::zeros({4}, kCpu), a, b), Error);
}

TEST(TensorOps, NarrowAndSelect) {
  const Tensor a = Tensor::from({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {2, 3, 2}, kCpu);
  using V = std::vector<float>;
  const Tensor n1 = narrow(a, 1, 1, 2);
  EXPECT_EQ(n1.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(n1.to_vector(), (V{2, 3, 4, 5, 8, 9, 10, 11}));
  EXPECT_EQ(narrow(a, -1, 1, 1).to_vector(), (V{1, 3, 5, 7, 9, 11}));
  EXPECT_EQ(narrow(a, 0, 1, 1).to_vector(), (V{6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(narrow(a, 1, 3, 0).numel(), 0);
  const Tensor m = Tensor::from({1, 2, 3, 4, 5, 6}, {3, 2}, kCpu);
  const Tensor col = select(m, 1, 1);  // m[:, 1]
  EXPECT_EQ(col.shape(), (Shape{3}));
  EXPECT_EQ(col.to_vector(), (V{2, 4, 6}));
  EXPECT_EQ(select(m, 0, -1).to_vector(), (V{5, 6}));
  EXPECT_THROW(narrow(a, 1, 2, 2), Error);
  EXPECT_THROW(narrow(a, 1, -1, 1), Error);
  EXPECT_THROW(narrow(a, 3, 0, 1), Error);
  EXPECT_THROW(select(m, 1, 2), Error);
  EXPECT_THROW(select(m, 1, -3), Error);
  EXPECT_THROW(select(m, 2, 0), Error);
}

TEST(TensorOps, TakeAndStackColumns) {
  const Tensor m = Tensor::from({1, 2, 3, 4, 5, 6, 7, 8}, {2, 4}, kCpu);
  using V = std::vector<float>;
  const Tensor t = take_columns(m, {3, 1, 2, 3});  // a reversed pair, a run (1, 2), a repeat
  EXPECT_EQ(t.shape(), (Shape{2, 4}));
  EXPECT_EQ(t.to_vector(), (V{4, 2, 3, 4, 8, 6, 7, 8}));
  EXPECT_THROW(take_columns(m, {4}), Error);
  EXPECT_THROW(take_columns(m, {-1}), Error);
  EXPECT_THROW(take_columns(Tensor::zeros({8}, kCpu), {0}), Error);
  const Tensor c0 = Tensor::from({1, 2, 3}, {3}, kCpu), c1 = Tensor::from({4, 5, 6}, {3, 1}, kCpu);
  const Tensor s = stack_columns({c0, c1});
  EXPECT_EQ(s.shape(), (Shape{3, 2}));
  EXPECT_EQ(s.to_vector(), (V{1, 4, 2, 5, 3, 6}));
  EXPECT_THROW(stack_columns({c0, Tensor::zeros({4}, kCpu)}), Error);
  EXPECT_THROW(stack_columns({c0, Tensor::zeros({3, 2}, kCpu)}), Error);
  EXPECT_THROW(stack_columns({}), Error);
}

TEST(TensorOps, CumsumAlongEachDim) {
  const Tensor a = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3}, kCpu);
  using V = std::vector<float>;
  EXPECT_EQ(cumsum(a, 0).to_vector(), (V{1, 2, 3, 5, 7, 9}));
  EXPECT_EQ(cumsum(a, 1).to_vector(), (V{1, 3, 6, 4, 9, 15}));
  EXPECT_EQ(cumsum(a, -1).to_vector(), cumsum(a, 1).to_vector());
  // Each prefix is the double running sum rounded once: compare with that closed form.
  const Tensor r = random_tensor({3, 1000}, -1, 1, 8);
  const std::vector<float> x = r.to_vector(), y = cumsum(r, 1).to_vector();
  for (int row = 0; row < 3; ++row) {
    double s = 0;
    for (int j = 0; j < 1000; ++j) {
      s += x[static_cast<size_t>(row * 1000 + j)];
      ASSERT_EQ(y[static_cast<size_t>(row * 1000 + j)], static_cast<float>(s));
    }
  }
  EXPECT_THROW(cumsum(a, 2), Error);
}

// Naive double-precision product; Eigen's float GEMM may sum in another order, so the tolerance
// is a few float ulps of the sum of |terms| (K <= 33 terms of size <= 1).
void expect_matmul(int64_t n, int64_t k, int64_t m) {
  const Tensor a = random_tensor({n, k}, -1, 1, 11), b = random_tensor({k, m}, -1, 1, 12);
  const std::vector<float> x = a.to_vector(), w = b.to_vector(), y = matmul(a, b).to_vector();
  ASSERT_EQ(matmul(a, b).shape(), (Shape{n, m}));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) {
      double s = 0;
      for (int64_t l = 0; l < k; ++l) s += double(x[size_t(i * k + l)]) * w[size_t(l * m + j)];
      EXPECT_NEAR(y[size_t(i * m + j)], s, 1e-5 * double(k)) << n << "x" << k << "x" << m;
    }
}

TEST(TensorOps, MatmulMatchesNaiveLoops) {
  for (int64_t n : {1, 7, 33})
    for (int64_t k : {1, 7, 33})
      for (int64_t m : {1, 7, 33}) expect_matmul(n, k, m);
  const Tensor a = random_tensor({7, 33}, -1, 1, 13), v = random_tensor({33}, -1, 1, 14);
  const Tensor mv = matmul(a, v);
  EXPECT_EQ(mv.shape(), (Shape{7}));
  EXPECT_TRUE(all_close(mv, matmul(a, v.reshape({33, 1})).reshape({7}), 0, 0));
  const Tensor u = random_tensor({7}, -1, 1, 15);
  const Tensor vm = matmul(u, a);
  EXPECT_EQ(vm.shape(), (Shape{33}));
  EXPECT_TRUE(all_close(vm, matmul(u.reshape({1, 7}), a).reshape({33}), 0, 0));
  EXPECT_EQ(matmul(Tensor::zeros({2, 0}, kCpu), Tensor::zeros({0, 3}, kCpu)).to_vector(),
            std::vector<float>(6, 0.0f));
  EXPECT_THROW(matmul(a, a), Error);
  EXPECT_THROW(matmul(v, v), Error);
}

TEST(TensorOps, TransposeCopies) {
  const Tensor a = Tensor::from({1, 2, 3, 4, 5, 6}, {2, 3}, kCpu);
  const Tensor t = transpose(a);
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(t.to_vector(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  EXPECT_FALSE(t.shares_memory_with(a));
  EXPECT_THROW(transpose(Tensor::zeros({2, 2, 2}, kCpu)), Error);
}

TEST(TensorOps, RandomFillsMatchDrawsAndReproduce) {
  Generator g1(42), g2(42);
  Tensor t = Tensor::empty({1000}, kCpu);
  normal_(t, 0.0f, 1.0f, &g1);
  EXPECT_EQ(t.to_vector(), randn({1000}, kCpu, &g2).to_vector());  // same stream as randn
  uniform_(t, -2.0f, 3.0f, &g1);
  EXPECT_EQ(t.to_vector(), uniform({1000}, -2.0f, 3.0f, kCpu, &g2).to_vector());
  EXPECT_EQ(g1.offset(), 2000u);
  Generator h1(7), h2(7);
  Tensor p = Tensor::full({64}, 0.3f, kCpu);
  EXPECT_EQ(bernoulli(p, &h1).to_vector(), bernoulli(p, &h2).to_vector());
  EXPECT_THROW(normal_(t, 0.0f, -1.0f, &g1), Error);
  EXPECT_THROW(uniform_(t, 1.0f, 0.0f, &g1), Error);
}

// Moments of 10^5 draws: the standard error of a mean is sd / sqrt(n) ~ 0.003 sd, so 5 standard
// errors (a false alarm about once in 3 million runs, and the seed is fixed) bound each check.
TEST(TensorOps, RandomFillMoments) {
  const int64_t n = 100000;
  const double se = 1.0 / std::sqrt(double(n));
  Generator g(3);
  Tensor t = Tensor::empty({n}, kCpu);
  normal_(t, 2.0f, 0.5f, &g);
  const std::vector<float> z = t.to_vector();
  double m = 0, v = 0;
  for (float x : z) m += x;
  m /= double(n);
  for (float x : z) v += (x - m) * (x - m);
  v /= double(n - 1);
  EXPECT_NEAR(m, 2.0, 5 * 0.5 * se);
  EXPECT_NEAR(v, 0.25,
              5 * 0.25 * std::sqrt(2.0) * se);  // sd of a normal variance ~ sigma^2 sqrt(2/n)
  uniform_(t, -1.0f, 3.0f, &g);
  const std::vector<float> u = t.to_vector();
  double mu = 0;
  for (float x : u) {
    ASSERT_GE(x, -1.0f);
    ASSERT_LT(x, 3.0f);
    mu += x;
  }
  EXPECT_NEAR(mu / double(n), 1.0, 5 * (4.0 / std::sqrt(12.0)) * se);
}

// Frequency of ones vs p: binomial standard error sqrt(p (1 - p) / n); 5 of them with a fixed seed.
TEST(TensorOps, BernoulliFrequencyMatchesP) {
  const int64_t n = 20000;
  const std::vector<float> ps = {0.0f, 0.1f, 0.5f, 0.9f, 1.0f};
  std::vector<float> pv;
  for (float p : ps) pv.insert(pv.end(), size_t(n), p);
  Generator g(9);
  const std::vector<float> y = bernoulli(Tensor::from(pv, {5, n}, kCpu), &g).to_vector();
  for (size_t k = 0; k < ps.size(); ++k) {
    double ones = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float v = y[k * size_t(n) + size_t(i)];
      ASSERT_TRUE(v == 0.0f || v == 1.0f);
      ones += v;
    }
    const double p = ps[k], se = std::sqrt(p * (1 - p) / double(n));
    EXPECT_NEAR(ones / double(n), p, 5 * se + 1e-12) << "p = " << p;  // exact for p = 0 and 1
  }
}

TEST(TensorOps, ErrorsNameTheOp) {
  const Tensor ints = Tensor::from(std::vector<int64_t>{1, 2}, {2}, kCpu);
  try {
    (void)sin(ints);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_TRUE(testing::contains(e.what(), "sin"));
    EXPECT_TRUE(testing::contains(e.what(), "float32"));
  }
  try {
    (void)narrow(Tensor::zeros({2, 3}, kCpu), 1, 2, 5);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_TRUE(testing::contains(e.what(), "narrow"));
    EXPECT_TRUE(testing::contains(e.what(), "(2, 3)"));
  }
}

}  // namespace
}  // namespace cusbi
