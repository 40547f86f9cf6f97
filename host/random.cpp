// Random tensors from the counter-based Philox stream (kernels/rng.h): the CPU loop and the CUDA
// kernel evaluate the same function of (seed, offset + i), so both devices draw equal numbers.
// The CPU loops run on OpenMP threads: each element depends on its index only, so the result
// does not depend on the thread count.
#include "cusbi/random.hpp"

#include <cmath>

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

// Below this many elements the loop runs on one thread (thread start-up costs more).
constexpr int64_t kParallelMin = 1 << 14;

// One draw of shape `shape`: element i is value_at(seed, offset + i) on the CPU, or the CUDA
// fill that evaluates the same kernels/rng.h function on the device.
template <class ValueAt, class CudaFill>
Tensor draw(const Shape& shape, Device device, Generator* generator, ValueAt value_at,
            CudaFill cuda_fill) {
  Tensor out = Tensor::empty(shape, device);
  Generator& g = pick(generator);
  const int64_t n = out.numel();
  const uint64_t offset = g.advance(static_cast<uint64_t>(n));
  const uint64_t seed = g.seed();
  if (device.is_cpu()) {
    float* p = out.data();
#pragma omp parallel for if (n >= kParallelMin)
    for (int64_t i = 0; i < n; ++i) p[i] = value_at(seed, offset + static_cast<uint64_t>(i));
  } else {
    cuda::set_device(device.index());
    cuda_fill(out.data(), n, seed, offset);
  }
  return out;
}
}  // namespace

Tensor uniform(const Shape& shape, float low, float high, Device device, Generator* generator) {
  CUSBI_CHECK(std::isfinite(low) && std::isfinite(high) && low <= high,
              "uniform(low=" << low << ", high=" << high
                             << "): bounds must be finite with low <= high");
  return draw(
      shape, device, generator,
      [=](uint64_t seed, uint64_t i) { return kern::philox_uniform_range(seed, 0, i, low, high); },
      [=](float* out, int64_t n, uint64_t seed, uint64_t offset) {
        cuda::fill_uniform(out, n, seed, offset, low, high);
      });
}

Tensor rand(const Shape& shape, Device device, Generator* generator) {
  return uniform(shape, 0.0f, 1.0f, device, generator);
}

Tensor randn(const Shape& shape, Device device, Generator* generator) {
  return draw(
      shape, device, generator,
      [](uint64_t seed, uint64_t i) { return kern::philox_normal(seed, 0, i); },
      [](float* out, int64_t n, uint64_t seed, uint64_t offset) {
        cuda::fill_normal(out, n, seed, offset);
      });
}

Tensor rand_like(const Tensor& like, Generator* generator) {
  return rand(like.shape(), like.device(), generator);
}

Tensor randn_like(const Tensor& like, Generator* generator) {
  return randn(like.shape(), like.device(), generator);
}

}  // namespace cusbi
