// CUDA vs CPU for the priors and ThetaTransform at awkward row counts (1, 7, 33, 65, 1000) and
// event sizes (1, 3, 5), with edge values (bounds, NaN, inf), their gradients, the out= forms'
// freedom from allocation, plus the device-mismatch errors.
// Both devices evaluate kernels/distributions.h; only the C library's vs CUDA's float
// log/exp/log1p differ. Skipped, and reported as skipped, without a GPU.
#include <limits>
#include <random>
#include <vector>

#include "host/allocation_counter.hpp"
#include "support/test_support.hpp"

namespace cusbi {
namespace {

using cusbi::testing::all_close;
using cusbi::testing::contains;
using cusbi::testing::error_of;
const Device kCpu = Device::cpu();
const int64_t kRows[] = {1, 7, 33, 65, 1000};
const int64_t kDims[] = {1, 3, 5};
constexpr float kInf = std::numeric_limits<float>::infinity();

using testing::random_tensor;

// Bounds [-2 - d, 1 + 0.5 d); theta covers the box, its outside, and hits its edges exactly.
BoxUniform box(int64_t dim, Device device) {
  std::vector<float> low, high;
  for (int64_t d = 0; d < dim; ++d) {
    low.push_back(-2.0f - d);
    high.push_back(1.0f + 0.5f * d);
  }
  return BoxUniform(low, high, device);
}

Tensor box_theta(int64_t rows, int64_t dim) {
  std::vector<float> v = random_tensor({rows, dim}, -8.0f, 5.0f, 7).to_vector();
  for (int64_t r = 0; r < rows; r += 5) v[r * dim] = -2.0f;  // on low (inside)
  for (int64_t r = 2; r < rows; r += 5) v[r * dim + dim - 1] = 1.0f + 0.5f * (dim - 1);  // high
  if (rows > 3) v[3 * dim] = std::numeric_limits<float>::quiet_NaN();
  return Tensor::from(v, {rows, dim}, kCpu);
}

MultivariateNormal mvn(int64_t dim, Device device) {
  // C = A A^T + I with a fixed random A: symmetric positive definite, correlated.
  const std::vector<float> a = random_tensor({dim, dim}, -1.0f, 1.0f, 3).to_vector();
  std::vector<float> c(dim * dim);
  for (int64_t i = 0; i < dim; ++i)
    for (int64_t j = 0; j < dim; ++j) {
      double s = i == j ? 1.0 : 0.0;
      for (int64_t k = 0; k < dim; ++k) s += double(a[i * dim + k]) * a[j * dim + k];
      c[i * dim + j] = float(s);
    }
  return MultivariateNormal(random_tensor({dim}, -2.0f, 2.0f, 4).to(device),
                            Tensor::from(c, {dim, dim}, device));
}

// Comparisons and one fma on the same inputs and the same Philox numbers: bit-identical.
TEST(DistributionsParity, BoxUniformIsExact) {
  CUSBI_REQUIRE_GPU();
  for (int64_t dim : kDims) {
    const BoxUniform cpu = box(dim, kCpu), gpu = box(dim, Device::cuda());
    for (int64_t rows : kRows) {
      Generator gc(rows), gg(rows);
      const Tensor sc = cpu.sample({rows}, &gc), sg = gpu.sample({rows}, &gg);
      EXPECT_TRUE(sg.device().is_cuda());
      EXPECT_TRUE(all_close(sg.to(kCpu), sc, 0, 0)) << rows << " x " << dim;
      const Tensor theta = box_theta(rows, dim), theta_gpu = theta.to(Device::cuda());
      EXPECT_TRUE(all_close(gpu.log_prob(theta_gpu).to(kCpu), cpu.log_prob(theta), 0, 0));
      EXPECT_TRUE(all_close(gpu.support_mask(theta_gpu).to(kCpu), cpu.support_mask(theta), 0, 0));
    }
  }
  // The rounding guard at the upper edge (1 draw in ~2^15 would reach high) on both devices.
  Generator gc(1), gg(1);
  const BoxUniform far_cpu(1000.0f, 1001.0f, 1, kCpu), far_gpu(1000.0f, 1001.0f, 1, Device::cuda());
  EXPECT_TRUE(
      all_close(far_gpu.sample({100000}, &gg).to(kCpu), far_cpu.sample({100000}, &gc), 0, 0));
}

// sample: the same double fma chain on both, but z = randn differs by an ulp or so between the
// host's and CUDA's double log/cos (kernels/rng.h), so rtol 1e-6 / atol 1e-6. log_prob: only
// correctly rounded double +, *, /, fma on identical inputs, so equal in practice; rtol 1e-6
// (a few float ulp) rather than 0 so that a compiler's reassociation cannot fail the suite.
TEST(DistributionsParity, MultivariateNormal) {
  CUSBI_REQUIRE_GPU();
  for (int64_t dim : kDims) {
    const MultivariateNormal cpu = mvn(dim, kCpu), gpu = mvn(dim, Device::cuda());
    EXPECT_TRUE(all_close(gpu.scale_tril().to(kCpu), cpu.scale_tril(), 0, 0));
    for (int64_t rows : kRows) {
      Generator gc(rows), gg(rows);
      EXPECT_TRUE(all_close(gpu.sample({rows}, &gg).to(kCpu), cpu.sample({rows}, &gc), 1e-6, 1e-6))
          << rows << " x " << dim;
      std::vector<float> v = random_tensor({rows, dim}, -6.0f, 6.0f, 8).to_vector();
      if (rows > 2) v[2 * dim] = kInf;
      const Tensor theta = Tensor::from(v, {rows, dim}, kCpu), theta_gpu = theta.to(Device::cuda());
      EXPECT_TRUE(all_close(gpu.log_prob(theta_gpu).to(kCpu), cpu.log_prob(theta), 0, 1e-6));
      EXPECT_TRUE(all_close(gpu.support_mask(theta_gpu).to(kCpu), cpu.support_mask(theta), 0, 0));
    }
  }
}

// Float log/log1p/exp/sigmoid: CUDA's are within 1-2 ulp, glibc's within 1, so rtol 2e-6; atol
// 1e-6 covers logit near u = 1/2, where z ~ 0 and the cancellation makes relative error large.
TEST(DistributionsParity, ThetaTransform) {
  CUSBI_REQUIRE_GPU();
  for (int64_t dim : kDims) {
    const ThetaTransform box_cpu = ThetaTransform::for_prior(box(dim, kCpu));
    ThetaTransform box_gpu = box_cpu;
    box_gpu.to(Device::cuda());
    const ThetaTransform aff_cpu = ThetaTransform::for_prior(mvn(dim, kCpu));
    const ThetaTransform aff_gpu = ThetaTransform::for_prior(mvn(dim, Device::cuda()));
    for (int64_t rows : kRows) {
      const Tensor theta = box_theta(rows, dim), z = random_tensor({rows, dim}, -30.0f, 30.0f, 9);
      const Tensor theta_gpu = theta.to(Device::cuda()), z_gpu = z.to(Device::cuda());
      for (const auto* tf : {&box_cpu, &aff_cpu}) {
        const ThetaTransform& tg = tf == &box_cpu ? box_gpu : aff_gpu;
        // CUDA's expf/logf/log1pf may differ from glibc's by up to 2 ulp each, and the maps
        // compose a few of them: 1e-5 relative (~80 ulp) covers that, while a wrong formula
        // (e.g. a missing scale factor) is off by far more.
        EXPECT_TRUE(all_close(tg.forward(theta_gpu).to(kCpu), tf->forward(theta), 1e-6, 1e-5))
            << rows << " x " << dim;
        EXPECT_TRUE(all_close(tg.inverse(z_gpu).to(kCpu), tf->inverse(z), 1e-6, 1e-5));
        EXPECT_TRUE(all_close(tg.inverse_derivative(z_gpu).to(kCpu), tf->inverse_derivative(z),
                              1e-30, 1e-5));
        EXPECT_TRUE(all_close(tg.inverse_log_abs_det_jacobian(z_gpu).to(kCpu),
                              tf->inverse_log_abs_det_jacobian(z), 1e-6, 1e-5));
      }
    }
  }
}

// -Sigma^-1 (theta - mean) in double with explicit fma on both devices, rounded once: within an
// ulp (atol 1e-6 for entries near 0).
TEST(DistributionsParity, LogProbGradientsAndLogDetGradient) {
  CUSBI_REQUIRE_GPU();
  const Device cuda = Device::cuda();
  for (int64_t dim : kDims) {
    const MultivariateNormal cpu = mvn(dim, kCpu), gpu = mvn(dim, cuda);
    const BoxUniform box_gpu = box(dim, cuda);
    const ThetaTransform tf_cpu = ThetaTransform::for_prior(box(dim, kCpu));
    const ThetaTransform tf_gpu = ThetaTransform::for_prior(box_gpu);
    for (int64_t rows : kRows) {
      const Tensor theta = random_tensor({rows, dim}, -6.0f, 6.0f, 11);
      const Tensor theta_gpu = theta.to(cuda);
      Tensor gc = Tensor::empty({rows, dim}, kCpu), gg = Tensor::empty({rows, dim}, cuda);
      cpu.log_prob_gradient(theta, gc);
      gpu.log_prob_gradient(theta_gpu, gg);
      EXPECT_TRUE(all_close(gg.to(kCpu), gc, 1e-6, 1e-6)) << rows << " x " << dim;
      box_gpu.log_prob_gradient(theta_gpu, gg);
      EXPECT_EQ(gg.to_vector(), std::vector<float>(rows * dim, 0.0f));
      // 1 - 2 sigmoid(z) from CUDA's vs glibc's expf: a few ulp of a number in [-1, 1].
      tf_cpu.inverse_log_abs_det_jacobian_gradient(theta, gc);
      tf_gpu.inverse_log_abs_det_jacobian_gradient(theta_gpu, gg);
      EXPECT_TRUE(all_close(gg.to(kCpu), gc, 1e-6, 0));
    }
  }
}

// The out= forms on the GPU allocate nothing (cuda::allocate is counted too) and reject a buffer
// on the wrong device.
TEST(DistributionsParity, GpuOutFormsAllocateNothing) {
  CUSBI_REQUIRE_GPU();
  const Device cuda = Device::cuda();
  const MultivariateNormal gpu = mvn(3, cuda);
  const ThetaTransform tf = ThetaTransform::for_prior(box(3, cuda));
  const Tensor theta = random_tensor({65, 3}, -2.0f, 1.0f, 5).to(cuda);
  Tensor lp = Tensor::empty({65}, cuda), grad = Tensor::empty({65, 3}, cuda);
  Tensor z = Tensor::empty({65, 3}, cuda);
  auto all = [&] {
    gpu.log_prob(theta, lp);
    gpu.support_mask(theta, lp);
    gpu.log_prob_gradient(theta, grad);
    tf.forward(theta, z);
    tf.inverse(z, grad);
    tf.inverse_log_abs_det_jacobian(z, lp);
  };
  all();
  const int64_t before = detail::allocation_count();
  all();
  EXPECT_EQ(detail::allocation_count(), before);
  Tensor host_out = Tensor::empty({65}, kCpu);
  EXPECT_TRUE(contains(error_of([&] { gpu.log_prob(theta, host_out); }), "out is on cpu"));
}

TEST(DistributionsParity, DeviceMismatchSaysToMove) {
  CUSBI_REQUIRE_GPU();
  const BoxUniform gpu = box(2, Device::cuda());
  const std::string message = error_of([&] { gpu.log_prob(Tensor::zeros({4, 2}, kCpu)); });
  EXPECT_TRUE(contains(message, "theta is on cpu but the prior is on cuda:0")) << message;
  EXPECT_TRUE(contains(message, ".to(Device::cuda(0))"));
  const ThetaTransform tf = ThetaTransform::for_prior(gpu);
  EXPECT_TRUE(contains(error_of([&] { tf.forward(Tensor::zeros({4, 2}, kCpu)); }), ".to("));
  EXPECT_TRUE(gpu.to(kCpu)->device().is_cpu());
  EXPECT_TRUE(all_close(gpu.to(kCpu)->mean(), gpu.mean().to(kCpu), 0, 0));
}

}  // namespace
}  // namespace cusbi
