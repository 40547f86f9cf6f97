// LuLinear on CUDA vs CPU at awkward sizes (B 1, 7, 33, 65, 1000: single rows, partial blocks,
// one and several reduction chunks; D 1, 2, 3, 5, 17), non-identity parameters: the prepared W
// and log|det|, forward, inverse, backward (all parameter gradients and dx). Also identical bits
// on a GPU rerun and no allocation in steady state. Skipped, and reported as skipped, without a
// GPU.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "host/allocation_counter.hpp"
#include "host/flows/lu_linear.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using flows::LuLinear;

using cusbi::testing::close_scaled;

// Forward: sums of D <= 17 float products: 1e-5 of the scale. Inverse: a triangular solve whose
// rounding (D eps ~ 1e-6) is amplified by cond(W) < 10: 1e-4 of the scale. Gradients also sum over
// up to 1000 rows, whose rounding grows by about sqrt(1000): 1e-4 of the scale.
constexpr double kForwardRel = 1e-5;
constexpr double kInverseRel = 1e-4;
constexpr double kGradRel = 1e-4;

struct Pair {
  ParameterSet cpu_ps, gpu_ps;
  LuLinear cpu_lu, gpu_lu;
  explicit Pair(int64_t d, Generator& gen) {
    cpu_lu = LuLinear(cpu_ps, "lu.", d);
    gpu_lu = LuLinear(gpu_ps, "lu.", d);
    Generator g0(0), g1(0);
    cpu_ps.materialize(Device::cpu(), g0);
    gpu_ps.materialize(Device::cuda(), g1);
    // nflows' non-identity init, U(+-1/sqrt(D)) for the entries and diagonal logits (cond(W)
    // < 10 up to D = 17, where +-0.4 entries reach thousands), and a random bias.
    const float bound = 1.0f / std::sqrt(float(d));
    cpu_ps.values().copy_(uniform({cpu_ps.numel()}, -bound, bound, Device::cpu(), &gen));
    cpu_ps.value(cpu_lu.bias_slot()).copy_(randn({d}, Device::cpu(), &gen));
    gpu_ps.values().copy_(cpu_ps.values());
  }
};

TEST(LuLinearParity, PrepareForwardInverseBackward) {
  CUSBI_REQUIRE_GPU();
  const Device cpu = Device::cpu(), gpu = Device::cuda();
  Generator gen(21);
  for (int64_t d : {1, 2, 3, 5, 17}) {
    for (int64_t rows : {1, 7, 33, 65, 1000}) {
      SCOPED_TRACE(::testing::Message() << "D=" << d << " B=" << rows);
      Pair p(d, gen);
      p.cpu_lu.prepare(p.cpu_ps);
      p.gpu_lu.prepare(p.gpu_ps);
      EXPECT_TRUE(close_scaled(p.gpu_lu.weight(), p.cpu_lu.weight(), kForwardRel));
      EXPECT_TRUE(close_scaled(p.gpu_lu.logabsdet(), p.cpu_lu.logabsdet(), kForwardRel));

      const Tensor x = randn({rows, d}, cpu, &gen), dy = randn({rows, d}, cpu, &gen);
      const Tensor dl = randn({rows}, cpu, &gen), base = randn({rows}, cpu, &gen);
      const Tensor xg = x.to(gpu), dyg = dy.to(gpu), dlg = dl.to(gpu);
      Tensor y = Tensor::empty({rows, d}, cpu), yg = Tensor::empty({rows, d}, gpu);
      Tensor ld = base.clone(), ldg = base.to(gpu).clone();
      p.cpu_lu.forward(p.cpu_ps, x, y, ld);
      p.gpu_lu.forward(p.gpu_ps, xg, yg, ldg);
      EXPECT_TRUE(close_scaled(yg, y, kForwardRel));
      EXPECT_TRUE(close_scaled(ldg, ld, kForwardRel));

      Tensor back = Tensor::empty({rows, d}, cpu), backg = Tensor::empty({rows, d}, gpu);
      p.cpu_lu.inverse(p.cpu_ps, y, back, ld);
      p.gpu_lu.inverse(p.gpu_ps, yg, backg, ldg);
      EXPECT_TRUE(close_scaled(backg, back, kInverseRel));
      EXPECT_TRUE(close_scaled(backg, x, kInverseRel));  // and both undo the forward
      EXPECT_TRUE(close_scaled(ldg, ld, kForwardRel));

      Tensor dx = Tensor::empty({rows, d}, cpu), dxg = Tensor::empty({rows, d}, gpu);
      p.cpu_lu.backward(p.cpu_ps, x, dy, dl, dx);
      p.gpu_lu.backward(p.gpu_ps, xg, dyg, dlg, dxg);
      EXPECT_TRUE(close_scaled(dxg, dx, kForwardRel));
      for (const ParamSlot* s : {&p.cpu_lu.bias_slot(), &p.cpu_lu.lower_slot(),
                                 &p.cpu_lu.upper_slot(), &p.cpu_lu.diag_slot()})
        if (s->numel() > 0)
          EXPECT_TRUE(close_scaled(p.gpu_ps.grad(*s), p.cpu_ps.grad(*s), kGradRel))
              << "slot at offset " << s->offset;
      // Without dlogdet: the diagonal loses its log|det| term on both devices alike.
      p.cpu_ps.zero_grad();
      p.gpu_ps.zero_grad();
      Tensor none;
      p.cpu_lu.backward(p.cpu_ps, x, dy, none, dx);
      p.gpu_lu.backward(p.gpu_ps, xg, dyg, none, dxg);
      EXPECT_TRUE(close_scaled(p.gpu_ps.grads(), p.cpu_ps.grads(), kGradRel));
    }
  }
}

TEST(LuLinearParity, GpuRerunIsBitIdenticalAndAllocatesNothing) {
  CUSBI_REQUIRE_GPU();
  const Device gpu = Device::cuda();
  Generator gen(22);
  Pair p(5, gen);
  const int64_t rows = 200000;  // many reduction chunks
  const Tensor x = randn({rows, 5}, gpu, &gen), dy = randn({rows, 5}, gpu, &gen);
  const Tensor dl = randn({rows}, gpu, &gen);
  Tensor y = Tensor::empty({rows, 5}, gpu), dx = Tensor::empty({rows, 5}, gpu);
  Tensor ld = Tensor::zeros({rows}, gpu);
  auto step = [&] {
    p.gpu_ps.zero_grad();
    p.gpu_lu.prepare(p.gpu_ps);
    p.gpu_lu.forward(p.gpu_ps, x, y, ld);
    p.gpu_lu.inverse(p.gpu_ps, y, y, ld);
    p.gpu_lu.backward(p.gpu_ps, x, dy, dl, dx);
  };
  step();
  const std::vector<float> first = p.gpu_ps.grads().to_vector(), dx_first = dx.to_vector();
  const int64_t before = detail::allocation_count();
  step();
  EXPECT_EQ(detail::allocation_count() - before, 0);
  EXPECT_EQ(p.gpu_ps.grads().to_vector(), first);
  EXPECT_EQ(dx.to_vector(), dx_first);
}

}  // namespace
}  // namespace cusbi
