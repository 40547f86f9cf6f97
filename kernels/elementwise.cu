// CUDA kernels of the elementwise op set (flat, suffix and general broadcasting, where) and the
// 2-D block copy behind cat; CPU twins in host/cpu/elementwise.cpp. Each kernel is an index guard
// around kernels/elementwise.h, compiled once per op (the op is a template parameter chosen by
// one switch in the launcher), in grid-stride loops with 64-bit indices.
#include "kernels/cuda_api.h"
#include "kernels/cuda_check.cuh"
#include "kernels/elementwise.h"

namespace cusbi::cuda {

namespace {

// Suffix broadcasting: an operand with fewer elements repeats every na (or nb) elements.
template <kern::BinaryOp Op>
__global__ void binary_kernel(const float* a, int64_t na, const float* b, int64_t nb, float* out,
                              int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const float x = a[na == n ? i : i % na];
    const float y = b[nb == n ? i : i % nb];
    out[i] = kern::apply_binary<Op>(x, y);
  }
}

// General broadcasting: kernels/elementwise.h turns i into the two operand offsets.
template <kern::BinaryOp Op>
__global__ void broadcast_kernel(const float* a, const float* b, kern::BroadcastPlan plan,
                                 float* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t ia = 0, ib = 0;
    kern::broadcast_offsets(plan, i, ia, ib);
    out[i] = kern::apply_binary<Op>(a[ia], b[ib]);
  }
}

__global__ void where_kernel(const float* mask, const float* a, float b, kern::BroadcastPlan plan,
                             float* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t im = 0, ia = 0;
    kern::broadcast_offsets(plan, i, im, ia);
    out[i] = kern::select_where(mask[im], a[ia], b);
  }
}

// A null a (or b) stands for the scalar sa (or sb).
__global__ void where3_kernel(const float* mask, const float* a, float sa, const float* b, float sb,
                              kern::WherePlan plan, float* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    int64_t im = 0, ia = 0, ib = 0;
    kern::where_offsets(plan, i, im, ia, ib);
    out[i] = kern::select_where(mask[im], a ? a[ia] : sa, b ? b[ib] : sb);
  }
}

template <kern::BinaryOp Op, bool ScalarLeft>
__global__ void binary_scalar_kernel(const float* a, float s, float* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    out[i] = ScalarLeft ? kern::apply_binary<Op>(s, a[i]) : kern::apply_binary<Op>(a[i], s);
}

template <kern::UnaryOp Op>
__global__ void unary_kernel(const float* a, float* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    out[i] = kern::apply_unary<Op>(a[i]);
}

}  // namespace

void elementwise_binary(kern::BinaryOp op, const float* a, int64_t na, const float* b, int64_t nb,
                        float* out, int64_t n) {
  if (n == 0) return;
  kern::visit_binary(op, [&](auto tag) {
    binary_kernel<decltype(tag)::value><<<grid_for(n), kBlock, 0, stream()>>>(a, na, b, nb, out, n);
  });
  CUSBI_CUDA_CHECK_LAUNCH();
}

void elementwise_binary_broadcast(kern::BinaryOp op, const float* a, const float* b,
                                  const kern::BroadcastPlan& plan, float* out, int64_t n) {
  if (n == 0) return;
  kern::visit_binary(op, [&](auto tag) {
    broadcast_kernel<decltype(tag)::value>
        <<<grid_for(n), kBlock, 0, stream()>>>(a, b, plan, out, n);
  });
  CUSBI_CUDA_CHECK_LAUNCH();
}

void elementwise_where(const float* mask, const float* a, float b, const kern::BroadcastPlan& plan,
                       float* out, int64_t n) {
  if (n == 0) return;
  where_kernel<<<grid_for(n), kBlock, 0, stream()>>>(mask, a, b, plan, out, n);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void elementwise_where3(const float* mask, const float* a, float sa, const float* b, float sb,
                        const kern::WherePlan& plan, float* out, int64_t n) {
  if (n == 0) return;
  where3_kernel<<<grid_for(n), kBlock, 0, stream()>>>(mask, a, sa, b, sb, plan, out, n);
  CUSBI_CUDA_CHECK_LAUNCH();
}

void elementwise_binary_scalar(kern::BinaryOp op, const float* a, float s, bool scalar_left,
                               float* out, int64_t n) {
  if (n == 0) return;
  kern::visit_binary(op, [&](auto tag) {
    constexpr kern::BinaryOp kOp = decltype(tag)::value;
    if (scalar_left)
      binary_scalar_kernel<kOp, true><<<grid_for(n), kBlock, 0, stream()>>>(a, s, out, n);
    else
      binary_scalar_kernel<kOp, false><<<grid_for(n), kBlock, 0, stream()>>>(a, s, out, n);
  });
  CUSBI_CUDA_CHECK_LAUNCH();
}

void elementwise_unary(kern::UnaryOp op, const float* a, float* out, int64_t n) {
  if (n == 0) return;
  kern::visit_unary(op, [&](auto tag) {
    unary_kernel<decltype(tag)::value><<<grid_for(n), kBlock, 0, stream()>>>(a, out, n);
  });
  CUSBI_CUDA_CHECK_LAUNCH();
}

void copy_2d(float* dst, int64_t dst_stride, const float* src, int64_t src_stride, int64_t rows,
             int64_t cols) {
  if (rows == 0 || cols == 0) return;
  constexpr size_t kF = sizeof(float);
  // Asynchronous on the device's stream, so it is ordered with the kernels around it. One row
  // (cat along dim 0) is a plain copy: cudaMemcpy2D rejects pitches above the device's limit.
  if (rows == 1) {
    CUSBI_CUDA_CHECK(
        cudaMemcpyAsync(dst, src, size_t(cols) * kF, cudaMemcpyDeviceToDevice, stream()));
    return;
  }
  CUSBI_CUDA_CHECK(cudaMemcpy2DAsync(dst, size_t(dst_stride) * kF, src, size_t(src_stride) * kF,
                                     size_t(cols) * kF, size_t(rows), cudaMemcpyDeviceToDevice,
                                     stream()));
}

}  // namespace cusbi::cuda
