// CPU twins of kernels/elementwise.cu: loops over kernels/elementwise.h, one compiled loop per op,
// in element ranges on the pool (host/exec/thread_pool.hpp). Results never depend on the thread
// count (each element is computed on its own).
#include "host/cpu/elementwise.hpp"

#include <algorithm>
#include <cstring>

#include "host/exec/thread_pool.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/elementwise.h"

namespace cusbi::cpu {

namespace {

template <kern::BinaryOp Op>
void binary_loop(const float* a, int64_t na, const float* b, int64_t nb, float* out, int64_t n) {
  exec::parallel_range(n, n >= ops::kParallelMin, [&](int64_t begin, int64_t end) {
    if (na == n && nb == n) {
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) out[i] = kern::apply_binary<Op>(a[i], b[i]);
    } else if (na == n) {  // b repeats every nb elements
      for (int64_t i = begin, j = begin % nb; i < end; ++i, j = j + 1 == nb ? 0 : j + 1)
        out[i] = kern::apply_binary<Op>(a[i], b[j]);
    } else {  // a repeats every na elements
      for (int64_t i = begin, j = begin % na; i < end; ++i, j = j + 1 == na ? 0 : j + 1)
        out[i] = kern::apply_binary<Op>(a[j], b[i]);
    }
  });
}

template <kern::BinaryOp Op>
void broadcast_loop(const float* a, const float* b, const kern::BroadcastPlan& plan, float* out,
                    int64_t n) {
  exec::parallel_range(n, n >= ops::kParallelMin, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int64_t ia = 0, ib = 0;
      kern::broadcast_offsets(plan, i, ia, ib);
      out[i] = kern::apply_binary<Op>(a[ia], b[ib]);
    }
  });
}

template <kern::BinaryOp Op>
void scalar_loop(const float* a, float s, bool scalar_left, float* out, int64_t n) {
  exec::parallel_range(n, n >= ops::kParallelMin, [&](int64_t begin, int64_t end) {
    if (scalar_left) {
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) out[i] = kern::apply_binary<Op>(s, a[i]);
    } else {
#pragma omp simd
      for (int64_t i = begin; i < end; ++i) out[i] = kern::apply_binary<Op>(a[i], s);
    }
  });
}

template <kern::UnaryOp Op>
void unary_loop(const float* a, float* out, int64_t n) {
  exec::parallel_range(n, n >= ops::kParallelMin, [&](int64_t begin, int64_t end) {
#pragma omp simd
    for (int64_t i = begin; i < end; ++i) out[i] = kern::apply_unary<Op>(a[i]);
  });
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
  exec::parallel_range(n, n >= ops::kParallelMin, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int64_t im = 0, ia = 0;
      kern::broadcast_offsets(plan, i, im, ia);
      out[i] = kern::select_where(mask[im], a[ia], b);
    }
  });
}

void elementwise_where3(const float* mask, const float* a, float sa, const float* b, float sb,
                        const kern::WherePlan& plan, float* out, int64_t n) {
  exec::parallel_range(n, n >= ops::kParallelMin, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int64_t im = 0, ia = 0, ib = 0;
      kern::where_offsets(plan, i, im, ia, ib);
      out[i] = kern::select_where(mask[im], a ? a[ia] : sa, b ? b[ib] : sb);
    }
  });
}

void copy_2d(float* dst, int64_t dst_stride, const float* src, int64_t src_stride, int64_t rows,
             int64_t cols) {
  exec::parallel_range(
      rows, rows * cols >= ops::kParallelMin,
      [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r)
          std::memcpy(dst + r * dst_stride, src + r * src_stride,
                      static_cast<size_t>(cols) * sizeof(float));
      },
      std::max<int64_t>(1, (int64_t(1) << 13) / std::max<int64_t>(cols, 1)));
}

}  // namespace cusbi::cpu
