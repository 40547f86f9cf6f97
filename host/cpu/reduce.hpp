// CPU twins of the reduction CUDA entry points (kernels/api/reduce.h): same names and signatures
// in cusbi::cpu, loops over the same kernels/reduce.h line reductions.
#pragma once
#include <cstdint>

#include "kernels/api/reduce.h"

namespace cusbi::cpu {

void reduce_dim(kern::ReduceOp op, const float* a, int64_t outer, int64_t len, int64_t inner,
                float* out);
double reduce_sum_all(const float* a, int64_t n);
bool all_finite(const float* a, int64_t n);

}  // namespace cusbi::cpu
