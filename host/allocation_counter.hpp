// Counts tensor allocations (host and device) so tests can prove that a hot path, such as a
// training step at a fixed batch size, allocates nothing once its workspaces exist.
#pragma once
#include <cstdint>

namespace cusbi::detail {
int64_t allocation_count();
}  // namespace cusbi::detail
