// NRE's losses and atoms on the GPU against the CPU twins, at awkward batch sizes (below, at and
// above the 256 lanes of the loss block) and atom counts. Both add the rows in the same lane and
// tree order in double, so only exp/log/log1p rounding (and nvcc's fused multiply-adds) differs.
// The atoms are integer draws from the same Philox counters: identical.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cusbi/cusbi.hpp"
#include "cusbi/nre.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

// Loss: each row term is logsumexp - logit at logit scale <= ~20 (ulp 2e-6); CUDA's exp/log
// differ from glibc's by a couple of ulp, so row terms differ by ~1e-5 at worst and the mean by
// less. Gradients: probabilities exp(f - lse) inherit lse's absolute error (~2e-6 relative), so
// 1e-5 of the largest gradient entry.
constexpr double kLossAtol = 1e-5, kLossRtol = 1e-5, kGradRel = 1e-5;

TEST(NreLossParity, CudaMatchesCpu) {
  CUSBI_REQUIRE_GPU();
  const Device gpu = Device::cuda();
  Generator g(17);
  for (int64_t b : {1, 2, 7, 255, 256, 257, 1000}) {
    for (int64_t k : {2, 3, 10, 33}) {
      SCOPED_TRACE(::testing::Message() << "B " << b << ", K " << k);
      const Tensor f = randn({b, k}, Device::cpu(), &g) * 5.0f;
      const auto cpu_b = nre_b_loss(f);
      const auto gpu_b = nre_b_loss(f.to(gpu));
      EXPECT_EQ(gpu_b.first.device(), gpu);
      EXPECT_NEAR(gpu_b.first.item(), cpu_b.first.item(),
                  kLossAtol + kLossRtol * std::fabs(cpu_b.first.item()));
      EXPECT_TRUE(testing::close_scaled(gpu_b.second.to(Device::cpu()), cpu_b.second, kGradRel));

      const Tensor m = randn({b, k + 1}, Device::cpu(), &g) * 3.0f;
      const NreCLoss cpu_c = nre_c_loss(m, f, 0.7f);
      const NreCLoss gpu_c = nre_c_loss(m.to(gpu), f.to(gpu), 0.7f);
      EXPECT_NEAR(gpu_c.loss.item(), cpu_c.loss.item(),
                  kLossAtol + kLossRtol * std::fabs(cpu_c.loss.item()));
      EXPECT_TRUE(testing::close_scaled(gpu_c.grad_marginal.to(Device::cpu()), cpu_c.grad_marginal,
                                        kGradRel));
      EXPECT_TRUE(
          testing::close_scaled(gpu_c.grad_joint.to(Device::cpu()), cpu_c.grad_joint, kGradRel));
    }
    const Tensor pairs = randn({b, 2}, Device::cpu(), &g) * 4.0f;
    for (const float lambda : {0.0f, 100.0f}) {
      const auto cpu_a = bnre_loss(pairs, lambda);
      const auto gpu_a = bnre_loss(pairs.to(gpu), lambda);
      EXPECT_NEAR(gpu_a.first.item(), cpu_a.first.item(),
                  kLossAtol + kLossRtol * std::fabs(cpu_a.first.item()));
      EXPECT_TRUE(testing::close_scaled(gpu_a.second.to(Device::cpu()), cpu_a.second, kGradRel));
    }
    const auto gpu_a = nre_a_loss(pairs.to(gpu));
    EXPECT_NEAR(gpu_a.first.item(), nre_a_loss(pairs).first.item(), kLossAtol);
  }
}

// Fixed-order sums: the same call twice gives the same bits on the GPU.
TEST(NreLossParity, CudaIsDeterministic) {
  CUSBI_REQUIRE_GPU();
  Generator g(3);
  const Tensor f = (randn({1000, 10}, Device::cpu(), &g) * 4.0f).to(Device::cuda());
  const auto a = nre_b_loss(f), b = nre_b_loss(f);
  EXPECT_EQ(a.first.item(), b.first.item());
  EXPECT_EQ(a.second.to_vector(), b.second.to_vector());
}

TEST(AtomsParity, CudaMatchesCpuExactly) {
  CUSBI_REQUIRE_GPU();
  const Device gpu = Device::cuda();
  for (int64_t b : {2, 3, 7, 33, 257, 1000}) {
    for (int64_t k : {2, 3, 10, 33}) {
      if (k > b) continue;
      SCOPED_TRACE(::testing::Message() << "B " << b << ", K " << k);
      Generator gc(99), gg(99);
      const Tensor ic = contrasting_indices(b, k, Device::cpu(), &gc);
      const Tensor ig = contrasting_indices(b, k, gpu, &gg);
      EXPECT_EQ(ig.device(), gpu);
      EXPECT_EQ(ig.to_vector_as<int64_t>(), ic.to_vector_as<int64_t>());
      EXPECT_EQ(gc.offset(), gg.offset());

      Generator gd(5);
      const Tensor theta = randn({b, 3}, Device::cpu(), &gd), x = randn({b, 2}, Device::cpu(), &gd);
      Tensor tc = Tensor::empty({b * k, 3}, Device::cpu()),
             xc = Tensor::empty({b * k, 2}, Device::cpu());
      Tensor tg = Tensor::empty({b * k, 3}, gpu), xg = Tensor::empty({b * k, 2}, gpu);
      atom_rows(theta, x, ic, tc, xc);
      atom_rows(theta.to(gpu), x.to(gpu), ig, tg, xg);
      EXPECT_EQ(tg.to_vector(), tc.to_vector());
      EXPECT_EQ(xg.to_vector(), xc.to_vector());
    }
  }
}

}  // namespace
}  // namespace cusbi
