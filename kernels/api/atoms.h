// CUDA entry points of NRE's atom construction (spec mcmc_nre.md §6.2): the contrasting indices
// (kernels/atoms.h, CPU twin host/cpu/atoms.hpp) and sbi's repeat_rows of x. Device pointers;
// work is queued on cuda::stream().
#pragma once
#include <cstdint>

namespace cusbi::cuda {

// out (B, K) int64: row i = [i, K - 1 distinct others], from Philox (seed, counters offset..).
void contrasting_indices(int64_t batch, int64_t atoms, uint64_t seed, uint64_t offset,
                         int64_t* out);
// x (rows, cols) -> out (rows * times, cols), row r * times + k = x row r.
void repeat_rows(const float* x, int64_t rows, int64_t cols, int64_t times, float* out);

}  // namespace cusbi::cuda
