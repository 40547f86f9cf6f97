// CPU twin of rejection sampling's compaction (kernels/api/select.h, same contract): the
// accepted proposals of a batch go into the store in proposal order, per observation.
#pragma once
#include <cstdint>

namespace cusbi::cpu {

void select_accepted(int64_t m, int64_t cols, int64_t dim, const float* samples,
                     const float* accept, const int64_t* target, int64_t capacity,
                     int64_t observations, int64_t* filled, float* store, int64_t* counts);

}  // namespace cusbi::cpu
