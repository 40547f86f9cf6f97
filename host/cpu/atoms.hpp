// CPU twins of NRE's atom construction (kernels/api/atoms.h, same contracts).
#pragma once
#include <cstdint>

namespace cusbi::cpu {

void contrasting_indices(int64_t batch, int64_t atoms, uint64_t seed, uint64_t offset,
                         int64_t* out);
void repeat_rows(const float* x, int64_t rows, int64_t cols, int64_t times, float* out);

}  // namespace cusbi::cpu
