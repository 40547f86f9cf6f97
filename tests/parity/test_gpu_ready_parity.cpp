// The GPU path's host round-trips and launches, counted (cuda::counters()): a training step at
// batch 200 and a log_prob call of the tutorial-sized flow (build_nsf defaults, D = C = 2) make
// no host round-trip and at most the stated launches; and rejection sampling's device
// compaction gives the CPU twin's bits. Skipped, and reported as skipped, without a GPU.
#include <cstdio>
#include <vector>

#include "host/cpu/select.hpp"
#include "host/posteriors/accepted_rows.hpp"
#include "kernels/api/select.h"
#include "kernels/cuda_api.h"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

// Ceilings from reading the code (bench/RESULTS.md, "Launches and host round-trips"): per step
// 150 kernels and 120 cuBLAS calls (zero_grad 1, loss 54 + 45, backward 91 + 75, clip 3, Adam
// 1); per log_prob call of at most 2^18 rows 54 kernels and 45 cuBLAS calls. Ceilings, not
// equalities, so that fusing passes needs no test edit; growing past them must be a decision.
constexpr int64_t kStepLaunches = 150, kStepCublas = 120;
constexpr int64_t kLogProbLaunches = 54, kLogProbCublas = 45;

cuda::Counters since(const cuda::Counters& before) {
  const cuda::Counters now = cuda::counters();
  return {now.launches - before.launches, now.cublas_calls - before.cublas_calls,
          now.host_syncs - before.host_syncs};
}

TEST(GpuReadyParity, TrainingStepAndLogProbMakeNoHostRoundTrip) {
  CUSBI_REQUIRE_GPU();
  const Device gpu = Device::cuda();
  Generator g(0);
  const Tensor theta = uniform({1000, 2}, -3.0f, 3.0f, gpu, &g);
  const Tensor x = theta + 0.1f * randn_like(theta, &g);
  NeuralSplineFlow flow = build_nsf(theta, x, {}, &g);  // input checks left on: free on a GPU
  Adam opt(flow.parameters(), flow.gradients(), 5e-4);
  const Tensor t = theta.slice_rows(0, 200), c = x.slice_rows(0, 200);
  Tensor losses = Tensor::empty({200}, gpu);
  const Tensor grad = Tensor::full({200}, 1.0f / 200.0f, gpu);
  const auto step = [&] {
    opt.zero_grad();
    flow.loss(t, c, losses);
    flow.backward(grad);
    clip_grad_norm_on_device(flow.gradients(), 5.0);
    opt.step();
  };
  step();  // warm-up: workspaces, cuBLAS handle
  step();
  synchronize(gpu);
  cuda::Counters before = cuda::counters();
  step();
  const cuda::Counters s = since(before);
  std::printf(
      "training step (batch 200): %lld kernel launches, %lld cuBLAS calls, %lld host "
      "round-trips\n",
      (long long)s.launches, (long long)s.cublas_calls, (long long)s.host_syncs);
  EXPECT_EQ(s.host_syncs, 0);
  EXPECT_LE(s.launches, kStepLaunches);
  EXPECT_LE(s.cublas_calls, kStepCublas);
  EXPECT_GT(s.launches, 0);  // the counters count

  Tensor lp = Tensor::empty({1, 1000}, gpu);
  flow.log_prob(theta, x, lp);  // warm-up: the inference workspace
  synchronize(gpu);
  before = cuda::counters();
  flow.log_prob(theta, x, lp);
  const cuda::Counters l = since(before);
  std::printf(
      "log_prob (1000 rows): %lld kernel launches, %lld cuBLAS calls, %lld host "
      "round-trips\n",
      (long long)l.launches, (long long)l.cublas_calls, (long long)l.host_syncs);
  EXPECT_EQ(l.host_syncs, 0);
  EXPECT_LE(l.launches, kLogProbLaunches);
  EXPECT_LE(l.cublas_calls, kLogProbCublas);
  // Reading a value back is one counted round-trip.
  before = cuda::counters();
  (void)lp.to_vector();
  EXPECT_EQ(since(before).host_syncs, 1);
}

// Random masks over several tiles of the kernel (1000 = 3 x 256 + 232 proposals), three
// observations mapped out of order, a store that fills up mid-batch, and a second batch on top:
// the device compaction copies the same floats to the same places as the CPU twin, and counts
// the same (integers and copies: exact).
TEST(GpuReadyParity, DeviceSelectMatchesTheCpuTwin) {
  CUSBI_REQUIRE_GPU();
  const Device gpu = Device::cuda();
  const int64_t m = 1000, cols = 3, dim = 3, observations = 4, capacity = 700;
  Generator g(5);
  const std::vector<int64_t> target = {2, 0, 3};
  std::vector<int64_t> filled_c = {0, 0, 0, 0};
  std::vector<float> store_c(capacity * observations * dim, 0.0f);
  Tensor store_g = Tensor::zeros({capacity, observations, dim}, gpu);
  const Tensor target_g = Tensor::from(target, {cols}, gpu);
  Tensor filled_g = Tensor::from(filled_c, {observations}, gpu);
  Tensor counts_g = Tensor::zeros({cols}, DType::Int64, gpu);
  for (float p : {0.3f, 0.9f}) {  // acceptance probability of each batch
    SCOPED_TRACE(p);
    const Tensor samples = randn({m, cols, dim}, Device::cpu(), &g);
    const Tensor u = uniform({m, cols}, 0.0f, 1.0f, Device::cpu(), &g);
    std::vector<float> accept = u.to_vector();
    for (float& a : accept) a = a < p ? 1.0f : 0.0f;
    std::vector<int64_t> counts_c(cols);
    cpu::select_accepted(m, cols, dim, samples.data(), accept.data(), target.data(), capacity,
                         observations, filled_c.data(), store_c.data(), counts_c.data());
    const Tensor samples_g = samples.to(gpu), accept_g = Tensor::from(accept, {m, cols}, gpu);
    cuda::set_device(gpu.index());
    cuda::select_accepted(m, cols, dim, samples_g.data(), accept_g.data(),
                          target_g.data_as<int64_t>(), capacity, observations,
                          filled_g.data_as<int64_t>(), store_g.data(), counts_g.data_as<int64_t>());
    EXPECT_EQ(counts_g.to_vector_as<int64_t>(), counts_c);
    EXPECT_EQ(filled_g.to_vector_as<int64_t>(), filled_c);
    EXPECT_EQ(store_g.to_vector(), store_c);
  }
  EXPECT_GE(filled_c[0], capacity);  // the store did fill up (the overshoot path ran)
}

}  // namespace
}  // namespace cusbi
