// Random tensors from the counter-based Philox stream (kernels/rng.h): the CPU twin
// (host/cpu/runtime) and the CUDA kernel evaluate the same function of (seed, offset + i), so
// both devices draw equal numbers.
#include "cusbi/random.hpp"

#include <cmath>
#include <utility>

#include "cusbi/error.hpp"
#include "host/cpu/runtime.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

Generator& default_generator() {
  static Generator generator(0);
  return generator;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

namespace {
Generator& pick(Generator* generator) { return generator ? *generator : default_generator(); }

// One draw of shape `shape`: a new tensor and the generator's seed and offset for its numbers
// (the generator advances past them); element i is number offset + i of the stream.
struct Draw {
  Tensor out;
  uint64_t seed;
  uint64_t offset;
};

Draw reserve(const Shape& shape, Device device, Generator* generator) {
  Tensor out = Tensor::empty(shape, device);
  Generator& g = pick(generator);
  const uint64_t offset = g.advance(static_cast<uint64_t>(out.numel()));
  return {std::move(out), g.seed(), offset};
}
}  // namespace

Tensor uniform(const Shape& shape, float low, float high, Device device, Generator* generator) {
  CUSBI_CHECK(std::isfinite(low) && std::isfinite(high) && low <= high,
              "uniform(low=" << low << ", high=" << high
                             << "): bounds must be finite with low <= high");
  Draw d = reserve(shape, device, generator);
  if (ops::runs_on_cpu(device))
    cpu::fill_uniform(d.out.data(), d.out.numel(), d.seed, d.offset, low, high);
  else
    cuda::fill_uniform(d.out.data(), d.out.numel(), d.seed, d.offset, low, high);
  return std::move(d.out);
}

Tensor rand(const Shape& shape, Device device, Generator* generator) {
  return uniform(shape, 0.0f, 1.0f, device, generator);
}

Tensor randn(const Shape& shape, Device device, Generator* generator) {
  Draw d = reserve(shape, device, generator);
  if (ops::runs_on_cpu(device))
    cpu::fill_normal(d.out.data(), d.out.numel(), d.seed, d.offset);
  else
    cuda::fill_normal(d.out.data(), d.out.numel(), d.seed, d.offset);
  return std::move(d.out);
}

Tensor rand_like(const Tensor& like, Generator* generator) {
  return rand(like.shape(), like.device(), generator);
}

Tensor randn_like(const Tensor& like, Generator* generator) {
  return randn(like.shape(), like.device(), generator);
}

}  // namespace cusbi
