// CUDA vs CPU for the nn building blocks at awkward batch sizes (1, 7, 33, 65, 1000: single
// rows, partial tiles, one and several column-sum chunks), plus the GPU side of the workspace
// contract (no allocation in steady state, identical bits on reruns) and device-mismatch errors.
// Skipped, and reported as skipped, without a GPU.
#include <cmath>
#include <string>
#include <vector>

#include "host/allocation_counter.hpp"
#include "kernels/nn.h"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

const std::vector<int64_t> kBatches = {1, 7, 33, 65, 1000};

using cusbi::testing::close_scaled;

// Forward outputs pass through <= 6 float layers: 2e-5 of the scale. Gradients also sum over up
// to 1000 rows, so their rounding grows by about sqrt(1000): 2e-4 of the scale.
constexpr double kForwardRel = 2e-5;
constexpr double kGradRel = 2e-4;

TEST(NnParity, ResidualNetForwardBackward) {
  CUSBI_REQUIRE_GPU();
  for (int64_t C : {0, 5}) {
    for (int64_t B : kBatches) {
      SCOPED_TRACE(::testing::Message() << "C=" << C << " B=" << B);
      const ResidualNetOptions o{3, 29, 50, C, 2};
      Generator g_cpu(7), g_gpu(7), gen(8);
      ResidualNet cpu_net(o, Device::cpu(), &g_cpu), gpu_net(o, Device::cuda(), &g_gpu);
      // Initial values are drawn on the CPU for every device: identical bits.
      ASSERT_EQ(cpu_net.parameters().to_vector(), gpu_net.parameters().to_vector());
      // Block weights larger than nflows' 1e-3 init, so the gated branches matter.
      const Tensor p = uniform({cpu_net.parameters().numel()}, -0.3f, 0.3f, Device::cpu(), &gen);
      cpu_net.parameters().copy_(p);
      gpu_net.parameters().copy_(p);
      const Tensor x = randn({B, 3}, Device::cpu(), &gen);
      const Tensor c = C ? randn({B, C}, Device::cpu(), &gen) : Tensor();
      const Tensor g = randn({B, 29}, Device::cpu(), &gen);
      const Tensor out_c = cpu_net.forward(x, c);
      const Tensor out_g = gpu_net.forward(x.to(Device::cuda()), C ? c.to(Device::cuda()) : c);
      EXPECT_TRUE(close_scaled(out_g, out_c, kForwardRel));
      Tensor dc_c, dc_g;
      const Tensor dx_c = cpu_net.backward(g, &dc_c);
      const Tensor dx_g = gpu_net.backward(g.to(Device::cuda()), &dc_g);
      EXPECT_TRUE(close_scaled(dx_g, dx_c, kGradRel));
      if (C) EXPECT_TRUE(close_scaled(dc_g, dc_c, kGradRel));
      for (const auto& e : cpu_net.parameter_set().entries())
        EXPECT_TRUE(close_scaled(gpu_net.parameter_set().grad(e.slot),
                                 cpu_net.parameter_set().grad(e.slot), kGradRel))
            << e.name;
    }
  }
}

TEST(NnParity, LinearReluStandardize) {
  CUSBI_REQUIRE_GPU();
  const Device gpu = Device::cuda();
  for (int64_t B : kBatches) {
    SCOPED_TRACE(::testing::Message() << "B=" << B);
    Generator gen(3);
    ParameterSet pc, pg;
    Linear lc(pc, "l", 37, 33), lg(pg, "l", 37, 33);
    Generator g1(1), g2(1);
    pc.materialize(Device::cpu(), g1);
    pg.materialize(gpu, g2);
    const Tensor x = randn({B, 37}, Device::cpu(), &gen), dy = randn({B, 33}, Device::cpu(), &gen);
    Tensor yc = Tensor::empty({B, 33}, Device::cpu()), yg = Tensor::empty({B, 33}, gpu);
    lc.forward(pc, x, yc);
    lg.forward(pg, x.to(gpu), yg);
    EXPECT_TRUE(close_scaled(yg, yc, kForwardRel));
    Tensor dxc = Tensor::ones({B, 37}, Device::cpu()), dxg = Tensor::ones({B, 37}, gpu);
    lc.backward(pc, x, dy, &dxc, /*accumulate_dx=*/true);
    lg.backward(pg, x.to(gpu), dy.to(gpu), &dxg, /*accumulate_dx=*/true);
    EXPECT_TRUE(close_scaled(dxg, dxc, kGradRel));
    EXPECT_TRUE(close_scaled(pg.grads(), pc.grads(), kGradRel));

    Tensor rc = Tensor::empty({B, 37}, Device::cpu()), rg = Tensor::empty({B, 37}, gpu);
    relu_forward(x, rc);
    relu_forward(x.to(gpu), rg);
    EXPECT_EQ(rg.to_vector(), rc.to_vector());  // a select: no rounding
    relu_backward(x, x, rc);
    relu_backward(x.to(gpu), x.to(gpu), rg);
    EXPECT_EQ(rg.to_vector(), rc.to_vector());

    if (B >= 2) {  // an unbiased std needs two rows
      const Standardize zc = Standardize::fit(x, 1e-7f);
      Standardize zg = zc;
      zg.to(gpu);
      zc.forward(x, rc);
      zg.forward(x.to(gpu), rg);
      EXPECT_EQ(rg.to_vector(), rc.to_vector());  // one IEEE division per element on both
      zc.inverse(x, rc);
      zg.inverse(x.to(gpu), rg);
      EXPECT_TRUE(close_scaled(rg, rc, 1e-6));  // the GPU may fuse y * std + mean into an FMA
    }
  }
}

