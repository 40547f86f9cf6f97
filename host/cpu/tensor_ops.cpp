// CPU twins of kernels/tensor_ops.cu: each output (a cumsum line, a transposed row, a Bernoulli
// draw) is computed on its own, so results never depend on the thread count.
#include "host/cpu/tensor_ops.hpp"

#include <algorithm>

#include "host/exec/thread_pool.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/tensor_ops.h"

namespace cusbi::cpu {

void cumsum_dim(const float* a, int64_t outer, int64_t len, int64_t inner, float* out) {
  const int64_t lines = outer * inner;
  exec::parallel_range(lines, lines * len >= ops::kParallelMin, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      const int64_t base = (j / inner) * len * inner + j % inner;
      kern::cumsum_strided(a + base, out + base, len, inner);
    }
  });
}

void transpose_2d(const float* a, int64_t rows, int64_t cols, float* out) {
  exec::parallel_range(cols, rows * cols >= ops::kParallelMin, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c)
      for (int64_t r = 0; r < rows; ++r) out[c * rows + r] = a[r * cols + c];
  });
}

void fill_bernoulli(const float* p, float* out, int64_t n, uint64_t seed, uint64_t offset) {
  exec::parallel_range(n, n >= ops::kParallelMin, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      out[i] = kern::bernoulli_draw(p[i], seed, offset + static_cast<uint64_t>(i));
  });
}

}  // namespace cusbi::cpu
