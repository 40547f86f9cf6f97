// Per-element rule of rejection sampling's compaction (host/posteriors/accepted_rows.cpp),
// shared by the CUDA kernel (kernels/select.cu) and the CPU twin (host/cpu/select.cpp): where
// an accepted proposal goes in the (capacity, observations, dim) store of accepted samples.
#pragma once
#include <cstdint>

#include "kernels/common.h"

namespace cusbi::kern {

// Offset (in floats) of the store row for the accepted proposal of `rank` (0-based, in
// proposal order within this batch) of observation b, which already had `filled` accepted
// proposals; -1 once the store is full. sbi keeps the first `capacity` accepted samples of an
// observation; later ones (the last batch's overshoot) count towards the acceptance rate only.
CUSBI_HD int64_t accepted_slot(int64_t filled, int64_t rank, int64_t capacity, int64_t b,
                               int64_t observations, int64_t dim) {
  const int64_t row = filled + rank;
  return row < capacity ? (row * observations + b) * dim : -1;
}

}  // namespace cusbi::kern
