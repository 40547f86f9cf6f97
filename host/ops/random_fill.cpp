// In-place random fills and bernoulli of tensor_ops.hpp on the Philox stream of random.hpp:
// each reserves numel() counters of the generator, exactly as rand/randn do, so a fill is the
// same numbers as the allocating draw of that shape and the same on the CPU and on CUDA.
#include <cmath>

#include "cusbi/tensor_ops.hpp"
#include "host/cpu/elementwise.hpp"
#include "host/cpu/runtime.hpp"
#include "host/cpu/tensor_ops.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace {

Generator& pick(Generator* generator) { return generator ? *generator : default_generator(); }

}  // namespace

Tensor& normal_(Tensor& t, float mean, float std, Generator* generator) {
  ops::check_float(t, "normal_");
  CUSBI_CHECK(std::isfinite(mean) && std::isfinite(std) && std >= 0.0f,
              "normal_(mean=" << mean << ", std=" << std
                              << "): mean must be finite and std finite and >= 0");
  Generator& g = pick(generator);
  const int64_t n = t.numel();
  const uint64_t offset = g.advance(static_cast<uint64_t>(n));
  if (n == 0) return t;
  const bool affine = !(mean == 0.0f && std == 1.0f);
  // z, then z * std, then + mean: two roundings, in that order on every device.
  if (ops::runs_on_cpu(t.device())) {
    cpu::fill_normal(t.data(), n, g.seed(), offset);
    if (affine) {
      cpu::elementwise_binary_scalar(kern::BinaryOp::Mul, t.data(), std, false, t.data(), n);
      cpu::elementwise_binary_scalar(kern::BinaryOp::Add, t.data(), mean, false, t.data(), n);
    }
  } else {
    cuda::fill_normal(t.data(), n, g.seed(), offset);
    if (affine) {
      cuda::elementwise_binary_scalar(kern::BinaryOp::Mul, t.data(), std, false, t.data(), n);
      cuda::elementwise_binary_scalar(kern::BinaryOp::Add, t.data(), mean, false, t.data(), n);
    }
  }
  return t;
}

Tensor& uniform_(Tensor& t, float low, float high, Generator* generator) {
  ops::check_float(t, "uniform_");
  CUSBI_CHECK(
      std::isfinite(low) && std::isfinite(high) && low <= high,
      "uniform_(low=" << low << ", high=" << high << "): bounds must be finite with low <= high");
  Generator& g = pick(generator);
  const int64_t n = t.numel();
  const uint64_t offset = g.advance(static_cast<uint64_t>(n));
  if (n == 0) return t;
  if (ops::runs_on_cpu(t.device()))
    cpu::fill_uniform(t.data(), n, g.seed(), offset, low, high);
  else
    cuda::fill_uniform(t.data(), n, g.seed(), offset, low, high);
  return t;
}

Tensor bernoulli(const Tensor& p, Generator* generator) {
  ops::check_float(p, "bernoulli");
  Generator& g = pick(generator);
  const int64_t n = p.numel();
  const uint64_t offset = g.advance(static_cast<uint64_t>(n));
  Tensor out = Tensor::empty(p.shape(), p.device());
  if (n == 0) return out;
  if (ops::runs_on_cpu(p.device()))
    cpu::fill_bernoulli(p.data(), out.data(), n, g.seed(), offset);
  else
    cuda::fill_bernoulli(p.data(), out.data(), n, g.seed(), offset);
  return out;
}

}  // namespace cusbi
