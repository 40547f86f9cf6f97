// CUDA vs CPU for the ratio classifiers (every trunk, z-scoring on and off) at awkward batch
// sizes (1, 7, 33, 65, 1000: single rows, partial warps and tiles, one and several column-sum
// chunks, CPU row parts), LayerNorm's kernels against the CPU twin at awkward widths, and the
// GPU side of the workspace contract (no allocation at a steady batch, identical bits on reruns).
// Skipped, and reported as skipped, without a GPU.
#include <string>
#include <vector>

#include "host/allocation_counter.hpp"
#include "host/cpu/layer_norm.hpp"
#include "kernels/cuda_api.h"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using cusbi::testing::close_scaled;
using cusbi::testing::random_tensor;

// As the nn parity tests: logits pass through <= 6 float layers (2e-5 of the scale); gradients
// also sum over up to 1000 rows, so their rounding grows by about sqrt(1000) (2e-4).
constexpr double kForwardRel = 2e-5;
constexpr double kGradRel = 2e-4;

RatioClassifier build(const std::string& kind, const Tensor& bt, const Tensor& bx,
                      const ClassifierOptions& o) {
  Generator gen(3);
  if (kind == "resnet") return build_resnet_classifier(bt, bx, o, &gen);
  if (kind == "mlp") return build_mlp_classifier(bt, bx, o, &gen);
  return build_linear_classifier(bt, bx, o, &gen);
}

class ClassifierParity : public ::testing::TestWithParam<std::string> {};

TEST_P(ClassifierParity, ForwardBackwardMatchTheCpu) {
  CUSBI_REQUIRE_GPU();
  const Device gpu = Device::cuda();
  const Tensor bt = random_tensor({100, 3}, -3.0f, 5.0f, 1), bx = random_tensor({100, 5}, 0, 9, 2);
  for (const char* z : {"independent", "structured", "none"}) {
    ClassifierOptions o;
    o.z_score_theta = o.z_score_x = z;
    RatioClassifier cpu = build(GetParam(), bt, bx, o);
    RatioClassifier on_gpu = build(GetParam(), bt.to(gpu), bx.to(gpu), o);
    ASSERT_EQ(on_gpu.device(), gpu);
    ASSERT_EQ(cpu.parameters().to_vector(), on_gpu.parameters().to_vector());
    // Larger weights than the init (nflows' 1e-3 blocks, LayerNorm's 1 / 0) so every term counts.
    Generator gen(4);
    const Tensor p = uniform({cpu.parameters().numel()}, -0.4f, 0.4f, Device::cpu(), &gen);
    cpu.parameters().copy_(p);
    on_gpu.parameters().copy_(p);
    for (int64_t B : {1, 7, 33, 65, 1000}) {
      SCOPED_TRACE(::testing::Message() << GetParam() << " z=" << z << " B=" << B);
      const Tensor theta = random_tensor({B, 3}, -3.0f, 5.0f, 10 + unsigned(B));
      const Tensor x = random_tensor({B, 5}, 0.0f, 9.0f, 20 + unsigned(B));
      const Tensor w = random_tensor({B}, -1.0f, 1.0f, 30 + unsigned(B));
      cpu.zero_grad();
      on_gpu.zero_grad();
      const Tensor lc = cpu.forward(theta, x), lg = on_gpu.forward(theta.to(gpu), x.to(gpu));
      EXPECT_EQ(lg.device(), gpu);
      EXPECT_TRUE(close_scaled(lg, lc, kForwardRel)) << "logits";
      Tensor gc, gg;
      cpu.backward(w, &gc);
      on_gpu.backward(w.to(gpu), &gg);
      EXPECT_EQ(gg.device(), gpu);
      EXPECT_TRUE(close_scaled(gg, gc, kGradRel)) << "grad theta";
      for (const auto& e : cpu.parameter_set().entries())
        EXPECT_TRUE(close_scaled(on_gpu.parameter_set().grad(e.slot),
                                 cpu.parameter_set().grad(e.slot), kGradRel))
            << e.name;
    }
  }
}

