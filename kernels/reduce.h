// Reduction of one line of values (x[0], x[stride], ..., x[(n-1) stride]) in index order, shared
// by the CPU loops (host/cpu/reduce.cpp) and the CUDA kernels (kernels/reduce.cu). Sums
// accumulate in double so that the result is rounded to float once, which keeps CPU and GPU (whose
// block reductions add in another fixed order) within one float ulp. The block kernels reuse the
// pieces on a thread's share of the line.
#pragma once
#include <cmath>

#include "kernels/api/reduce.h"
#include "kernels/common.h"

namespace cusbi::kern {

// NaN-propagating maximum (as torch.max): once a NaN is seen it stays.
CUSBI_HD float max_combine(float a, float b) { return (b > a || b != b) ? b : a; }

CUSBI_HD float max_strided(const float* x, int64_t n, int64_t stride) {
  float m = -INFINITY;
  for (int64_t k = 0; k < n; ++k) m = max_combine(m, x[k * stride]);
  return m;
}

CUSBI_HD double sum_strided(const float* x, int64_t n, int64_t stride) {
  double s = 0.0;
  for (int64_t k = 0; k < n; ++k) s += static_cast<double>(x[k * stride]);
  return s;
}

// sum exp(x - m): with m the line's maximum every term is <= 1, so nothing overflows.
CUSBI_HD double sum_exp_strided(const float* x, int64_t n, int64_t stride, float m) {
  double s = 0.0;
  for (int64_t k = 0; k < n; ++k)
    s += exp(static_cast<double>(x[k * stride]) - static_cast<double>(m));
  return s;
}

// An infinite maximum is the answer of log-sum-exp itself: all -inf gives -inf (an empty sum),
// and a +inf term gives +inf where exp(inf - inf) would give NaN.
CUSBI_HD bool lse_settled_by_max(float m) { return m == INFINITY || m == -INFINITY; }

// Result from the line's sum s (of x, or of exp(x - m) for LogSumExp) and maximum m.
CUSBI_HD float reduce_finish(ReduceOp op, double s, float m, int64_t len) {
  switch (op) {
    case ReduceOp::Sum:
      return static_cast<float>(s);
    case ReduceOp::Mean:
      return static_cast<float>(s / static_cast<double>(len));  // 0/0 = NaN
    case ReduceOp::Max:
      return m;
    case ReduceOp::LogSumExp:
      return static_cast<float>(static_cast<double>(m) + log(s));
  }
  return m;
}

CUSBI_HD float reduce_strided(ReduceOp op, const float* x, int64_t n, int64_t stride) {
  if (op == ReduceOp::Sum || op == ReduceOp::Mean)
    return reduce_finish(op, sum_strided(x, n, stride), 0.0f, n);
  const float m = max_strided(x, n, stride);
  if (op == ReduceOp::Max || lse_settled_by_max(m)) return m;
  return reduce_finish(op, sum_exp_strided(x, n, stride, m), m, n);
}

CUSBI_HD bool is_finite(float x) { return x - x == 0.0f; }  // NaN and +-inf give NaN

}  // namespace cusbi::kern
