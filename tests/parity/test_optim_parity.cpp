// CUDA vs CPU parity of the optimiser at awkward sizes: Adam steps and the global norm / clip
// must give the same bits on both devices (same per-element float ops from kernels/adam.h, the
// same reduction layout from kernels/reduce_norm.h). Skipped when no GPU is visible.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "host/allocation_counter.hpp"
#include "host/optim/grad_norm.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

const Device kCpu = Device::cpu();
const std::vector<int64_t> kSizes = {1, 7, 33, 65, 1000, 4097, (1 << 20) + 3};

std::vector<float> random_vector(int64_t n, uint64_t seed, float scale) {
  Generator gen(seed);
  std::vector<float> x = randn({n}, kCpu, &gen).to_vector();
  for (float& v : x) v *= scale;
  return x;
}

// Index of the first element whose bits differ, or -1.
int64_t first_difference(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::bit_cast<uint32_t>(a[i]) != std::bit_cast<uint32_t>(b[i])) return int64_t(i);
  return -1;
}

TEST(OptimParity, AdamStepsAreBitIdentical) {
  CUSBI_REQUIRE_GPU();
  const Device gpu = Device::cuda(0);
  for (const AdamOptions& o :
       {AdamOptions{.lr = 1e-3}, AdamOptions{.lr = 1e-2, .beta1 = 0.3, .weight_decay = 0.1}}) {
    for (int64_t n : kSizes) {
      const std::vector<float> p0 = random_vector(n, 1 + n, 1.0f);
      Tensor pc = Tensor::from(p0, {n}, kCpu), gc = Tensor::zeros({n}, kCpu);
      Tensor pg = Tensor::from(p0, {n}, gpu), gg = Tensor::zeros({n}, gpu);
      Adam cpu(pc, gc, o), cuda(pg, gg, o);
      for (int s = 0; s < 3; ++s) {
        const std::vector<float> g = random_vector(n, 100 + s, 2.0f);
        gc.copy_(Tensor::from(g, {n}, kCpu));
        gg.copy_(gc);
        cpu.step();
        cuda.step();
      }
      EXPECT_EQ(first_difference(pc.to_vector(), pg.to_vector()), -1) << "params, n " << n;
      EXPECT_EQ(first_difference(cpu.exp_avg().to_vector(), cuda.exp_avg().to_vector()), -1)
          << "exp_avg, n " << n;
      EXPECT_EQ(first_difference(cpu.exp_avg_sq().to_vector(), cuda.exp_avg_sq().to_vector()), -1)
          << "exp_avg_sq, n " << n;
    }
  }
}

TEST(OptimParity, NormAndClipAreBitIdentical) {
  CUSBI_REQUIRE_GPU();
  const Device gpu = Device::cuda(0);
  for (int64_t n : kSizes) {
    const std::vector<float> x = random_vector(n, 7 + n, 3.0f);
    Tensor gc = Tensor::from(x, {n}, kCpu), gg = Tensor::from(x, {n}, gpu);
    // The double sum of squares, where a different summation order would show.
    const double sumsq_cpu = detail::sum_of_squares(gc), sumsq_gpu = detail::sum_of_squares(gg);
    EXPECT_EQ(std::bit_cast<uint64_t>(sumsq_cpu), std::bit_cast<uint64_t>(sumsq_gpu))
        << "n " << n << ": " << sumsq_cpu << " vs " << sumsq_gpu;
    const float norm_cpu = grad_norm(gc), norm_gpu = grad_norm(gg);
    EXPECT_EQ(std::bit_cast<uint32_t>(norm_cpu), std::bit_cast<uint32_t>(norm_gpu))
        << "n " << n << ": " << norm_cpu << " vs " << norm_gpu;
    EXPECT_EQ(std::bit_cast<uint32_t>(grad_norm(gg)), std::bit_cast<uint32_t>(norm_gpu))
        << "repeated call, n " << n;
    // max_norm at half the norm clips; clip both and compare the scaled gradients.
    const double max_norm = 0.5 * norm_cpu;
    EXPECT_EQ(clip_grad_norm(gc, max_norm), clip_grad_norm(gg, max_norm)) << n;
    EXPECT_EQ(first_difference(gc.to_vector(), gg.to_vector()), -1) << "clipped, n " << n;
    EXPECT_LT(grad_norm(gg), norm_cpu) << "clip did not scale on the GPU, n " << n;
  }
}

TEST(OptimParity, ClipBelowMaxNormAndNonFiniteOnGpu) {
  CUSBI_REQUIRE_GPU();
  const Device gpu = Device::cuda(0);
  const std::vector<float> x = random_vector(1000, 3, 0.01f);
  Tensor g = Tensor::from(x, {1000}, gpu);
  EXPECT_LT(clip_grad_norm(g, 5.0), 5.0f);
  EXPECT_EQ(first_difference(g.to_vector(), x), -1);  // coefficient 1: untouched
  const float inf = std::numeric_limits<float>::infinity();
  Tensor with_inf = Tensor::from({1.0f, inf, 2.0f}, {3}, gpu);
  EXPECT_TRUE(std::isinf(clip_grad_norm(with_inf, 1.0)));
  const std::vector<float> after = with_inf.to_vector();
  EXPECT_EQ(after[0], 0.0f);  // torch: coefficient 0 for an infinite norm, 0 * inf = NaN
  EXPECT_TRUE(std::isnan(after[1]));
  Tensor with_nan = Tensor::from({1.0f, std::nanf(""), 2.0f}, {3}, gpu);
  EXPECT_TRUE(std::isnan(clip_grad_norm(with_nan, 1.0)));
  for (float v : with_nan.to_vector()) EXPECT_TRUE(std::isnan(v));
  EXPECT_EQ(grad_norm(Tensor::zeros({0}, gpu)), 0.0f);
}

TEST(OptimParity, GpuStepAllocatesNoTensorsAndRejectsMixedDevices) {
  CUSBI_REQUIRE_GPU();
  const Device gpu = Device::cuda(0);
  const int64_t n = 5000;
  Tensor p = Tensor::from(random_vector(n, 4, 1.0f), {n}, gpu);
  Tensor g = Tensor::from(random_vector(n, 5, 1.0f), {n}, gpu);
  Adam opt(p, g, 1e-3);
  clip_grad_norm(g, 1.0);  // warm-up: creates the cached norm scratch buffer
  const int64_t before = detail::allocation_count();
  for (int i = 0; i < 3; ++i) {
    clip_grad_norm(g, 1.0);
    opt.step();
    opt.zero_grad();
  }
  EXPECT_EQ(detail::allocation_count(), before);
  EXPECT_THROW(Adam(p, Tensor::zeros({n}, kCpu)), Error);
}

}  // namespace
}  // namespace cusbi
