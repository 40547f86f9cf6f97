// CUDA entry point of rejection sampling's compaction (host/posteriors/accepted_rows.cpp): the
// accepted proposals of a batch are moved into the store on the device, in proposal order, and
// only per-observation counts return to the host. Device pointers; mirrors cpu::select_accepted
// (host/cpu/select.hpp), with the per-element rule of kernels/select.h.
#pragma once
#include <cstdint>

namespace cusbi::cuda {

// A batch of m proposals for each of `cols` observations: samples (m, cols, dim) row-major and
// accept (m, cols), non-zero where the proposal is accepted. Column k belongs to observation
// target[k] of the store (capacity, observations, dim) (null: count only), which already holds
// filled[target[k]] accepted rows. Stable: the accepted proposals of a column are taken in
// proposal order, as sbi's boolean-mask indexing does. Writes counts[k] (this batch's accepted
// proposals of column k, overshoot included) and adds it to filled[target[k]]. The targets of a
// batch are distinct. Integer counting: the same result for any scheduling.
void select_accepted(int64_t m, int64_t cols, int64_t dim, const float* samples,
                     const float* accept, const int64_t* target, int64_t capacity,
                     int64_t observations, int64_t* filled, float* store, int64_t* counts);

}  // namespace cusbi::cuda
