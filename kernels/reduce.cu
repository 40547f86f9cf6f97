// CUDA reductions (CPU twins in host/cpu/reduce.cpp): over one dimension (one output per thread, or
// per block for few long lines), sum_all (fixed grid of partial sums, then one block), and the
// finiteness flag. Every order of addition depends on the shape only, never on the device or
// timing: deterministic, no float atomics. Scratch for sum_all/all_finite is static device memory,
// so nothing is allocated.
#include <algorithm>
#include <mutex>

#include "kernels/api/reduce.h"
#include "kernels/cuda_api.h"
#include "kernels/cuda_check.cuh"
#include "kernels/reduce.h"

namespace cusbi::cuda {

namespace {

using kern::ReduceOp;

constexpr int kMaxPartials = 1024;
__device__ double g_partials[kMaxPartials];
__device__ double g_total;
__device__ int g_nonfinite;
std::mutex g_scratch_mutex;  // the static scratch is shared by host threads

// Fixed tree over a power-of-two block: the same order on every call. All threads get the result.
template <typename T, typename Combine>
__device__ T block_reduce(T v, T* shared, Combine combine) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int s = kBlock / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s)
      shared[threadIdx.x] = combine(shared[threadIdx.x], shared[threadIdx.x + s]);
    __syncthreads();
  }
  const T result = shared[0];
  __syncthreads();
  return result;
}

struct Plus {
  __device__ double operator()(double a, double b) const { return a + b; }
};
struct Max {
  __device__ float operator()(float a, float b) const { return kern::max_combine(a, b); }
};

// a: (outer, len, inner) -> out: (outer, inner), output j by thread j; adjacent threads read
// adjacent columns, so loads coalesce when inner > 1.
__global__ void reduce_thread_kernel(ReduceOp op, const float* a, int64_t outer, int64_t len,
                                     int64_t inner, float* out) {
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < outer * inner;
       j += int64_t(gridDim.x) * blockDim.x)
    out[j] = kern::reduce_strided(op, a + (j / inner) * len * inner + j % inner, len, inner);
}

// Output j by block j: thread t reduces elements t, t + kBlock, ... of the line in order, then
// the block combines the kBlock partials in a fixed tree. m is uniform across the block, so
// the early exit keeps every thread at the same barriers.
__global__ void reduce_block_kernel(ReduceOp op, const float* a, int64_t outer, int64_t len,
                                    int64_t inner, float* out) {
  __shared__ double s_sum[kBlock];
  __shared__ float s_max[kBlock];
  const int64_t t = threadIdx.x;
  const int64_t share = len > t ? (len - t + kBlock - 1) / kBlock : 0;
  const int64_t stride = inner * kBlock;
  for (int64_t j = blockIdx.x; j < outer * inner; j += gridDim.x) {
    const float* mine = a + (j / inner) * len * inner + j % inner + t * inner;
    float m = 0.0f;
    if (op == ReduceOp::Max || op == ReduceOp::LogSumExp) {
      m = block_reduce(kern::max_strided(mine, share, stride), s_max, Max{});
      if (op == ReduceOp::Max || kern::lse_settled_by_max(m)) {
        if (t == 0) out[j] = m;
        continue;
      }
    }
    const double part = op == ReduceOp::LogSumExp ? kern::sum_exp_strided(mine, share, stride, m)
                                                  : kern::sum_strided(mine, share, stride);
    const double s = block_reduce(part, s_sum, Plus{});
    if (t == 0) out[j] = kern::reduce_finish(op, s, m, len);
  }
}

// Block b sums elements b * kBlock + t + k * gridDim.x * kBlock; the grid depends on n only.
__global__ void sum_partials_kernel(const float* a, int64_t n, double* partials) {
  __shared__ double shared[kBlock];
  const int64_t first = blockIdx.x * int64_t(kBlock) + threadIdx.x;
  const int64_t stride = int64_t(gridDim.x) * kBlock;
  const double part =
      kern::sum_strided(a + first, n > first ? (n - first + stride - 1) / stride : 0, stride);
  const double s = block_reduce(part, shared, Plus{});
  if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

__global__ void sum_final_kernel(const double* partials, int count, double* total) {
  __shared__ double shared[kBlock];
  double part = 0.0;
  for (int i = threadIdx.x; i < count; i += kBlock) part += partials[i];
  const double s = block_reduce(part, shared, Plus{});
  if (threadIdx.x == 0) *total = s;
}

// Every writer stores the same value, so the race is benign and the result deterministic.
__global__ void nonfinite_kernel(const float* a, int64_t n, int* flag) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    if (!kern::is_finite(a[i])) *flag = 1;
}

template <typename T>
void* symbol_address(const T& symbol) {
  void* p = nullptr;
  CUSBI_CUDA_CHECK(cudaGetSymbolAddress(&p, symbol));
  return p;
}

}  // namespace

void reduce_dim(ReduceOp op, const float* a, int64_t outer, int64_t len, int64_t inner,
                float* out) {
  const int64_t outputs = outer * inner;
  if (outputs == 0) return;
  // Few long lines cannot fill the GPU with one thread each: give each line a block.
  if (outputs < 1024 && len >= 512) {
    reduce_block_kernel<<<grid_for(outputs * kBlock), kBlock, 0, stream()>>>(op, a, outer, len,
                                                                             inner, out);
  } else {
    reduce_thread_kernel<<<grid_for(outputs), kBlock, 0, stream()>>>(op, a, outer, len, inner, out);
  }
  CUSBI_CUDA_CHECK_LAUNCH();
}

double reduce_sum_all(const float* a, int64_t n) {
  if (n == 0) return 0.0;
  const int blocks =
      static_cast<int>(std::min<int64_t>(kMaxPartials, kern::ceil_div(n, 4 * kBlock)));
  std::lock_guard<std::mutex> lock(g_scratch_mutex);
  double* partials = static_cast<double*>(symbol_address(g_partials));
  double* total = static_cast<double*>(symbol_address(g_total));
  sum_partials_kernel<<<blocks, kBlock, 0, stream()>>>(a, n, partials);
  CUSBI_CUDA_CHECK_LAUNCH();
  sum_final_kernel<<<1, kBlock, 0, stream()>>>(partials, blocks, total);
  CUSBI_CUDA_CHECK_LAUNCH();
  double result = 0.0;
  CUSBI_CUDA_CHECK(
      cudaMemcpyAsync(&result, total, sizeof(double), cudaMemcpyDeviceToHost, stream()));
  wait_for_stream();  // counted host round-trip
  return result;
}

bool all_finite(const float* a, int64_t n) {
  if (n == 0) return true;
  std::lock_guard<std::mutex> lock(g_scratch_mutex);
  int* flag = static_cast<int*>(symbol_address(g_nonfinite));
  CUSBI_CUDA_CHECK(cudaMemsetAsync(flag, 0, sizeof(int), stream()));
  nonfinite_kernel<<<grid_for(n), kBlock, 0, stream()>>>(a, n, flag);
  CUSBI_CUDA_CHECK_LAUNCH();
  int bad = 0;
  CUSBI_CUDA_CHECK(cudaMemcpyAsync(&bad, flag, sizeof(int), cudaMemcpyDeviceToHost, stream()));
  wait_for_stream();  // counted host round-trip
  return bad == 0;
}

}  // namespace cusbi::cuda
