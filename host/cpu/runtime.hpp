// CPU twins of kernels/runtime.cu's fills (kernels/api/runtime.h): same names and signatures in
// cusbi::cpu, so Tensor::fill_ and the random draws dispatch once,
// `ops::runs_on_cpu(d) ? cpu::f(...) : cuda::f(...)`.
#pragma once
#include <cstdint>

namespace cusbi::cpu {

void fill(float* data, int64_t n, float value);

// out[i] = U[low, high) or N(0,1) number `offset + i` of Philox stream 0 keyed by `seed`
// (kernels/rng.h, the same numbers as the CUDA fills draw).
void fill_uniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float low, float high);
void fill_normal(float* out, int64_t n, uint64_t seed, uint64_t offset);

}  // namespace cusbi::cpu
