// The neural spline flow on CUDA against the CPU: loss, every parameter gradient, the input
// gradient, log_prob (with broadcasting), inverse_transform, sample_from_noise and sample, at
// batch sizes 1, 7, 33, 65, 1000 and D = 1, 2, 3, 5 (both mask parities, the LU layers, the
// one-dimensional ContextSplineMap); and the GPU hot paths allocate nothing once warm.
// Skipped without a GPU.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "host/allocation_counter.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

NsfOptions options() {
  NsfOptions o;
  o.hidden_features = 16;
  o.num_transforms = 3;
  o.num_bins = 8;
  return o;
}

struct Pair {
  Pair(int64_t D, int64_t C, uint64_t seed) : gen(seed) {
    theta = randn({200, D}, Device::cpu(), &gen) * 1.5f + 0.5f;
    x = randn({200, C}, Device::cpu(), &gen);
    Generator g1(seed + 100), g2(seed + 100);
    cpu.emplace(build_nsf(theta, x, options(), &g1));
    gpu.emplace(build_nsf(theta, x, options(), &g2));
    Tensor p = cpu->parameters();
    // Perturbed, so that the blocks' 1e-3 init and LU's identity init do not hide terms.
    p.copy_(p + uniform(p.shape(), -0.2f, 0.2f, Device::cpu(), &gen));
    gpu->to(Device::cuda());
    Tensor q = gpu->parameters();
    q.copy_(p);
  }
  Generator gen;
  Tensor theta, x;
  std::optional<NeuralSplineFlow> cpu, gpu;
};

// max |a - b| / (atol + rtol |b|) <= 1, printed so a near miss shows in the log.
::testing::AssertionResult close(const Tensor& gpu, const Tensor& cpu, double atol, double rtol,
                                 const std::string& what) {
  std::printf("  %-28s", what.c_str());
  const std::vector<float> a = gpu.to_vector(), b = cpu.to_vector();
  double worst = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    worst = std::max(worst, std::fabs(double(a[i]) - b[i]) / (atol + rtol * std::fabs(b[i])));
  std::printf(" worst %.3g of tolerance\n", worst);
  return testing::all_close(gpu.to(Device::cpu()), cpu, atol, rtol);
}

// Gradients are sums over the batch: compared relative to the largest one.
::testing::AssertionResult close_scaled(const Tensor& gpu, const Tensor& cpu, double rel,
                                        const std::string& what) {
  const std::vector<float> b = cpu.to_vector();
  double scale = 0.0;
  for (float v : b) scale = std::max(scale, double(std::fabs(v)));
  return close(gpu, cpu, rel * scale, 0.0, what);
}