TEST(NnGpu, SteadyStateAllocatesNothingAndRepeatsBits) {
  CUSBI_REQUIRE_GPU();
  const Device gpu = Device::cuda();
  Generator gen(4);
  ResidualNet net({3, 29, 50, 5, 2}, gpu, &gen);
  const Tensor x = randn({1000, 3}, gpu, &gen), c = randn({1000, 5}, gpu, &gen);
  const Tensor g = randn({1000, 29}, gpu, &gen);
  std::vector<std::vector<float>> runs;
  int64_t before = 0;
  for (int run = 0; run < 3; ++run) {
    if (run == 1) before = detail::allocation_count();
    net.zero_grad();
    const Tensor out = net.forward(x, c);
    Tensor dc;
    const Tensor dx = net.backward(g, &dc);
    synchronize(gpu);
    if (run > 0) runs.push_back(net.gradients().to_vector());
  }
  EXPECT_EQ(detail::allocation_count(), before) << "a repeated step allocated on the GPU";
  EXPECT_EQ(runs[0], runs[1]);  // no atomics in any reduction: identical bits
}

// Bias gradients at a batch of 5000 rows: 79 column-sum chunks, so the GPU's fixed tree over
// the chunk partials (kernels/nn.cu combine_partials_kernel) takes several partials per lane
// before its pairwise steps. Same values as the CPU (chunk order) to a tolerance, same bits on
// every GPU run.
TEST(NnParity, ColumnSumTreeOverManyChunks) {
  CUSBI_REQUIRE_GPU();
  const int64_t B = 5000;
  ASSERT_GT(kern::colsum_chunks(B), 64);
  const ResidualNetOptions o{3, 29, 50, 5, 2};
  Generator g_cpu(9), g_gpu(9), gen(10);
  ResidualNet cpu_net(o, Device::cpu(), &g_cpu), gpu_net(o, Device::cuda(), &g_gpu);
  const Tensor x = randn({B, 3}, Device::cpu(), &gen), c = randn({B, 5}, Device::cpu(), &gen);
  const Tensor g = randn({B, 29}, Device::cpu(), &gen);
  cpu_net.forward(x, c);
  cpu_net.backward(g);
  const Tensor xg = x.to(Device::cuda()), cg = c.to(Device::cuda()), gg = g.to(Device::cuda());
  std::vector<std::vector<float>> runs;
  for (int run = 0; run < 2; ++run) {
    gpu_net.zero_grad();
    gpu_net.forward(xg, cg);
    gpu_net.backward(gg);
    runs.push_back(gpu_net.gradients().to_vector());
  }
  EXPECT_EQ(runs[0], runs[1]);  // a fixed order: identical bits
  // Sums over 5000 rows: rounding grows by about sqrt(5) beyond kGradRel's 1000 rows.
  constexpr double kManyRowsGradRel = 5e-4;
  for (const auto& e : cpu_net.parameter_set().entries())
    EXPECT_TRUE(close_scaled(gpu_net.parameter_set().grad(e.slot),
                             cpu_net.parameter_set().grad(e.slot), kManyRowsGradRel))
        << e.name;
}

TEST(NnGpu, DeviceMismatchSaysWhereToMove) {
  CUSBI_REQUIRE_GPU();
  Generator gen(5);
  ResidualNet net({2, 3, 8, 1, 1}, Device::cuda(), &gen);
  std::string msg;
  try {
    net.forward(Tensor::zeros({4, 2}, Device::cpu()), Tensor::zeros({4, 1}, Device::cuda()));
  } catch (const Error& e) {
    msg = e.what();
  }
  EXPECT_NE(msg.find("inputs is on cpu but the parameters are on cuda:0"), std::string::npos)
      << msg;
  net.to(Device::cpu());
  const Tensor out =
      net.forward(Tensor::zeros({4, 2}, Device::cpu()), Tensor::zeros({4, 1}, Device::cpu()));
  EXPECT_EQ(out.device(), Device::cpu());
}

}  // namespace
}  // namespace cusbi
