// CPU twin of kernels/select.cu: one pass over the proposals in order, so each observation's
// accepted rows keep their proposal order (sbi's boolean-mask indexing). Copies, no arithmetic:
// the same bits as the GPU.
#include "host/cpu/select.hpp"

#include <algorithm>

#include "kernels/select.h"

namespace cusbi::cpu {

void select_accepted(int64_t m, int64_t cols, int64_t dim, const float* samples,
                     const float* accept, const int64_t* target, int64_t capacity,
                     int64_t observations, int64_t* filled, float* store, int64_t* counts) {
  std::fill(counts, counts + cols, int64_t{0});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t k = 0; k < cols; ++k) {
      if (accept[i * cols + k] == 0.0f) continue;
      const int64_t b = target[k];
      const int64_t at =
          kern::accepted_slot(filled[b], counts[k]++, capacity, b, observations, dim);
      if (store != nullptr && at >= 0) std::copy_n(samples + (i * cols + k) * dim, dim, store + at);
    }
  for (int64_t k = 0; k < cols; ++k) filled[target[k]] += counts[k];
}

}  // namespace cusbi::cpu
