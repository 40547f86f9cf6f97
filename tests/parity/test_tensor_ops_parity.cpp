// CUDA vs CPU for the ops of tensor_ops.hpp at awkward sizes, each with the tolerance its math
// allows, and the GPU results staying on the GPU. Skipped, and reported as skipped, without a GPU.
#include <cmath>
#include <functional>
#include <limits>

#include "support/test_support.hpp"

namespace cusbi {
namespace {

using cusbi::testing::all_close;
using cusbi::testing::random_tensor;
using Op = std::function<Tensor(const std::vector<Tensor>&)>;
const int64_t kSizes[] = {1, 7, 33, 65, 1000};
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();

// op on CPU inputs and on their GPU copies; the results agree within atol/rtol (callers say why).
::testing::AssertionResult parity(const Op& op, const std::vector<Tensor>& cpu_inputs, double atol,
                                  double rtol) {
  std::vector<Tensor> gpu_inputs;
  for (const Tensor& t : cpu_inputs) gpu_inputs.push_back(t.to(Device::cuda()));
  const Tensor expected = op(cpu_inputs), actual = op(gpu_inputs);
  if (!actual.device().is_cuda()) return ::testing::AssertionFailure() << "result left the GPU";
  return all_close(actual, expected, atol, rtol);
}

// sin/cos/tanh/log1p/expm1/pow: glibc is within 1 ulp, CUDA's float functions within 1-4 ulp
// (CUDA programming guide, "Mathematical functions"): rtol 1e-6 is about 8 ulp; atol 1e-7
// covers results near 0 (sin near k pi), where an ulp of the argument dominates.
TEST(TensorOpsParity, TranscendentalsAgreeToAFewUlp) {
  CUSBI_REQUIRE_GPU();
  const std::vector<Op> ops = {
      [](auto& t) { return sin(t[0]); },           [](auto& t) { return cos(t[0]); },
      [](auto& t) { return tanh(t[0]); },          [](auto& t) { return log1p(abs(t[0])); },
      [](auto& t) { return expm1(t[0]); },         [](auto& t) { return pow(abs(t[0]), 1.7f); },
      [](auto& t) { return pow(abs(t[0]), t[1]); }};
  for (int64_t n : kSizes) {
    const Tensor a = random_tensor({n, 3}, -4.0f, 4.0f, 1), b = random_tensor({3}, -2.0f, 2.0f, 2);
    for (size_t k = 0; k < ops.size(); ++k)
      EXPECT_TRUE(parity(ops[k], {a, b}, 1e-7, 1e-6)) << "op " << k << ", n " << n;
  }
}

// floor, clamp, min/max, comparisons, where, slicing, transpose: selections and exact IEEE
// operations, so the bits agree (tolerance 0; NaN must stay NaN on both).
TEST(TensorOpsParity, ExactOpsAreBitIdentical) {
  CUSBI_REQUIRE_GPU();
  const std::vector<Op> ops = {
      [](auto& t) { return floor(t[0]); },
      [](auto& t) { return clamp(t[0], -1.0f, 2.0f); },
      [](auto& t) { return minimum(t[0], t[1]); },
      [](auto& t) { return maximum(t[0], t[1]); },
      [](auto& t) { return lt(t[0], t[1]); },
      [](auto& t) { return ge(t[0], 0.5f); },
      [](auto& t) { return ne(t[0], t[1]); },
      [](auto& t) { return where(gt(t[0], t[1]), t[0], t[1]); },
      [](auto& t) { return where(t[2], t[1], 3.0f); },
      [](auto& t) { return where(t[2], -3.0f, t[0]); },
      [](auto& t) { return narrow(t[0], 1, 1, 2); },
      [](auto& t) { return select(t[0], 1, 2); },
      [](auto& t) {
        return take_columns(t[0], {2, 0, 1, 2});
      },
      [](auto& t) {
        return stack_columns({select(t[0], 1, 0), t[2], select(t[0], 1, 2)});
      },
      [](auto& t) { return transpose(t[0]); },
      [](auto& t) { return cumsum(t[0], 0); },  // double running sums, one order: exact
      [](auto& t) { return cumsum(t[0], 1); }};
  for (int64_t n : kSizes) {
    std::vector<float> v = random_tensor({n, 3}, -3.0f, 3.0f, 3).to_vector();
    v[0] = kNan;
    const Tensor a = Tensor::from(v, {n, 3}, Device::cpu());
    const Tensor b = random_tensor({3}, -3.0f, 3.0f, 4);
    const Tensor mask = gt(random_tensor({n, 1}, 0.0f, 1.0f, 5), 0.5f);
    for (size_t k = 0; k < ops.size(); ++k)
      EXPECT_TRUE(parity(ops[k], {a, b, mask}, 0, 0)) << "op " << k << ", n " << n;
  }
}

// cuBLAS and Eigen sum K products in different orders: a few float ulps of the sum of |terms|
// (K <= 65 terms of size <= 1), so atol 1e-5 * K.
TEST(TensorOpsParity, MatmulAgreesWithinSummationOrder) {
  CUSBI_REQUIRE_GPU();
  for (int64_t n : {1, 7, 33})
    for (int64_t k : {1, 7, 65})
      for (int64_t m : {1, 7, 33}) {
        const Tensor a = random_tensor({n, k}, -1, 1, 6), b = random_tensor({k, m}, -1, 1, 7);
        const Tensor v = random_tensor({k}, -1, 1, 8);
        const double atol = 1e-5 * double(k);
        EXPECT_TRUE(parity([](auto& t) { return matmul(t[0], t[1]); }, {a, b}, atol, 0));
        EXPECT_TRUE(parity([](auto& t) { return matmul(t[0], t[1]); }, {a, v}, atol, 0));
        EXPECT_TRUE(parity([](auto& t) { return matmul(t[1], t[0]); }, {b, v}, atol, 0));
      }
}

// Same seed, same numbers: uniform_ and bernoulli are exact (one fma, one comparison of a
// 24-bit uniform); normal_ is randn's Box-Muller in double, a few float ulps (as randn's parity).
TEST(TensorOpsParity, RandomFillsMatchAcrossDevices) {
  CUSBI_REQUIRE_GPU();
  for (int64_t n : kSizes) {
    Generator gc(11), gg(11);
    Tensor c = Tensor::empty({n, 3}, Device::cpu()), g = Tensor::empty({n, 3}, Device::cuda());
    uniform_(c, -2.0f, 5.0f, &gc);
    uniform_(g, -2.0f, 5.0f, &gg);
    EXPECT_EQ(g.to_vector(), c.to_vector()) << n;
    normal_(c, 1.5f, 0.5f, &gc);
    normal_(g, 1.5f, 0.5f, &gg);
    EXPECT_TRUE(all_close(g, c, 1e-6, 5e-7)) << n;
    const Tensor p = random_tensor({n, 3}, -0.1f, 1.1f, 9);
    const Tensor bc = bernoulli(p, &gc), bg = bernoulli(p.to(Device::cuda()), &gg);
    EXPECT_TRUE(bg.device().is_cuda());
    EXPECT_EQ(bg.to_vector(), bc.to_vector()) << n;
    EXPECT_EQ(gg.offset(), gc.offset());
  }
}

// Errors are device-independent: mixing devices names the op and the fix.
TEST(TensorOpsParity, MixedDevicesAreRejected) {
  CUSBI_REQUIRE_GPU();
  const Tensor c = Tensor::zeros({2, 2}, Device::cpu()), g = Tensor::zeros({2, 2}, Device::cuda());
  EXPECT_THROW(matmul(c, g), Error);
  EXPECT_THROW(minimum(c, g), Error);
  EXPECT_THROW(where(c, g, 1.0f), Error);
  EXPECT_THROW(stack_columns({select(c, 1, 0), select(g, 1, 0)}), Error);
}

}  // namespace
}  // namespace cusbi
