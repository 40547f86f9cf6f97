// CPU twins of kernels/optim.cu (see host/cpu/optim.hpp). Loops run in chunks claimed on the
// pool (host/exec/thread_pool.hpp), which never waits for a descheduled thread: an OpenMP
// barrier here made every training step wait a time slice on busy cores.
#include "host/cpu/optim.hpp"

#include <algorithm>
#include <cmath>

#include "host/exec/thread_pool.hpp"
#include "kernels/common.h"
#include "kernels/reduce_norm.h"

namespace cusbi::cpu {

namespace {

// Loops shorter than this run on one thread: waking threads costs more than they save.
constexpr int64_t kParallelMin = 1 << 15;
constexpr int64_t kChunk = 1 << 13;

using kern::kNormChunk;
using kern::kNormLanes;

// Sum of squares of one chunk (what one CUDA block computes): lane t takes elements
// t, t + kLanes, ... of the chunk in order, then the lanes meet in the tree.
double chunk_sumsq(const float* x, int64_t n, int64_t chunk) {
  double lanes[kNormLanes] = {};
  const int64_t begin = chunk * kNormChunk;
  const int64_t end = std::min(n, begin + kNormChunk);
  for (int64_t row = begin; row < end; row += kNormLanes) {
    const int64_t width = std::min<int64_t>(kNormLanes, end - row);
    for (int64_t t = 0; t < width; ++t) lanes[t] = kern::add_square(lanes[t], x[row + t]);
  }
  return kern::tree_sum_lanes(lanes);
}

// The combine pass: lane t sums chunks t, t + kLanes, ... in order. Lanes are independent, so
// the pool's threads (host/exec/thread_pool.hpp) may take them in any order without changing
// any sum; no partials are stored.
double sumsq_cpu(const float* x, int64_t n) {
  const int64_t num_chunks = n == 0 ? 1 : kern::ceil_div(n, kNormChunk);
  double lanes[kNormLanes] = {};
  const int active = static_cast<int>(std::min<int64_t>(kNormLanes, num_chunks));
  exec::parallel_for(active, num_chunks >= 8, [&](int64_t t) {
    double acc = 0.0;
    for (int64_t c = t; c < num_chunks; c += kNormLanes) acc += chunk_sumsq(x, n, c);
    lanes[t] = acc;
  });
  return kern::tree_sum_lanes(lanes);
}

void scale_cpu(float* x, int64_t n, float coef) {
  if (coef == 1.0f) return;  // x * 1 == x bit for bit
  exec::parallel_for(kern::ceil_div(n, kChunk), n >= kParallelMin, [&](int64_t c) {
    const int64_t end = std::min(n, (c + 1) * kChunk);
#pragma omp simd
    for (int64_t i = c * kChunk; i < end; ++i) x[i] *= coef;
  });
}

}  // namespace

void adam_step(float* params, const float* grads, float* exp_avg, float* exp_avg_sq, int64_t n,
               const kern::AdamScalars<float>& s) {
  exec::parallel_for(kern::ceil_div(n, kChunk), n >= kParallelMin, [&](int64_t c) {
    const int64_t end = std::min(n, (c + 1) * kChunk);
    // A local copy: the stores below could alias `s` for all GCC knows, which kept it from
    // hoisting the scalars (the bool selects) out of the loop and vectorising it (5x slower).
    const kern::AdamScalars<float> local = s;
#pragma omp simd
    for (int64_t i = c * kChunk; i < end; ++i)
      kern::adam_update(params[i], grads[i], exp_avg[i], exp_avg_sq[i], local);
  });
}

double sum_of_squares(const float* x, int64_t n) { return sumsq_cpu(x, n); }

float clip_grad_norm(float* x, int64_t n, float max_norm, bool /*read_norm*/) {
  const float norm = static_cast<float>(std::sqrt(sumsq_cpu(x, n)));
  scale_cpu(x, n, kern::clip_coefficient(norm, max_norm));
  return norm;
}

}  // namespace cusbi::cpu
