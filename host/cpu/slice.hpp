// CPU twin of kernels/slice.cu (same contract as kernels/api/slice.h): the chains' transitions
// of kernels/slice.h in a loop over chains on the thread pool. Each chain touches only its own
// state and random stream, so the result does not depend on how chains are split over threads.
#pragma once
#include <cstdint>

#include "kernels/slice.h"

namespace cusbi::cpu {

void slice_start(const kern::SliceSettings& settings, const kern::SliceChains& chains,
                 int64_t num_chains, const float* init, double init_width, uint64_t seed,
                 uint64_t base);
void slice_step(const kern::SliceSettings& settings, const kern::SliceChains& chains,
                int64_t num_chains, const float* lp, uint64_t seed, uint64_t base,
                int64_t* counters);

}  // namespace cusbi::cpu
