// CUDA vs CPU for the potentials (posterior, likelihood, transformed) on the same flow weights,
// at awkward batch sizes, and their freedom from allocation on the GPU. The composition kernels
// (support select, sum over trials, fused chain rule) are exact functions of their inputs, so
// the differences come from the flow (cuBLAS vs Eigen order, CUDA's vs glibc's exp/log).
// Skipped, and reported as skipped, without a GPU.
#include <memory>
#include <vector>

#include "host/allocation_counter.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using cusbi::testing::all_close;
const Device kCpu = Device::cpu();

NsfOptions small_options() {
  NsfOptions o;
  o.hidden_features = 16;
  o.num_transforms = 2;
  o.num_blocks = 1;
  o.num_bins = 6;
  return o;
}

// A flow over `input` features with `condition` condition features, and its GPU copy.
std::pair<std::shared_ptr<NeuralSplineFlow>, std::shared_ptr<NeuralSplineFlow>> flows(
    int64_t input, int64_t condition) {
  Generator g(17);
  const Tensor in = randn({200, input}, kCpu, &g), cond = randn({200, condition}, kCpu, &g);
  auto cpu = std::make_shared<NeuralSplineFlow>(build_nsf(in, cond, small_options(), &g));
  auto gpu = std::make_shared<NeuralSplineFlow>(cpu->clone(Device::cuda()));
  return {cpu, gpu};
}

// Float rounding of the flow differs by ~1e-6 relative on O(1-10) values (see
// test_nsf_parity.cpp): 1e-4 for values; input gradients as the flow's parity, 1e-3.
TEST(PotentialsParity, PosteriorAndTransformedPotentialsMatchTheCpu) {
  CUSBI_REQUIRE_GPU();
  const Device cuda = Device::cuda();
  auto [cpu_flow, gpu_flow] = flows(2, 3);
  const BoxUniform prior(-2.0f, 2.0f, 2, kCpu);
  const Tensor x = Tensor::from({0.1f, -0.3f, 0.8f}, {3}, kCpu);
  auto [pc, tc] = posterior_estimator_based_potential(cpu_flow, prior, x);
  auto [pg, tg] = posterior_estimator_based_potential(gpu_flow, prior, x);
  EXPECT_TRUE(pg->device().is_cuda());
  TransformedPotential uc(pc, tc), ug(pg, tg);
  for (int64_t m : {1, 7, 33, 65, 1000}) {
    SCOPED_TRACE("M=" + std::to_string(m));
    Generator g(m);
    const Tensor theta = uniform({m, 2}, -2.5f, 2.5f, kCpu, &g);  // some rows outside the box
    const Tensor theta_g = theta.to(cuda);
    Tensor oc = Tensor::empty({m}, kCpu), og = Tensor::empty({m}, cuda);
    Tensor gc = Tensor::empty({m, 2}, kCpu), gg = Tensor::empty({m, 2}, cuda);
    pc->evaluate(theta, oc);
    pg->evaluate(theta_g, og);
    EXPECT_TRUE(all_close(og.to(kCpu), oc, 1e-4, 1e-4));
    pc->evaluate_with_gradient(theta, oc, gc);
    pg->evaluate_with_gradient(theta_g, og, gg);
    EXPECT_TRUE(all_close(og.to(kCpu), oc, 1e-4, 1e-4));
    EXPECT_TRUE(all_close(gg.to(kCpu), gc, 1e-3, 1e-3));
    const Tensor z = randn({m, 2}, kCpu, &g) * 3.0f, z_g = z.to(cuda);
    uc.evaluate_with_gradient(z, oc, gc);
    ug.evaluate_with_gradient(z_g, og, gg);
    EXPECT_TRUE(all_close(og.to(kCpu), oc, 1e-4, 1e-4));
    EXPECT_TRUE(all_close(gg.to(kCpu), gc, 1e-3, 1e-3));
  }
}

TEST(PotentialsParity, LikelihoodPotentialMatchesTheCpu) {
  CUSBI_REQUIRE_GPU();
  const Device cuda = Device::cuda();
  auto [cpu_flow, gpu_flow] = flows(3, 2);  // input x (3), condition theta (2)
  const BoxUniform prior(-2.0f, 2.0f, 2, kCpu);
  Generator g(3);
  const Tensor xs = randn({5, 3}, kCpu, &g);
  auto [pc, tc] = likelihood_estimator_based_potential(cpu_flow, prior, xs);
  auto [pg, tg] = likelihood_estimator_based_potential(gpu_flow, prior, xs);
  for (int64_t m : {1, 7, 33, 65, 1000}) {
    const Tensor theta = uniform({m, 2}, -2.5f, 2.5f, kCpu, &g);
    // Five trials summed: 1e-4 relative as for one flow value.
    EXPECT_TRUE(all_close((*pg)(theta.to(cuda)).to(kCpu), (*pc)(theta), 1e-4, 1e-4)) << m;
    Tensor oc = Tensor::empty({m}, kCpu), og = Tensor::empty({m}, cuda);
    Tensor gc = Tensor::empty({m, 2}, kCpu), gg = Tensor::empty({m, 2}, cuda);
    pc->evaluate_with_gradient(theta, oc, gc);
    pg->evaluate_with_gradient(theta.to(cuda), og, gg);
    // The condition gradient's parity bound (tests/parity/test_nsf_parity.cpp), five trials.
    EXPECT_TRUE(all_close(og.to(kCpu), oc, 1e-4, 1e-4)) << m;
    EXPECT_TRUE(all_close(gg.to(kCpu), gc, 1e-3, 1e-3)) << m;
  }
}

TEST(PotentialsParity, GpuPotentialsAllocateNothingOnASecondCall) {
  CUSBI_REQUIRE_GPU();
  const Device cuda = Device::cuda();
  auto [cpu_flow, gpu_flow] = flows(2, 3);
  const BoxUniform prior(-2.0f, 2.0f, 2, kCpu);
  auto [p, t] = posterior_estimator_based_potential(gpu_flow, prior,
                                                    Tensor::from({0.1f, -0.3f, 0.8f}, {3}, kCpu));
  TransformedPotential u(p, t);
  const Tensor z = randn({100, 2}, cuda);
  Tensor out = Tensor::empty({100}, cuda), grad = Tensor::empty({100, 2}, cuda);
  auto all = [&] {
    u.evaluate(z, out);
    u.evaluate_with_gradient(z, out, grad);
  };
  all();
  const int64_t before = detail::allocation_count();
  all();
  EXPECT_EQ(detail::allocation_count(), before);
}

}  // namespace
}  // namespace cusbi
