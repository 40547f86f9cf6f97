// Rejection sampling's compaction on the device (kernels/api/select.h): one block per
// observation walks its proposals in tiles of kSelectThreads, ranks the accepted ones with a
// block-wide exclusive scan of 0/1 flags (warp shuffles, then the warp totals in warp order) and
// copies each into its store row (kern::accepted_slot). Integer counts: exact, so the result is
// the same for any scheduling, and the order is the proposal order, as on the CPU.
#include <climits>

#include "kernels/api/select.h"
#include "kernels/cuda_check.cuh"
#include "kernels/select.h"

namespace cusbi::cuda {

namespace {

constexpr int kSelectThreads = 256;
constexpr int kWarp = 32;
constexpr int kWarps = kSelectThreads / kWarp;

__global__ void __launch_bounds__(kSelectThreads)
    select_accepted_kernel(int64_t m, int64_t cols, int64_t dim, const float* samples,
                           const float* accept, const int64_t* target, int64_t capacity,
                           int64_t observations, int64_t* filled, float* store, int64_t* counts) {
  __shared__ int warp_totals[kWarps];
  const int64_t k = blockIdx.x;
  const int64_t b = target[k];
  const int64_t base = filled[b];  // read by every thread before the first barrier
  const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
  int64_t running = 0;  // accepted proposals of this column in the tiles before this one
  for (int64_t tile = 0; tile < m; tile += kSelectThreads) {  // uniform across the block
    const int64_t i = tile + threadIdx.x;
    const int flag = i < m && accept[i * cols + k] != 0.0f ? 1 : 0;
    int inclusive = flag;  // inclusive scan of the flags within the warp
    for (int d = 1; d < kWarp; d *= 2) {
      const int v = __shfl_up_sync(0xffffffffu, inclusive, d);
      if (lane >= d) inclusive += v;
    }
    if (lane == kWarp - 1) warp_totals[warp] = inclusive;
    __syncthreads();
    int before = 0, tile_total = 0;  // accepted in earlier warps of the tile, and in the tile
    for (int w = 0; w < kWarps; ++w) {
      if (w < warp) before += warp_totals[w];
      tile_total += warp_totals[w];
    }
    if (flag) {
      const int64_t rank = running + before + inclusive - 1;
      const int64_t at = kern::accepted_slot(base, rank, capacity, b, observations, dim);
      if (store != nullptr && at >= 0)
        for (int64_t t = 0; t < dim; ++t) store[at + t] = samples[(i * cols + k) * dim + t];
    }
    running += tile_total;
    __syncthreads();  // warp_totals is rewritten by the next tile
  }
  __syncthreads();  // every thread has read filled[b] (also when m == 0)
  if (threadIdx.x == 0) {
    counts[k] = running;
    filled[b] = base + running;
  }
}

}  // namespace

void select_accepted(int64_t m, int64_t cols, int64_t dim, const float* samples,
                     const float* accept, const int64_t* target, int64_t capacity,
                     int64_t observations, int64_t* filled, float* store, int64_t* counts) {
  if (cols == 0) return;
  CUSBI_CHECK(cols <= INT_MAX, "rejection sampling for " << cols
                                                         << " observations at once exceeds "
                                                            "CUDA's grid; split the batch");
  select_accepted_kernel<<<static_cast<unsigned>(cols), kSelectThreads, 0, stream()>>>(
      m, cols, dim, samples, accept, target, capacity, observations, filled, store, counts);
  CUSBI_CUDA_CHECK_LAUNCH();
}

}  // namespace cusbi::cuda
