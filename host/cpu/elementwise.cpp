// CPU twins of kernels/elementwise.cu: OpenMP loops over kernels/elementwise.h, one compiled loop
// per op. Results never depend on the thread count (each element is computed on its own).
#include "host/cpu/elementwise.hpp"

#include <cstring>

#include "host/ops/op_checks.hpp"
#include "kernels/elementwise.h"

namespace cusbi::cpu {

namespace {

template <kern::BinaryOp Op>
void binary_loop(const float* a, int64_t na, const float* b, int64_t nb, float* out, int64_t n) {
  if (na == n && nb == n) {
#pragma omp parallel for simd if (n >= ops::kParallelMin)
    for (int64_t i = 0; i < n; ++i) out[i] = kern::apply_binary<Op>(a[i], b[i]);
  } else if (na == n) {  // b repeats every nb elements
#pragma omp parallel for collapse(2) if (n >= ops::kParallelMin)
    for (int64_t r = 0; r < n / nb; ++r)
      for (int64_t j = 0; j < nb; ++j)
        out[r * nb + j] = kern::apply_binary<Op>(a[r * nb + j], b[j]);
  } else {  // a repeats every na elements
#pragma omp parallel for collapse(2) if (n >= ops::kParallelMin)
    for (int64_t r = 0; r < n / na; ++r)
      for (int64_t j = 0; j < na; ++j)
        out[r * na + j] = kern::apply_binary<Op>(a[j], b[r * na + j]);
  }
}

template <kern::BinaryOp Op>
void broadcast_loop(const float* a, const float* b, const kern::BroadcastPlan& plan, float* out,
                    int64_t n) {
#pragma omp parallel for if (n >= ops::kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    int64_t ia = 0, ib = 0;
    kern::broadcast_offsets(plan, i, ia, ib);
    out[i] = kern::apply_binary<Op>(a[ia], b[ib]);
  }
}

template <kern::BinaryOp Op>
void scalar_loop(const float* a, float s, bool scalar_left, float* out, int64_t n) {
  if (scalar_left) {
#pragma omp parallel for simd if (n >= ops::kParallelMin)
    for (int64_t i = 0; i < n; ++i) out[i] = kern::apply_binary<Op>(s, a[i]);
  } else {
#pragma omp parallel for simd if (n >= ops::kParallelMin)
    for (int64_t i = 0; i < n; ++i) out[i] = kern::apply_binary<Op>(a[i], s);
  }
}

template <kern::UnaryOp Op>
void unary_loop(const float* a, float* out, int64_t n) {
#pragma omp parallel for simd if (n >= ops::kParallelMin)
  for (int64_t i = 0; i < n; ++i) out[i] = kern::apply_unary<Op>(a[i]);
}

}  // namespace

void elementwise_binary(kern::BinaryOp op, const float* a, int64_t na, const float* b, int64_t nb,
                        float* out, int64_t n) {
  if (n == 0) return;
  kern::visit_binary(op,
                     [&](auto tag) { binary_loop<decltype(tag)::value>(a, na, b, nb, out, n); });
}

void elementwise_binary_broadcast(kern::BinaryOp op, const float* a, const float* b,
                                  const kern::BroadcastPlan& plan, float* out, int64_t n) {
  if (n == 0) return;
  kern::visit_binary(op,
                     [&](auto tag) { broadcast_loop<decltype(tag)::value>(a, b, plan, out, n); });
}

void elementwise_binary_scalar(kern::BinaryOp op, const float* a, float s, bool scalar_left,
                               float* out, int64_t n) {
  if (n == 0) return;
  kern::visit_binary(
      op, [&](auto tag) { scalar_loop<decltype(tag)::value>(a, s, scalar_left, out, n); });
}

void elementwise_unary(kern::UnaryOp op, const float* a, float* out, int64_t n) {
  if (n == 0) return;
  kern::visit_unary(op, [&](auto tag) { unary_loop<decltype(tag)::value>(a, out, n); });
}

void elementwise_where(const float* mask, const float* a, float b, const kern::BroadcastPlan& plan,
                       float* out, int64_t n) {
#pragma omp parallel for if (n >= ops::kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    int64_t im = 0, ia = 0;
    kern::broadcast_offsets(plan, i, im, ia);
    out[i] = kern::select_where(mask[im], a[ia], b);
  }
}

void copy_2d(float* dst, int64_t dst_stride, const float* src, int64_t src_stride, int64_t rows,
             int64_t cols) {
#pragma omp parallel for if (rows * cols >= ops::kParallelMin)
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(dst + r * dst_stride, src + r * src_stride,
                static_cast<size_t>(cols) * sizeof(float));
}

}  // namespace cusbi::cpu
