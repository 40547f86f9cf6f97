// CUDA entry points of cumsum, transpose and bernoulli (tensor_ops.hpp), with CPU twins of the
// same names and signatures in host/cpu/tensor_ops.hpp. CUDA-free: host/ includes it with g++.
// Pointers are device pointers on the current device; work is queued on cuda::stream().
#pragma once
#include <cstdint>

namespace cusbi::cuda {

// a viewed as (outer, len, inner): out holds the running sums over len (kern::cumsum_strided).
void cumsum_dim(const float* a, int64_t outer, int64_t len, int64_t inner, float* out);
// a (rows, cols) row-major -> out (cols, rows).
void transpose_2d(const float* a, int64_t rows, int64_t cols, float* out);
// out[i] = 1 with probability p[i] (kern::bernoulli_draw with counter offset + i).
void fill_bernoulli(const float* p, float* out, int64_t n, uint64_t seed, uint64_t offset);

}  // namespace cusbi::cuda
