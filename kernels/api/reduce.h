// CUDA entry points of the reductions (sum/mean/max/logsumexp over one dimension, sum_all, the
// finiteness flag), with CPU twins of the same names and signatures in host/cpu/reduce.hpp.
// CUDA-free: host/ includes it with g++. Pointers are device pointers on the current device;
// work is queued on the device's stream (cuda::stream()).
#pragma once
#include <cstdint>

namespace cusbi::kern {

enum class ReduceOp { Sum, Mean, Max, LogSumExp };

}  // namespace cusbi::kern

namespace cusbi::cuda {

// a viewed as (outer, len, inner), reduced over len into out (outer, inner). Fixed order per
// output, so repeated calls give the same bits. Asynchronous: out may be any device buffer.
void reduce_dim(kern::ReduceOp op, const float* a, int64_t outer, int64_t len, int64_t inner,
                float* out);
// Sum of a[0..n) accumulated in double, in an order that depends on n only.
double reduce_sum_all(const float* a, int64_t n);
// True when no element of a[0..n) is NaN or +-inf.
bool all_finite(const float* a, int64_t n);

}  // namespace cusbi::cuda
