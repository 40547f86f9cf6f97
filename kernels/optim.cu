// CUDA side of the optimiser: the Adam kernel (per-element math in kernels/adam.h) and the
// two-pass global L2 norm in the fixed layout of kernels/reduce_norm.h: one block per chunk
// writes a double partial into a scratch buffer, one block combines the partials in a fixed tree
// order and computes the clip coefficient on the device. No atomics, so the result is the same
// bits on every run and equals the CPU twin. The scratch buffer is cached per device and only
// grows, so a training step allocates nothing once the buffer fits.
#include <limits>
#include <mutex>

#include "kernels/adam.h"
#include "kernels/cuda_api.h"
#include "kernels/cuda_check.cuh"
#include "kernels/reduce_norm.h"

namespace cusbi::cuda {
namespace {

static_assert(kern::kNormLanes == kBlock, "norm lanes are the threads of one block");

__global__ void adam_kernel(float* __restrict__ params, const float* __restrict__ grads,
                            float* __restrict__ exp_avg, float* __restrict__ exp_avg_sq, int64_t n,
                            kern::AdamScalars<float> scalars) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    float p = params[i], m = exp_avg[i], v = exp_avg_sq[i];
    kern::adam_update(p, grads[i], m, v, scalars);
    params[i] = p;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
  }
}

// Halving tree over the block's lanes in shared memory; the result lands in lanes[0].
__device__ void block_tree_sum(double* lanes) {
  for (int stride = kern::kNormLanes / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) lanes[threadIdx.x] += lanes[threadIdx.x + stride];
    __syncthreads();
  }
}

// Pass 1: block c sums the squares of chunk c.
__global__ void chunk_sumsq_kernel(const float* __restrict__ x, int64_t n,
                                   double* __restrict__ partials) {
  __shared__ double lanes[kern::kNormLanes];
  const int64_t base = int64_t(blockIdx.x) * kern::kNormChunk;
  double acc = 0.0;
  for (int row = 0; row < kern::kNormRowsPerChunk; ++row) {
    const int64_t i = base + int64_t(row) * kern::kNormLanes + threadIdx.x;
    if (i < n) acc = kern::add_square(acc, x[i]);
  }
  lanes[threadIdx.x] = acc;
  __syncthreads();
  block_tree_sum(lanes);
  if (threadIdx.x == 0) partials[blockIdx.x] = lanes[0];
}

// What pass 2 leaves on the device for the host and for the scaling kernel.
struct NormResult {
  double sumsq;
  float norm;
  float coef;
};

// Pass 2 (one block): lane t sums partials t, t+kLanes, ... in order, then the tree.
__global__ void combine_kernel(const double* __restrict__ partials, int64_t num_chunks,
                               float max_norm, NormResult* __restrict__ result) {
  __shared__ double lanes[kern::kNormLanes];
  double acc = 0.0;
  for (int64_t c = threadIdx.x; c < num_chunks; c += kern::kNormLanes) acc += partials[c];
  lanes[threadIdx.x] = acc;
  __syncthreads();
  block_tree_sum(lanes);
  if (threadIdx.x == 0) {
    const double sumsq = lanes[0];
    const float norm = static_cast<float>(sqrt(sumsq));
    result->sumsq = sumsq;
    result->norm = norm;
    result->coef = max_norm > 0.0f ? kern::clip_coefficient(norm, max_norm) : 1.0f;
  }
}

// x *= coef, the coefficient read from device memory. x * 1 == x bit for bit, so a coefficient
// of exactly 1 (the norm is below max_norm) skips the writes.
__global__ void scale_kernel(float* __restrict__ x, int64_t n,
                             const NormResult* __restrict__ result) {
  const float coef = result->coef;
  if (coef == 1.0f) return;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    x[i] *= coef;
}

