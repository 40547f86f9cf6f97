// CUDA vs CPU for general broadcasting, where, and the out= forms (binary, unary, reductions) at
// awkward sizes (1, 7, 33, 65, 1000). Skipped, and reported as skipped, without a GPU.
#include <random>

#include "host/allocation_counter.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using cusbi::testing::all_close;
const int64_t kSizes[] = {1, 7, 33, 65, 1000};
const Device kGpu = Device::cuda();

using testing::random_tensor;

// + - * / are single IEEE operations, correctly rounded on both devices (nvcc's default
// -prec-div=true), and broadcasting only changes which elements meet: exact, tolerance 0.
TEST(BroadcastOutParity, BinaryBroadcastIsExact) {
  CUSBI_REQUIRE_GPU();
  for (int64_t n : kSizes) {
    const std::vector<std::pair<Shape, Shape>> cases = {{{n, 1}, {n, 3}},
                                                        {{1, 5}, {n, 1}},
                                                        {{n, 4}, {4}},
                                                        {{2, n, 1}, {1, 1, 3}},
                                                        {{n, 1, 2}, {3, 1}}};
    for (const auto& [sa, sb] : cases) {
      const Tensor a = random_tensor(sa, 0.5f, 2.0f, 1), b = random_tensor(sb, -2.0f, 2.0f, 2);
      const Tensor ga = a.to(kGpu), gb = b.to(kGpu);
      EXPECT_TRUE(all_close(ga + gb, a + b, 0.0, 0.0)) << shape_str(sa) << shape_str(sb);
      EXPECT_TRUE(all_close(ga - gb, a - b, 0.0, 0.0));
      EXPECT_TRUE(all_close(ga * gb, a * b, 0.0, 0.0));
      EXPECT_TRUE(all_close(ga / gb, a / b, 0.0, 0.0));
      Tensor out = Tensor::empty((a + b).shape(), kGpu);
      div(ga, gb, out);
      EXPECT_TRUE(all_close(out, a / b, 0.0, 0.0));
      const int64_t before = detail::allocation_count();
      mul(ga, gb, out);
      EXPECT_EQ(detail::allocation_count(), before);
      EXPECT_TRUE(all_close(out, a * b, 0.0, 0.0));
    }
  }
}

// where moves floats without arithmetic: exact.
TEST(BroadcastOutParity, WhereIsExact) {
  CUSBI_REQUIRE_GPU();
  for (int64_t n : kSizes) {
    const Tensor mask = random_tensor({n, 1}, -1.0f, 1.0f, 3) * 0.0f + 1.0f;  // all kept
    const Tensor half =
        Tensor::from(std::vector<float>(static_cast<size_t>(n), 0.0f), {n, 1}, Device::cpu());
    const Tensor a = random_tensor({n, 4}, -1.0f, 1.0f, 4);
    for (const Tensor& m : {mask, half}) {
      Tensor cpu = Tensor::empty({n, 4}, Device::cpu()), gpu = Tensor::empty({n, 4}, kGpu);
      where(m, a, -3.0f, cpu);
      where(m.to(kGpu), a.to(kGpu), -3.0f, gpu);
      EXPECT_TRUE(all_close(gpu, cpu, 0.0, 0.0)) << n;
    }
  }
}

// The out= forms run the same kernels as the allocating forms, so on the GPU they must give the
// allocating form's bits (tolerance 0); CPU vs GPU of these kernels is covered by
// test_ops_parity.cpp with its tolerances.
TEST(BroadcastOutParity, OutFormsEqualAllocatingFormsOnTheGpu) {
  CUSBI_REQUIRE_GPU();
  for (int64_t n : kSizes) {
    const Tensor a = random_tensor({n, 7}, 0.1f, 3.0f, 5).to(kGpu);
    Tensor out = Tensor::empty({n, 7}, kGpu);
    exp(a, out);
    EXPECT_TRUE(all_close(out, exp(a), 0.0, 0.0));
    sigmoid(a, out);
    EXPECT_TRUE(all_close(out, sigmoid(a), 0.0, 0.0));
    for (int64_t dim : {0, 1}) {
      Tensor red = Tensor::empty(sum(a, dim).shape(), kGpu);
      sum(a, dim, red);
      EXPECT_TRUE(all_close(red, sum(a, dim), 0.0, 0.0));
      logsumexp(a, dim, red);
      EXPECT_TRUE(all_close(red, logsumexp(a, dim), 0.0, 0.0));
    }
    // One slot of a device buffer, as the trainer writes per-batch loss sums.
    Tensor sums = Tensor::zeros({3}, kGpu);
    const Tensor losses = a.reshape({-1});
    sum(losses, 0, sums[1]);
    EXPECT_EQ(sums.to_vector()[1], sum(losses, 0).item());
  }
}

}  // namespace
}  // namespace cusbi
