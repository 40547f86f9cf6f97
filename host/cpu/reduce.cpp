// CPU twins of kernels/reduce.cu. Deterministic: each output is one line reduced in index order
// by one thread (kernels/reduce.h), and sum_all adds fixed-size chunks in order, so no result
// depends on the number of OpenMP threads.
#include "host/cpu/reduce.hpp"

#include <algorithm>
#include <vector>

#include "host/ops/op_checks.hpp"
#include "kernels/reduce.h"

namespace cusbi::cpu {

namespace {
// Fixed-size chunks summed in order, then the chunk sums in order.
constexpr int64_t kSumChunk = 1 << 14;
}  // namespace

// a: (outer, len, inner) -> out: (outer, inner); one output per iteration, so threads never
// share an accumulator.
void reduce_dim(kern::ReduceOp op, const float* a, int64_t outer, int64_t len, int64_t inner,
                float* out) {
  const int64_t outputs = outer * inner;
#pragma omp parallel for if (outputs * len >= ops::kParallelMin)
  for (int64_t j = 0; j < outputs; ++j) {
    const int64_t o = j / inner, i = j % inner;
    out[j] = kern::reduce_strided(op, a + o * len * inner + i, len, inner);
  }
}

double reduce_sum_all(const float* a, int64_t n) {
  if (n <= kSumChunk) return kern::sum_strided(a, n, 1);
  const int64_t chunks = kern::ceil_div(n, kSumChunk);
  std::vector<double> partial(static_cast<size_t>(chunks));
#pragma omp parallel for
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t begin = c * kSumChunk, count = std::min(kSumChunk, n - begin);
    partial[static_cast<size_t>(c)] = kern::sum_strided(a + begin, count, 1);
  }
  double s = 0.0;
  for (double p : partial) s += p;
  return s;
}

bool all_finite(const float* a, int64_t n) {
  int64_t bad = 0;
#pragma omp parallel for reduction(+ : bad) if (n >= ops::kParallelMin)
  for (int64_t i = 0; i < n; ++i) bad += kern::is_finite(a[i]) ? 0 : 1;
  return bad == 0;
}

}  // namespace cusbi::cpu
