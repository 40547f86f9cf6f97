// The elementwise part of tensor_ops.hpp: more unary math, pow, clamp, minimum/maximum, the
// comparisons (float masks) and the three-operand where. All go through the checked dispatch of
// host/ops/elementwise_dispatch.hpp with new UnaryOp/BinaryOp cases of kernels/elementwise.h, so
// the per-element math is the same on the CPU and on CUDA.
#include <cmath>

#include "cusbi/tensor_ops.hpp"
#include "host/cpu/elementwise.hpp"
#include "host/ops/elementwise_dispatch.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace {

using kern::BinaryOp;
using kern::UnaryOp;

// where with each of a and b a tensor or (null tensor) a scalar; all present operands
// broadcast with the mask to out's shape.
void where_into(const Tensor& mask, const Tensor* a, float sa, const Tensor* b, float sb,
                Tensor& out) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const Shape& sm = mask.shape();
  const kern::WherePlan plan =
      ops::make_where_plan(sm, a ? a->shape() : sm, b ? b->shape() : sm, out.shape(), "where");
  const float* pa = a ? a->data() : nullptr;
  const float* pb = b ? b->data() : nullptr;
  if (ops::runs_on_cpu(out.device()))
    cpu::elementwise_where3(mask.data(), pa, sa, pb, sb, plan, out.data(), n);
  else
    cuda::elementwise_where3(mask.data(), pa, sa, pb, sb, plan, out.data(), n);
}

// Checks the tensor operands of where and returns the broadcast shape and their device.
Shape where_shape(const Tensor& mask, const Tensor* a, const Tensor* b, Device& device) {
  ops::check_float(mask, "where (mask)");
  Shape shape = mask.shape();
  device = mask.device();
  for (const Tensor* t : {a, b}) {
    if (!t) continue;
    ops::check_float(*t, "where");
    ops::common_device(mask, *t, "where");
    shape = ops::broadcast_shape(shape, t->shape(), "where");
  }
  return shape;
}

Tensor where_new(const Tensor& mask, const Tensor* a, float sa, const Tensor* b, float sb) {
  Device device = Device::cpu();
  const Shape shape = where_shape(mask, a, b, device);
  Tensor out = Tensor::empty(shape, device);
  where_into(mask, a, sa, b, sb, out);
  return out;
}

}  // namespace

Tensor sin(const Tensor& a) { return ops::unary(a, UnaryOp::Sin, "sin"); }
Tensor cos(const Tensor& a) { return ops::unary(a, UnaryOp::Cos, "cos"); }
Tensor tanh(const Tensor& a) { return ops::unary(a, UnaryOp::Tanh, "tanh"); }
Tensor log1p(const Tensor& a) { return ops::unary(a, UnaryOp::Log1p, "log1p"); }
Tensor expm1(const Tensor& a) { return ops::unary(a, UnaryOp::Expm1, "expm1"); }
Tensor floor(const Tensor& a) { return ops::unary(a, UnaryOp::Floor, "floor"); }
void sin(const Tensor& a, Tensor& out) { ops::unary_out(a, UnaryOp::Sin, out, "sin"); }
void cos(const Tensor& a, Tensor& out) { ops::unary_out(a, UnaryOp::Cos, out, "cos"); }
void tanh(const Tensor& a, Tensor& out) { ops::unary_out(a, UnaryOp::Tanh, out, "tanh"); }
void log1p(const Tensor& a, Tensor& out) { ops::unary_out(a, UnaryOp::Log1p, out, "log1p"); }
void expm1(const Tensor& a, Tensor& out) { ops::unary_out(a, UnaryOp::Expm1, out, "expm1"); }
void floor(const Tensor& a, Tensor& out) { ops::unary_out(a, UnaryOp::Floor, out, "floor"); }

Tensor pow(const Tensor& a, float exponent) {
  return ops::binary_scalar(a, exponent, false, BinaryOp::Pow, "pow");
}
Tensor pow(const Tensor& a, const Tensor& exponent) {
  return ops::binary(a, exponent, BinaryOp::Pow, "pow");
}

