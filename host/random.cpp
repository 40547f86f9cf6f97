// Random tensors from the counter-based Philox stream (kernels/rng.h): the CPU loop and the CUDA
// kernel evaluate the same function of (seed, offset + i), so both devices draw equal numbers.
#include "cusbi/random.hpp"

#include "cusbi/error.hpp"
#include "kernels/cuda_api.h"
#include "kernels/rng.h"

namespace cusbi {

Generator& default_generator() {
  static Generator generator(0);
  return generator;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

namespace {
Generator& pick(Generator* generator) { return generator ? *generator : default_generator(); }
}  // namespace

Tensor uniform(const Shape& shape, float low, float high, Device device, Generator* generator) {
  CUSBI_CHECK(low <= high, "uniform(low=" << low << ", high=" << high << "): low must be <= high");
  Tensor out = Tensor::empty(shape, device);
  Generator& g = pick(generator);
  const int64_t n = out.numel();
  const uint64_t offset = g.advance(static_cast<uint64_t>(n));
  if (device.is_cpu()) {
    float* p = out.data();
    for (int64_t i = 0; i < n; ++i) p[i] = low + (high - low) * kern::philox_uniform(g.seed(), 0, offset + i);
  } else {
    cuda::set_device(device.index());
    cuda::fill_uniform(out.data(), n, g.seed(), offset, low, high);
  }
  return out;
}

Tensor rand(const Shape& shape, Device device, Generator* generator) {
  return uniform(shape, 0.0f, 1.0f, device, generator);
}

Tensor randn(const Shape& shape, Device device, Generator* generator) {
  Tensor out = Tensor::empty(shape, device);
  Generator& g = pick(generator);
  const int64_t n = out.numel();
  const uint64_t offset = g.advance(static_cast<uint64_t>(n));
  if (device.is_cpu()) {
    float* p = out.data();
    for (int64_t i = 0; i < n; ++i) p[i] = kern::philox_normal(g.seed(), 0, offset + i);
  } else {
    cuda::set_device(device.index());
    cuda::fill_normal(out.data(), n, g.seed(), offset);
  }
  return out;
}

Tensor rand_like(const Tensor& like, Generator* generator) {
  return rand(like.shape(), like.device(), generator);
}

Tensor randn_like(const Tensor& like, Generator* generator) {
  return randn(like.shape(), like.device(), generator);
}

}  // namespace cusbi
