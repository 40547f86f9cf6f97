// Per-output math of cumsum and bernoulli (tensor_ops.hpp), written once for the CPU loops
// (host/cpu/tensor_ops.cpp) and the CUDA kernels (kernels/tensor_ops.cu).
#pragma once
#include <cstdint>

#include "kernels/common.h"
#include "kernels/rng.h"

namespace cusbi::kern {

// out[j * stride] = a[0] + ... + a[j * stride] for j < len: one running sum in double, in
// index order, each prefix rounded once to float, so every device gives the same bits.
CUSBI_HD void cumsum_strided(const float* a, float* out, int64_t len, int64_t stride) {
  double s = 0.0;
  for (int64_t j = 0; j < len; ++j) {
    s += static_cast<double>(a[j * stride]);
    out[j * stride] = static_cast<float>(s);
  }
}

// 1.0 with probability p: draw u ~ U[0, 1) (counter `index` of stream 0, as rand uses) and
// test u < p, so p <= 0 never fires and p >= 1 always does; NaN p gives 0.
CUSBI_HD float bernoulli_draw(float p, uint64_t seed, uint64_t index) {
  return philox_uniform(seed, 0, index) < p ? 1.0f : 0.0f;
}

}  // namespace cusbi::kern
