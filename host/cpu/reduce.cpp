// CPU twins of kernels/reduce.cu. Deterministic: each output is one line reduced in index order
// by one thread (kernels/reduce.h), and sum_all adds fixed-size chunks in order, so no result
// depends on the number of threads.
#include "host/cpu/reduce.hpp"

#include <algorithm>
#include <atomic>
#include <vector>

#include "host/exec/thread_pool.hpp"
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
  exec::parallel_range(
      outputs, outputs * len >= ops::kParallelMin,
      [&](int64_t begin, int64_t end) {
        for (int64_t j = begin; j < end; ++j) {
          const int64_t o = j / inner, i = j % inner;
          out[j] = kern::reduce_strided(op, a + o * len * inner + i, len, inner);
        }
      },
      std::max<int64_t>(1, (int64_t(1) << 13) / std::max<int64_t>(len, 1)));
}

double reduce_sum_all(const float* a, int64_t n) {
  if (n <= kSumChunk) return kern::sum_strided(a, n, 1);
  const int64_t chunks = kern::ceil_div(n, kSumChunk);
  std::vector<double> partial(static_cast<size_t>(chunks));
  exec::parallel_for(chunks, true, [&](int64_t c) {
    const int64_t begin = c * kSumChunk, count = std::min(kSumChunk, n - begin);
    partial[static_cast<size_t>(c)] = kern::sum_strided(a + begin, count, 1);
  });
  double s = 0.0;
  for (double p : partial) s += p;
  return s;
}

bool all_finite(const float* a, int64_t n) {
  std::atomic<bool> bad{false};  // a flag, not a sum: the order of the writes does not matter
  exec::parallel_range(n, n >= ops::kParallelMin, [&](int64_t begin, int64_t end) {
    bool local = false;
    for (int64_t i = begin; i < end; ++i) local |= !kern::is_finite(a[i]);
    if (local) bad.store(true, std::memory_order_relaxed);
  });
  return !bad.load();
}

}  // namespace cusbi::cpu
