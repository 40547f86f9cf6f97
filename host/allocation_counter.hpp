// Counts memory allocations (tensors on the host, every cuda::allocate on a device, including
// cached kernel scratch) so tests can prove that a hot path, such as a training step at a fixed
// batch size, allocates nothing once its workspaces exist.
#pragma once
#include <cstdint>

namespace cusbi::detail {
int64_t allocation_count();
void count_allocation();  // called by each allocation site
}  // namespace cusbi::detail
