// CUDA vs CPU for cusbi::tasks: each simulator with the same seed (Philox gives both devices the
// same noise, so the outputs differ only by the devices' sin/cos/tanh/exp and GEMM rounding),
// outputs staying on theta's device, and the reference samplers on the GPU. Skipped, and
// reported as skipped, without a GPU.
#include <cmath>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace cusbi::tasks {
namespace {

const Device kCpu = Device::cpu();

// Simulations of `rows` prior draws on both devices from generators with one seed.
void simulate_on_both(const std::string& name, int64_t rows, Tensor& cpu, Tensor& gpu) {
  auto task = get_task(name, kCpu);
  Generator g0(21);
  const Tensor theta = task->prior().sample({rows}, &g0);
  Generator g1(22), g2(22);
  cpu = task->simulate(theta, &g1);
  gpu = task->simulate(theta.to(Device::cuda()), &g2);
  EXPECT_EQ(gpu.device(), Device::cuda());
}

// two_moons, gaussian_linear, slcp: elementwise math on identical noise, a few ulp of each row's
// largest value (slcp's Cholesky amplifies tanh's last-bit difference near |rho| = 1), so
// relative 1e-5 of the largest |x|.
TEST(TasksParity, ContinuousSimulatorsAgree) {
  CUSBI_REQUIRE_GPU();
  for (const std::string name : {"two_moons", "gaussian_linear", "slcp"})
    for (int64_t rows : {1, 33, 1000}) {
      Tensor cpu, gpu;
      simulate_on_both(name, rows, cpu, gpu);
      EXPECT_TRUE(cusbi::testing::close_scaled(gpu.to(kCpu), cpu, 1e-5)) << name << " " << rows;
    }
}

// bernoulli_glm: a spike flips only where u lies within an ulp of the rate (CUDA's vs the C
// library's exp in the sigmoid), which moves that row by a stimulus value; allow 1% of rows to
// differ, the rest equal up to summation order (1e-4 absolute, |x| <= ~40).
TEST(TasksParity, BernoulliGlmAgreesUpToRareSpikeFlips) {
  CUSBI_REQUIRE_GPU();
  Tensor cpu, gpu;
  const int64_t rows = 2000;
  simulate_on_both("bernoulli_glm", rows, cpu, gpu);
  const std::vector<float> a = cpu.to_vector(), b = gpu.to(kCpu).to_vector();
  int64_t differing = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t d = 0; d < 10; ++d)
      if (std::fabs(a[r * 10 + d] - b[r * 10 + d]) > 1e-4) {
        ++differing;
        break;
      }
  EXPECT_LE(differing, rows / 100);
}

// Tasks constructed on the GPU keep everything there; the closed-form samplers run there.
TEST(TasksParity, TasksOnTheGpu) {
  CUSBI_REQUIRE_GPU();
  for (const std::string& name : task_names()) {
    auto task = get_task(name, Device::cuda());
    EXPECT_EQ(task->device(), Device::cuda());
    EXPECT_EQ(task->observation(2).device(), Device::cuda());
    Generator g(3);
    const Tensor s = task->reference_posterior_samples(2, 1000, &g);
    EXPECT_EQ(s.device(), Device::cuda()) << name;
    EXPECT_EQ(s.shape(), Shape({1000, task->dim_parameters()})) << name;
    const Tensor x = task->simulate(task->prior().sample({64}, &g), &g);
    EXPECT_EQ(x.device(), Device::cuda()) << name;
    EXPECT_TRUE(all_finite(x)) << name;
  }
  // Same seed, same closed-form samples on both devices (two_moons rejects on identical draws).
  Generator g1(9), g2(9);
  const Tensor cpu = get_task("two_moons", kCpu)->reference_posterior_samples(1, 500, &g1);
  const Tensor gpu =
      get_task("two_moons", Device::cuda())->reference_posterior_samples(1, 500, &g2);
  EXPECT_TRUE(cusbi::testing::close_scaled(gpu.to(kCpu), cpu, 1e-5));
}

}  // namespace
}  // namespace cusbi::tasks
