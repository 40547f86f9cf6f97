// Seeded, counter-based randomness (Philox4x32-10). Element i of a draw is a pure function of
// (seed, offset + i), so the CPU and the GPU produce the same numbers and a draw does not depend
// on the launch configuration. Each draw advances the generator's offset by its size.
#pragma once
#include <cstdint>

#include "cusbi/tensor.hpp"

namespace cusbi {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  void manual_seed(uint64_t seed) {
    seed_ = seed;
    offset_ = 0;
  }
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  // Reserves `count` counter values for one draw and returns the first.
  uint64_t advance(uint64_t count) {
    const uint64_t first = offset_;
    offset_ += count;
    return first;
  }

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The process-wide default generator (seed 0 until manual_seed is called). Not thread-safe:
// threads that draw concurrently should pass their own Generator.
Generator& default_generator();
void manual_seed(uint64_t seed);

// U[0, 1) and N(0, 1) draws; `generator` defaults to the default generator.
Tensor rand(const Shape& shape, Device device = Device::best(), Generator* generator = nullptr);
Tensor randn(const Shape& shape, Device device = Device::best(), Generator* generator = nullptr);
Tensor rand_like(const Tensor& like, Generator* generator = nullptr);
Tensor randn_like(const Tensor& like, Generator* generator = nullptr);
// U[low, high) draws (used for PyTorch-style parameter initialisation).
Tensor uniform(const Shape& shape, float low, float high, Device device = Device::best(),
               Generator* generator = nullptr);

}  // namespace cusbi
