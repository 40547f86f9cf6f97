// CPU twins of the elementwise CUDA entry points (kernels/api/elementwise.h): same names and
// signatures in cusbi::cpu, loops over the same kernels/elementwise.h math, so host/ops/ checks
// arguments and then calls `device.is_cpu() ? cpu::f(...) : cuda::f(...)`.
#pragma once
#include <cstdint>

#include "kernels/api/elementwise.h"

namespace cusbi::cpu {

void elementwise_binary(kern::BinaryOp op, const float* a, int64_t na, const float* b, int64_t nb,
                        float* out, int64_t n);
void elementwise_binary_broadcast(kern::BinaryOp op, const float* a, const float* b,
                                  const kern::BroadcastPlan& plan, float* out, int64_t n);
void elementwise_binary_scalar(kern::BinaryOp op, const float* a, float s, bool scalar_left,
                               float* out, int64_t n);
void elementwise_unary(kern::UnaryOp op, const float* a, float* out, int64_t n);
void elementwise_where(const float* mask, const float* a, float b, const kern::BroadcastPlan& plan,
                       float* out, int64_t n);
void elementwise_where3(const float* mask, const float* a, float sa, const float* b, float sb,
                        const kern::WherePlan& plan, float* out, int64_t n);
void copy_2d(float* dst, int64_t dst_stride, const float* src, int64_t src_stride, int64_t rows,
             int64_t cols);

}  // namespace cusbi::cpu
