// CUDA vs CPU for every Tensor op at awkward sizes (1, 7, 33, 65, 1000, plus 4097 for the
// per-block reduction path), with special values, and GPU determinism (same call, same bits).
// Skipped, and reported as skipped, without a GPU.
#include <cmath>
#include <functional>
#include <limits>
#include <random>

#include "support/test_support.hpp"

namespace cusbi {
namespace {

using cusbi::testing::all_close;
using Op = std::function<Tensor(const std::vector<Tensor>&)>;
const int64_t kSizes[] = {1, 7, 33, 65, 1000};
constexpr float kInf = std::numeric_limits<float>::infinity();

using testing::random_tensor;

// Runs `op` on CPU inputs and on their GPU copies; the results must agree within atol/rtol
// (the callers say why) and the GPU result must stay on the GPU.
::testing::AssertionResult parity(const Op& op, const std::vector<Tensor>& cpu_inputs, double atol,
                                  double rtol) {
  std::vector<Tensor> gpu_inputs;
  for (const Tensor& t : cpu_inputs) gpu_inputs.push_back(t.to(Device::cuda()));
  const Tensor expected = op(cpu_inputs), actual = op(gpu_inputs);
  if (!actual.device().is_cuda()) return ::testing::AssertionFailure() << "result left the GPU";
  return all_close(actual, expected, atol, rtol);
}

// + - * / are single IEEE operations, correctly rounded on both devices (nvcc's default
// -prec-div=true): exact agreement, tolerance 0.
TEST(OpsParity, BinaryAndScalarOpsAreExact) {
  CUSBI_REQUIRE_GPU();
  const std::vector<Op> ops = {
      [](auto& t) { return t[0] + t[1]; },          [](auto& t) { return t[0] - t[1]; },
      [](auto& t) { return t[0] * t[1]; },          [](auto& t) { return t[0] / t[1]; },
      [](auto& t) { return t[1] / t[0]; },          [](auto& t) { return 1.5f - t[0]; },
      [](auto& t) { return t[0] / 3.0f; },          [](auto& t) { return 2.0f / t[0]; },
      [](auto& t) { return t[0] * -0.5f + 0.25f; }, [](auto& t) { return -t[0]; }};
  for (int64_t n : kSizes) {
    const std::vector<std::pair<Shape, Shape>> shapes = {
        {{n}, {n}}, {{n, 3}, {3}}, {{3}, {n, 3}}, {{n, 3}, {}}, {{2, n}, {1, n}}};
    for (const auto& [sa, sb] : shapes) {
      const Tensor a = random_tensor(sa, 0.5f, 4.0f, 1), b = random_tensor(sb, -4.0f, 4.0f, 2);
      for (size_t k = 0; k < ops.size(); ++k)
        EXPECT_TRUE(parity(ops[k], {a, b}, 0, 0))
            << "op " << k << ", shapes " << shape_str(sa) << " " << shape_str(sb);
    }
  }
}

// abs/relu/square/neg are exact; sqrt is correctly rounded on both (-prec-sqrt=true). exp and
// log: CUDA's expf is within 2 ulp and logf 1 ulp, glibc's within 1, and sigmoid adds one
// rounded add and divide, so rtol 1e-6 (about 8 float ulp) covers them with margin.
TEST(OpsParity, UnaryOps) {
  CUSBI_REQUIRE_GPU();
  const std::vector<std::pair<Tensor (*)(const Tensor&), double>> ops = {
      {&exp, 1e-6}, {&sigmoid, 1e-6}, {&abs, 0}, {&square, 0}, {&relu, 0}};
  for (int64_t n : kSizes) {
    const Tensor x = random_tensor({n}, -9.0f, 9.0f, 3), p = random_tensor({n}, 1e-3f, 60.0f, 4);
    for (const auto& [f, rtol] : ops)
      EXPECT_TRUE(parity([f = f](auto& t) { return f(t[0]); }, {x}, 0, rtol)) << n;
    EXPECT_TRUE(parity([](auto& t) { return log(t[0]); }, {p}, 0, 1e-6)) << n;
    EXPECT_TRUE(parity([](auto& t) { return sqrt(t[0]); }, {p}, 0, 0)) << n;
  }
  const Tensor special =
      Tensor::from({0.0f, -1.0f, 100.0f, -100.0f, kInf, -kInf}, {6}, Device::cpu());
  for (const auto& [f, rtol] : ops)
    EXPECT_TRUE(parity([f = f](auto& t) { return f(t[0]); }, {special}, 0, 1e-6));
  EXPECT_TRUE(parity([](auto& t) { return log(t[0]); }, {special}, 0, 1e-6));
}

// Sums accumulate in double on both devices (GPU block path: another fixed order) and are
// rounded to float once, so they agree to 1 float ulp; rtol 2.5e-7 is 2 ulp. Max is exact.
// atol 1e-30 only admits signed zeros and denormal-level noise.
TEST(OpsParity, ReductionsOverDims) {
  CUSBI_REQUIRE_GPU();
  const std::vector<Tensor (*)(const Tensor&, int64_t)> ops = {&sum, &mean, &max, &logsumexp};
  std::vector<int64_t> sizes(std::begin(kSizes), std::end(kSizes));
  sizes.push_back(4097);  // few outputs, long lines: the one-block-per-output kernel
  for (int64_t n : sizes) {
    const std::vector<std::pair<Shape, int64_t>> cases = {{{n}, 0},    {{n, 3}, 0}, {{n, 3}, -1},
                                                          {{3, n}, 1}, {{3, n}, 0}, {{2, n, 3}, 1}};
    for (const auto& [shape, dim] : cases) {
      const Tensor a = random_tensor(shape, -20.0f, 20.0f, 5);
      for (size_t k = 0; k < ops.size(); ++k)
        EXPECT_TRUE(
            parity([&, k, dim = dim](auto& t) { return ops[k](t[0], dim); }, {a}, 1e-30, 2.5e-7))
            << "op " << k << ", shape " << shape_str(shape) << ", dim " << dim;
    }
  }
}

TEST(OpsParity, ReductionsWithInfinitiesAndNaN) {
  CUSBI_REQUIRE_GPU();
  for (int64_t len : {3, 600}) {  // thread path and block path
    std::vector<float> v(static_cast<size_t>(4 * len), 1.0f);
    for (int64_t k = 0; k < len; ++k) v[static_cast<size_t>(k)] = -kInf;  // row 0: all -inf
    v[static_cast<size_t>(len + 1)] = kInf;                               // row 1: one +inf
    v[static_cast<size_t>(2 * len + 2)] = std::nanf("");                  // row 2: one NaN
    const Tensor a = Tensor::from(v, {4, len}, Device::cpu());
    EXPECT_TRUE(parity([](auto& t) { return logsumexp(t[0], 1); }, {a}, 0, 2.5e-7)) << len;
    EXPECT_TRUE(parity([](auto& t) { return max(t[0], 1); }, {a}, 0, 0)) << len;
    EXPECT_TRUE(parity([](auto& t) { return sum(t[0], 1); }, {a}, 0, 2.5e-7)) << len;
  }
}

// sum_all: both devices add in double in orders fixed by n, one float rounding: 2 ulp.
TEST(OpsParity, SumAllAndDeterminism) {
  CUSBI_REQUIRE_GPU();
  std::vector<int64_t> sizes(std::begin(kSizes), std::end(kSizes));
  sizes.push_back((1 << 20) + 3);  // many partial blocks
  for (int64_t n : sizes) {
    const Tensor a = random_tensor({n}, -1.0f, 2.0f, 6);
    const Tensor g = a.to(Device::cuda());
    const float gpu = sum_all(g);
    EXPECT_NEAR(gpu, sum_all(a), 2.5e-7 * std::fabs(sum_all(a))) << n;
    EXPECT_EQ(sum_all(g), gpu) << n;  // same call, same bits
  }
  const Tensor big = random_tensor({4097, 5}, -1.0f, 1.0f, 7).to(Device::cuda());
  EXPECT_EQ(sum(big, 0).to_vector(), sum(big, 0).to_vector());
  EXPECT_EQ(logsumexp(big, 0).to_vector(), logsumexp(big, 0).to_vector());
}

// Copies only: exact.
TEST(OpsParity, Cat) {
  CUSBI_REQUIRE_GPU();
  for (int64_t n : kSizes) {
    const Tensor a = random_tensor({n, 3}, -1, 1, 8), b = random_tensor({n, 2}, -1, 1, 9);
    const Tensor c = random_tensor({2, 3}, -1, 1, 10);
    EXPECT_TRUE(parity([](auto& t) { return cat({t[0], t[1]}, 1); }, {a, b}, 0, 0)) << n;
    EXPECT_TRUE(parity([](auto& t) { return cat({t[0], t[1], t[0]}, 0); }, {a, c}, 0, 0)) << n;
    const Op last = [n](auto& t) {
      const Tensor col = t[0].reshape({n, 3, 1});
      return cat({col, col * 2.0f}, -1);
    };
    EXPECT_TRUE(parity(last, {a}, 0, 0)) << n;
  }
}

TEST(OpsParity, FiniteChecks) {
  CUSBI_REQUIRE_GPU();
  for (int64_t n : kSizes) {
    std::vector<float> v(static_cast<size_t>(n), 0.5f);
    EXPECT_TRUE(all_finite(Tensor::from(v, {n}, Device::cuda()))) << n;
    for (float bad : {std::nanf(""), kInf, -kInf}) {
      v.back() = bad;
      const Tensor g = Tensor::from(v, {n}, Device::cuda());
      EXPECT_FALSE(all_finite(g)) << n << " " << bad;
      try {
        check_finite(g, "gpu tensor");
        ADD_FAILURE() << "check_finite did not throw";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("at flat index " + std::to_string(n - 1)),
                  std::string::npos)
            << e.what();
      }
      v.back() = 0.5f;
    }
  }
}

}  // namespace
}  // namespace cusbi
