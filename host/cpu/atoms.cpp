// CPU twins of kernels/atoms.cu: the same per-row rule (kernels/atoms.h), so the indices equal
// the GPU's for the same seed and counter; repeat_rows is a copy.
#include "host/cpu/atoms.hpp"

#include <algorithm>

#include "kernels/atoms.h"

namespace cusbi::cpu {

void contrasting_indices(int64_t batch, int64_t atoms, uint64_t seed, uint64_t offset,
                         int64_t* out) {
  for (int64_t i = 0; i < batch; ++i)
    kern::contrasting_row(i, batch, atoms, seed, offset, out + i * atoms);
}

void repeat_rows(const float* x, int64_t rows, int64_t cols, int64_t times, float* out) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < times; ++k)
      std::copy_n(x + r * cols, cols, out + (r * times + k) * cols);
}

}  // namespace cusbi::cpu
