// Counter-based random numbers (Philox4x32-10, Salmon et al. 2011) usable on host and device.
// A number is a pure function of (seed, counter): element i of a draw that starts at `offset`
// uses counter offset + i, so CPU and GPU agree and results do not depend on thread layout.
#pragma once
#include <cstdint>

#include "kernels/common.h"

namespace cusbi::kern {

struct Philox4 {
  uint32_t v[4];
};

CUSBI_HD uint32_t mulhilo32(uint32_t a, uint32_t b, uint32_t* hi) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

// Ten rounds of Philox4x32 on counter (c0..c3) with the 64-bit key `seed`.
CUSBI_HD Philox4 philox4x32(uint64_t counter, uint32_t stream, uint64_t seed) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32);
  uint32_t c2 = stream, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    const uint32_t lo0 = mulhilo32(0xD2511F53u, c0, &hi0);
    const uint32_t lo1 = mulhilo32(0xCD9E8D57u, c2, &hi1);
    const uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// 24 random bits to a float in [0, 1): exactly representable, never 1.
CUSBI_HD float uniform01(uint32_t bits) { return static_cast<float>(bits >> 8) * 5.9604645e-8f; }

// Uniform in [0, 1) for counter `index` of stream `stream`.
CUSBI_HD float philox_uniform(uint64_t seed, uint32_t stream, uint64_t index) {
  return uniform01(philox4x32(index, stream, seed).v[0]);
}

// Uniform in [low, high); one explicit fma so host and device round identically whatever
// each compiler decides about contracting a*b+c.
CUSBI_HD float philox_uniform_range(uint64_t seed, uint32_t stream, uint64_t index, float low,
                                    float high) {
  return fma(high - low, philox_uniform(seed, stream, index), low);
}

// Standard normal by Box-Muller from two words of one Philox block; u1 in (0, 1] so log is finite.
// Computed in double so the CPU and the GPU agree to the last bit or nearly.
CUSBI_HD float philox_normal(uint64_t seed, uint32_t stream, uint64_t index) {
  const Philox4 r = philox4x32(index, stream, seed);
  const double u1 = (static_cast<double>(r.v[0] >> 8) + 1.0) * 5.9604644775390625e-8;
  const double u2 = static_cast<double>(r.v[1] >> 8) * 5.9604644775390625e-8;
  const double radius = sqrt(-2.0 * log(u1));
  return static_cast<float>(radius * cos(6.283185307179586 * u2));
}

}  // namespace cusbi::kern