TEST_P(ClassifierParity, GpuStepsAllocateNothingAndRepeatBitForBit) {
  CUSBI_REQUIRE_GPU();
  const Device gpu = Device::cuda();
  const Tensor bt = random_tensor({300, 2}, -1, 1, 5).to(gpu),
               bx = random_tensor({300, 4}, 0, 1, 6).to(gpu);
  RatioClassifier clf = build(GetParam(), bt, bx, {});
  RatioClassifier moved = build(GetParam(), bt.to(Device::cpu()), bx.to(Device::cpu()), {});
  moved.to(gpu);  // a CPU-built classifier moved over computes the same
  Tensor logits = Tensor::empty({300}, gpu), again = Tensor::empty({300}, gpu);
  const Tensor w = Tensor::ones({300}, gpu);
  Tensor gt;
  clf.forward(bt, bx, logits);
  clf.backward(w, &gt);
  const std::vector<float> grads = clf.gradients().to_vector(), dtheta = gt.to_vector();
  clf.zero_grad();
  const int64_t before = detail::allocation_count();
  clf.forward(bt, bx, again);
  clf.backward(w, &gt);
  EXPECT_EQ(detail::allocation_count() - before, 0);
  EXPECT_EQ(again.to_vector(), logits.to_vector());  // deterministic: no float atomics
  EXPECT_EQ(clf.gradients().to_vector(), grads);
  EXPECT_EQ(gt.to_vector(), dtheta);
  EXPECT_EQ(moved.forward(bt, bx).to_vector(), logits.to_vector());
}

INSTANTIATE_TEST_SUITE_P(Kinds, ClassifierParity, ::testing::Values("resnet", "mlp", "linear"));

// The LayerNorm kernels against the CPU twin at widths around the warp (1, 31, 32, 33, 50, 97,
// 300) and row counts that leave the last block partly empty.
TEST(LayerNormParity, KernelsMatchTheCpuTwin) {
  CUSBI_REQUIRE_GPU();
  const Device gpu = Device::cuda();
  for (int64_t cols : {1, 31, 32, 33, 50, 97, 300}) {
    for (int64_t rows : {1, 9, 1000}) {
      SCOPED_TRACE(::testing::Message() << "rows=" << rows << " cols=" << cols);
      const Tensor x = random_tensor({rows, cols}, -3.0f, 7.0f, unsigned(rows * 7 + cols));
      const Tensor gamma = random_tensor({cols}, -2.0f, 2.0f, 1),
                   beta = random_tensor({cols}, -1, 1, 2);
      const Tensor dy = random_tensor({rows, cols}, -1.0f, 1.0f, 3);
      Tensor y = Tensor::empty({rows, cols}, Device::cpu()),
             m = Tensor::empty({rows}, Device::cpu()), r = Tensor::empty({rows}, Device::cpu()),
             dx = Tensor::empty({rows, cols}, Device::cpu()),
             t = Tensor::empty({rows, cols}, Device::cpu());
      cpu::layer_norm_forward(rows, cols, x.data(), gamma.data(), beta.data(), 1e-5f, y.data(),
                              m.data(), r.data());
      cpu::layer_norm_backward(rows, cols, dy.data(), x.data(), m.data(), r.data(), gamma.data(),
                               dx.data(), t.data());
      const Tensor xg = x.to(gpu), gg = gamma.to(gpu), bg = beta.to(gpu), dyg = dy.to(gpu);
      Tensor yg = Tensor::empty({rows, cols}, gpu), mg = Tensor::empty({rows}, gpu),
             rg = Tensor::empty({rows}, gpu), dxg = Tensor::empty({rows, cols}, gpu),
             tg = Tensor::empty({rows, cols}, gpu);
      cuda::set_device(0);
      cuda::layer_norm_forward(rows, cols, xg.data(), gg.data(), bg.data(), 1e-5f, yg.data(),
                               mg.data(), rg.data());
      cuda::layer_norm_backward(rows, cols, dyg.data(), xg.data(), mg.data(), rg.data(), gg.data(),
                                dxg.data(), tg.data());
      // Row sums of <= 300 floats in another order: a few ulps of the row's scale.
      EXPECT_TRUE(close_scaled(yg, y, 1e-5)) << "y";
      EXPECT_TRUE(close_scaled(mg, m, 1e-5)) << "mean";
      EXPECT_TRUE(close_scaled(rg, r, 1e-5)) << "rstd";
      EXPECT_TRUE(close_scaled(dxg, dx, 1e-5)) << "dx";
      EXPECT_TRUE(close_scaled(tg, t, 1e-5)) << "dy * xhat";
    }
  }
}

}  // namespace
}  // namespace cusbi
