// CPU twins of kernels/api/tensor_ops.h (cumsum, transpose, bernoulli): same names and
// signatures in cusbi::cpu, loops over the kernels/tensor_ops.h math.
#pragma once
#include <cstdint>

namespace cusbi::cpu {

void cumsum_dim(const float* a, int64_t outer, int64_t len, int64_t inner, float* out);
void transpose_2d(const float* a, int64_t rows, int64_t cols, float* out);
void fill_bernoulli(const float* p, float* out, int64_t n, uint64_t seed, uint64_t offset);

}  // namespace cusbi::cpu