Tensor clamp(const Tensor& a, float low, float high) {
  CUSBI_CHECK(!(low > high),
              "clamp(low=" << low << ", high=" << high << "): low must not exceed high; swap them");
  // max then min in place: torch's min(max(a, low), high), NaN kept by both steps.
  Tensor out = ops::binary_scalar(a, low, false, BinaryOp::Max, "clamp");
  if (ops::runs_on_cpu(out.device()))
    cpu::elementwise_binary_scalar(BinaryOp::Min, out.data(), high, false, out.data(), out.numel());
  else
    cuda::elementwise_binary_scalar(BinaryOp::Min, out.data(), high, false, out.data(),
                                    out.numel());
  return out;
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  return ops::binary(a, b, BinaryOp::Min, "minimum");
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  return ops::binary(a, b, BinaryOp::Max, "maximum");
}

Tensor lt(const Tensor& a, const Tensor& b) { return ops::binary(a, b, BinaryOp::Lt, "lt"); }
Tensor le(const Tensor& a, const Tensor& b) { return ops::binary(a, b, BinaryOp::Le, "le"); }
Tensor gt(const Tensor& a, const Tensor& b) { return ops::binary(a, b, BinaryOp::Gt, "gt"); }
Tensor ge(const Tensor& a, const Tensor& b) { return ops::binary(a, b, BinaryOp::Ge, "ge"); }
Tensor eq(const Tensor& a, const Tensor& b) { return ops::binary(a, b, BinaryOp::Eq, "eq"); }
Tensor ne(const Tensor& a, const Tensor& b) { return ops::binary(a, b, BinaryOp::Ne, "ne"); }
Tensor lt(const Tensor& a, float s) { return ops::binary_scalar(a, s, false, BinaryOp::Lt, "lt"); }
Tensor le(const Tensor& a, float s) { return ops::binary_scalar(a, s, false, BinaryOp::Le, "le"); }
Tensor gt(const Tensor& a, float s) { return ops::binary_scalar(a, s, false, BinaryOp::Gt, "gt"); }
Tensor ge(const Tensor& a, float s) { return ops::binary_scalar(a, s, false, BinaryOp::Ge, "ge"); }
Tensor eq(const Tensor& a, float s) { return ops::binary_scalar(a, s, false, BinaryOp::Eq, "eq"); }
Tensor ne(const Tensor& a, float s) { return ops::binary_scalar(a, s, false, BinaryOp::Ne, "ne"); }
Tensor operator<(const Tensor& a, const Tensor& b) { return lt(a, b); }
Tensor operator<=(const Tensor& a, const Tensor& b) { return le(a, b); }
Tensor operator>(const Tensor& a, const Tensor& b) { return gt(a, b); }
Tensor operator>=(const Tensor& a, const Tensor& b) { return ge(a, b); }
Tensor operator<(const Tensor& a, float s) { return lt(a, s); }
Tensor operator<=(const Tensor& a, float s) { return le(a, s); }
Tensor operator>(const Tensor& a, float s) { return gt(a, s); }
Tensor operator>=(const Tensor& a, float s) { return ge(a, s); }

Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b) {
  return where_new(mask, &a, 0.0f, &b, 0.0f);
}
Tensor where(const Tensor& mask, const Tensor& a, float b) {
  return where_new(mask, &a, 0.0f, nullptr, b);
}
Tensor where(const Tensor& mask, float a, const Tensor& b) {
  return where_new(mask, nullptr, a, &b, 0.0f);
}

void where(const Tensor& mask, const Tensor& a, const Tensor& b, Tensor& out) {
  Device device = Device::cpu();
  const Shape shape = where_shape(mask, &a, &b, device);
  ops::check_out(out, shape, device, "where");
  ops::check_overlap(out, mask, true, "where");
  ops::check_overlap(out, a, true, "where");
  ops::check_overlap(out, b, true, "where");
  where_into(mask, &a, 0.0f, &b, 0.0f, out);
}

}  // namespace cusbi