// Per-device scratch: a NormResult followed by one double per chunk. Grows, never shrinks, and is
// deliberately never freed (freeing at static destruction could run after the CUDA runtime has
// shut down); the mutex also serialises users of one buffer across host threads.
struct Scratch {
  void* memory = nullptr;
  int64_t capacity_chunks = 0;
};
constexpr int kMaxDevices = 64;
std::mutex g_scratch_mutex;
Scratch g_scratch[kMaxDevices];

Scratch& scratch_for(int device, int64_t num_chunks) {
  CUSBI_CHECK(device >= 0 && device < kMaxDevices,
              "cuda:" << device << " is beyond the " << kMaxDevices << " devices cusbi supports");
  Scratch& s = g_scratch[device];
  if (s.capacity_chunks < num_chunks) {
    release(s.memory, device);
    s.memory = nullptr;
    s.capacity_chunks = 0;
    // Round up to a power of two of chunks so slowly growing sizes reallocate rarely.
    int64_t capacity = 1024;
    while (capacity < num_chunks) capacity *= 2;
    s.memory = allocate(sizeof(NormResult) + sizeof(double) * size_t(capacity), device);
    s.capacity_chunks = capacity;
  }
  return s;
}

int64_t norm_chunks(int64_t n) {
  const int64_t num_chunks = n == 0 ? 1 : kern::ceil_div(n, kern::kNormChunk);
  CUSBI_CHECK(num_chunks <= 2147483647LL, "cannot take the norm of "
                                              << n << " elements in one call (at most "
                                              << 2147483647LL * kern::kNormChunk << ")");
  return num_chunks;
}

// Runs both passes; leaves the result on the device and returns where it is.
NormResult* launch_norm(const float* x, int64_t n, float max_norm, int64_t num_chunks, Scratch& s) {
  auto* result = static_cast<NormResult*>(s.memory);
  auto* partials = reinterpret_cast<double*>(result + 1);
  chunk_sumsq_kernel<<<unsigned(num_chunks), kern::kNormLanes, 0, stream()>>>(x, n, partials);
  CUSBI_CUDA_CHECK_LAUNCH();
  combine_kernel<<<1, kern::kNormLanes, 0, stream()>>>(partials, num_chunks, max_norm, result);
  CUSBI_CUDA_CHECK_LAUNCH();
  return result;
}

template <typename T>
T read_back(const T* device_value) {
  T value{};
  copy(&value, device_value, sizeof(T), CopyKind::DeviceToHost);
  return value;
}

int current_device() {
  int device = 0;
  CUSBI_CUDA_CHECK(cudaGetDevice(&device));
  return device;
}

}  // namespace

void adam_step(float* params, const float* grads, float* exp_avg, float* exp_avg_sq, int64_t n,
               const kern::AdamScalars<float>& scalars) {
  if (n == 0) return;
  adam_kernel<<<grid_for(n), kBlock, 0, stream()>>>(params, grads, exp_avg, exp_avg_sq, n, scalars);
  CUSBI_CUDA_CHECK_LAUNCH();
}

double sum_of_squares(const float* x, int64_t n) {
  const int device = current_device();
  const int64_t num_chunks = norm_chunks(n);
  std::lock_guard<std::mutex> lock(g_scratch_mutex);
  Scratch& s = scratch_for(device, num_chunks);
  return read_back(&launch_norm(x, n, 0.0f, num_chunks, s)->sumsq);
}

float clip_grad_norm(float* x, int64_t n, float max_norm, bool read_norm) {
  const int device = current_device();
  const int64_t num_chunks = norm_chunks(n);
  std::lock_guard<std::mutex> lock(g_scratch_mutex);
  Scratch& s = scratch_for(device, num_chunks);
  const NormResult* result = launch_norm(x, n, max_norm, num_chunks, s);
  if (n > 0) {
    scale_kernel<<<grid_for(n), kBlock, 0, stream()>>>(x, n, result);
    CUSBI_CUDA_CHECK_LAUNCH();
  }
  return read_norm ? read_back(&result->norm) : std::numeric_limits<float>::quiet_NaN();
}

}  // namespace cusbi::cuda