TEST(NsfParity, TrainingAndInferenceMatchTheCpu) {
  CUSBI_REQUIRE_GPU();
  const Device cuda = Device::cuda();
  for (int64_t D : {1, 2, 3, 5}) {
    Pair f(D, 3, 20 + D);
    for (int64_t B : {1, 7, 33, 65, 1000}) {
      SCOPED_TRACE("D=" + std::to_string(D) + " B=" + std::to_string(B));
      std::printf("D=%ld B=%ld\n", long(D), long(B));
      Generator g(B);
      const Tensor in = randn({B, D}, Device::cpu(), &g) * 2.0f + 0.5f;
      const Tensor cond = randn({B, 3}, Device::cpu(), &g);
      const Tensor w = uniform({B}, 0.5f, 1.5f, Device::cpu(), &g);
      const Tensor in_g = in.to(cuda), cond_g = cond.to(cuda);
      // Float rounding differs (CUDA's exp/log vs glibc, cuBLAS vs Eigen summation order,
      // contraction into FMAs): ~1e-6 relative on O(1-10) values; 1e-4 leaves a wide margin.
      const Tensor lc = f.cpu->loss(in, cond), lg = f.gpu->loss(in_g, cond_g);
      EXPECT_TRUE(close(lg, lc, 1e-4, 1e-4, "loss"));
      f.cpu->zero_grad();
      f.gpu->zero_grad();
      Tensor gic, gig, gcc, gcg;
      f.cpu->backward(w, &gic, &gcc);
      f.gpu->backward(w.to(cuda), &gig, &gcg);
      // Sums over up to 1000 rows of terms amplified by narrow bins (see the gradcheck's
      // float-vs-double bounds, 6e-5 of the largest): 1e-3 of the largest gradient.
      EXPECT_TRUE(close_scaled(f.gpu->gradients(), f.cpu->gradients(), 1e-3, "parameter grads"));
      EXPECT_TRUE(close(gig, gic, 1e-3, 1e-3, "input grads"));
      // The condition gradient sums one conditioner GEMM per coupling: same bound as the input's.
      EXPECT_TRUE(close(gcg, gcc, 1e-3, 1e-3, "condition grads"));
      const Tensor in3 = randn({2, B, D}, Device::cpu(), &g);
      EXPECT_TRUE(close(f.gpu->log_prob(in3.to(cuda), cond_g.slice_rows(0, 1)),
                        f.cpu->log_prob(in3, cond.slice_rows(0, 1)), 1e-4, 1e-4, "log_prob"));
      const Tensor z = f.cpu->inverse_transform(in3, cond);
      EXPECT_TRUE(close(f.gpu->inverse_transform(in3.to(cuda), cond_g), z, 1e-4, 1e-4, "z"));
      // The inverse spline divides by slopes down to ~1e-3 at worst: 1e-3.
      EXPECT_TRUE(close(f.gpu->sample_from_noise(z.to(cuda), cond_g),
                        f.cpu->sample_from_noise(z, cond), 1e-3, 1e-3, "sample_from_noise"));
      Generator s1(5), s2(5);  // Philox: the same noise on both devices
      EXPECT_TRUE(close(f.gpu->sample({3}, cond_g, &s1), f.cpu->sample({3}, cond, &s2), 1e-3, 1e-3,
                        "sample"));
    }
  }
}

TEST(NsfParity, PaddedBinBucketsAgree) {
  CUSBI_REQUIRE_GPU();
  // K = 20 and 40 run the padded 24- and 64-bin instantiations.
  for (int64_t K : {20, 40}) {
    NsfOptions o = options();
    o.num_bins = K;
    Generator gen(3), g1(4), g2(4);
    const Tensor theta = randn({100, 2}, Device::cpu(), &gen), x = randn({100, 2}, Device::cpu());
    NeuralSplineFlow c = build_nsf(theta, x, o, &g1), g = build_nsf(theta, x, o, &g2);
    g.to(Device::cuda());
    EXPECT_TRUE(close(g.log_prob(theta.to(Device::cuda()), x.to(Device::cuda())),
                      c.log_prob(theta, x), 1e-4, 1e-4, "log_prob K=" + std::to_string(K)));
  }
}

TEST(NsfParity, GpuHotPathsAllocateNothing) {
  CUSBI_REQUIRE_GPU();
  const Device cuda = Device::cuda();
  Pair f(2, 2, 9);
  NeuralSplineFlow& flow = *f.gpu;
  const Tensor in = randn({8, 100, 2}, cuda), cond = randn({100, 2}, cuda);
  Tensor out = Tensor::empty({8, 100}, cuda);
  flow.log_prob(in, cond, out);
  const Tensor t = randn({200, 2}, cuda), c = randn({200, 2}, cuda);
  Tensor loss = Tensor::empty({200}, cuda);
  const Tensor grad = Tensor::full({200}, 1.0f / 200, cuda);
  flow.loss(t, c, loss);
  flow.backward(grad);
  synchronize(cuda);
  const int64_t before = detail::allocation_count();
  for (int i = 0; i < 5; ++i) flow.log_prob(in, cond, out);
  for (int i = 0; i < 3; ++i) {
    flow.zero_grad();
    flow.loss(t, c, loss);
    flow.backward(grad);
  }
  synchronize(cuda);
  EXPECT_EQ(detail::allocation_count(), before);
}

}  // namespace
}  // namespace cusbi
