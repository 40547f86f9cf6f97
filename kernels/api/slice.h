// CUDA entry points of the many-chain slice sampler (host/mcmc/slice_run.cpp): a thread per
// chain runs kernels/slice.h on device pointers. Mirrors cpu::slice_start / cpu::slice_step
// (host/cpu/slice.hpp). The event counters are integers updated with atomics: exact, so the
// counts (and everything else) do not depend on scheduling.
#pragma once
#include <cstdint>

#include "kernels/slice.h"

namespace cusbi::cuda {

// Chain c in [0, chains) starts at init row c ((chains, D) floats) with widths init_width;
// randomness keyed by (seed, stream chain + 1, base + draw).
void slice_start(const kern::SliceSettings& settings, const kern::SliceChains& chains,
                 int64_t num_chains, const float* init, double init_width, uint64_t seed,
                 uint64_t base);

// One lockstep iteration: lp (chains,) is the potential at each chain's proposal row. Adds the
// iteration's events to counters[kern::kSliceCounters] = {finished chains, completed sweeps,
// capped step-outs, stalled shrinks, failed chains} (device int64).
void slice_step(const kern::SliceSettings& settings, const kern::SliceChains& chains,
                int64_t num_chains, const float* lp, uint64_t seed, uint64_t base,
                int64_t* counters);

}  // namespace cusbi::cuda
