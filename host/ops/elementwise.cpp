// Elementwise Tensor ops: + - * / with numpy broadcasting (tensor-tensor, tensor-scalar,
// scalar-tensor), unary minus, the unary math set, where, and their out= forms. Arguments are
// checked here, then each op dispatches once to its CPU twin (host/cpu/elementwise.cpp) or its
// CUDA entry point (kernels/elementwise.cu). Equal shapes, scalars and suffix broadcasts
// ((N, D) with (D,)) take the flat path; everything else goes through a BroadcastPlan.
#include "host/cpu/elementwise.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "cusbi/tensor.hpp"
#include "host/ops/elementwise_dispatch.hpp"
#include "host/ops/op_checks.hpp"
#include "kernels/cuda_api.h"

namespace cusbi {

namespace ops {

using kern::BinaryOp;
using kern::UnaryOp;

// numpy's broadcast shape: right-aligned, each dimension equal or 1 in one operand.
Shape broadcast_shape(const Shape& a, const Shape& b, const char* op) {
  if (a == b) return a;
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t k = 0; k < rank; ++k) {
    const int64_t da = k + a.size() < rank ? 1 : a[k + a.size() - rank];
    const int64_t db = k + b.size() < rank ? 1 : b[k + b.size() - rank];
    CUSBI_CHECK(da == db || da == 1 || db == 1,
                op << ": shapes " << shape_str(a) << " and " << shape_str(b)
                   << " do not broadcast (dimension " << k << " of the result: " << da << " vs "
                   << db << "); right-aligned, each dimension must be equal or 1 in one operand");
    out[k] = da == 1 ? db : da;
  }
  return out;
}

namespace {

// True when `s`, leading 1s dropped, is a trailing part of `out`: then element i of the output
// reads element i % numel(s) of the operand, with no index arithmetic per dimension.
bool is_suffix_of(const Shape& s, const Shape& out) {
  auto first = std::find_if(s.begin(), s.end(), [](int64_t d) { return d != 1; });
  const size_t len = static_cast<size_t>(s.end() - first);
  return len <= out.size() && std::equal(first, s.end(), out.end() - static_cast<int64_t>(len));
}

// The plan reading K operands of the given shapes for output shape `out`. Size-1 output
// dimensions are dropped and neighbours that broadcast alike for every operand are merged
// (contiguous memory makes a merged pair one dimension), so (N, 1) x (N, D) has rank 2 whatever
// its origin.
template <class Plan, size_t K>
Plan make_plan_n(const std::array<const Shape*, K>& shapes, const Shape& out, const char* op) {
  const size_t rank = out.size();
  auto padded = [&](const Shape& s, size_t k) {
    return k + s.size() < rank ? int64_t{1} : s[k + s.size() - rank];
  };
  std::vector<int64_t> sizes;
  std::vector<std::array<bool, K>> bcast;  // operand k is broadcast along this dimension
  for (size_t k = 0; k < rank; ++k) {
    if (out[k] == 1) continue;
    std::array<bool, K> b{};
    for (size_t j = 0; j < K; ++j) b[j] = padded(*shapes[j], k) == 1;
    if (!sizes.empty() && bcast.back() == b) {
      sizes.back() *= out[k];
    } else {
      sizes.push_back(out[k]);
      bcast.push_back(b);
    }
  }
  CUSBI_CHECK(sizes.size() <= static_cast<size_t>(kern::kMaxBroadcastDims),
              op << ": broadcasting " << shape_str(*shapes[0]) << " with " << shape_str(*shapes[1])
                 << " alternates between broadcast and full dimensions more than "
                 << kern::kMaxBroadcastDims << " times; reshape or repeat an operand first");
  Plan plan;
  plan.rank = static_cast<int>(sizes.size());
  std::array<int64_t, K> step{};
  step.fill(1);
  for (int d = plan.rank - 1; d >= 0; --d) {
    const auto ud = static_cast<size_t>(d);
    plan.size[d] = sizes[ud];
    for (size_t k = 0; k < K; ++k) {
      plan.stride[k][d] = bcast[ud][k] ? 0 : step[k];
      if (!bcast[ud][k]) step[k] *= plan.size[d];
    }
  }
  return plan;
}

}  // namespace

kern::BroadcastPlan make_plan(const Shape& s0, const Shape& s1, const Shape& out, const char* op) {
  return make_plan_n<kern::BroadcastPlan, 2>({&s0, &s1}, out, op);
}

kern::WherePlan make_where_plan(const Shape& mask, const Shape& a, const Shape& b, const Shape& out,
                                const char* op) {
  return make_plan_n<kern::WherePlan, 3>({&mask, &a, &b}, out, op);
}

void check_binary_out(const Tensor& a, const Tensor& b, const Tensor& out, const char* op) {
  ops::check_float(a, op);
  ops::check_float(b, op);
  const Device device = ops::common_device(a, b, op);
  ops::check_out(out, broadcast_shape(a.shape(), b.shape(), op), device, op);
  ops::check_overlap(out, a, true, op);
  ops::check_overlap(out, b, true, op);
}

void binary_into(const Tensor& a, const Tensor& b, BinaryOp op, Tensor& out, const char* name) {
  const int64_t n = out.numel(), na = a.numel(), nb = b.numel();
  if (n == 0) return;
  const Shape& s = out.shape();
  const bool flat =
      (na == n || is_suffix_of(a.shape(), s)) && (nb == n || is_suffix_of(b.shape(), s));
  if (flat) {
    if (ops::runs_on_cpu(out.device()))
      cpu::elementwise_binary(op, a.data(), na, b.data(), nb, out.data(), n);
    else
      cuda::elementwise_binary(op, a.data(), na, b.data(), nb, out.data(), n);
    return;
  }
  const kern::BroadcastPlan plan = make_plan(a.shape(), b.shape(), s, name);
  if (ops::runs_on_cpu(out.device()))
    cpu::elementwise_binary_broadcast(op, a.data(), b.data(), plan, out.data(), n);
  else
    cuda::elementwise_binary_broadcast(op, a.data(), b.data(), plan, out.data(), n);
}

Tensor binary(const Tensor& a, const Tensor& b, BinaryOp op, const char* name) {
  ops::check_float(a, name);
  ops::check_float(b, name);
  const Device device = ops::common_device(a, b, name);
  Tensor out = Tensor::empty(broadcast_shape(a.shape(), b.shape(), name), device);
  binary_into(a, b, op, out, name);
  return out;
}

Tensor binary_scalar(const Tensor& a, float s, bool scalar_left, BinaryOp op, const char* name) {
  ops::check_float(a, name);
  Tensor out = Tensor::empty(a.shape(), a.device());
  const int64_t n = out.numel();
  if (ops::runs_on_cpu(a.device()))
    cpu::elementwise_binary_scalar(op, a.data(), s, scalar_left, out.data(), n);
  else
    cuda::elementwise_binary_scalar(op, a.data(), s, scalar_left, out.data(), n);
  return out;
}

void unary_into(const Tensor& a, UnaryOp op, Tensor& out) {
  if (ops::runs_on_cpu(a.device()))
    cpu::elementwise_unary(op, a.data(), out.data(), a.numel());
  else
    cuda::elementwise_unary(op, a.data(), out.data(), a.numel());
}

Tensor unary(const Tensor& a, UnaryOp op, const char* name) {
  ops::check_float(a, name);
  Tensor out = Tensor::empty(a.shape(), a.device());
  unary_into(a, op, out);
  return out;
}

void unary_out(const Tensor& a, UnaryOp op, Tensor& out, const char* name) {
  ops::check_float(a, name);
  ops::check_out(out, a.shape(), a.device(), name);
  ops::check_overlap(out, a, true, name);
  unary_into(a, op, out);
}

void binary_out(const Tensor& a, const Tensor& b, BinaryOp op, Tensor& out, const char* name) {
  check_binary_out(a, b, out, name);
  binary_into(a, b, op, out, name);
}

}  // namespace ops

using kern::BinaryOp;
using kern::UnaryOp;
using ops::binary;
using ops::binary_out;
using ops::binary_scalar;
using ops::broadcast_shape;
using ops::make_plan;
using ops::unary;
using ops::unary_out;

Tensor operator+(const Tensor& a, const Tensor& b) {
  return binary(a, b, BinaryOp::Add, "operator+");
}
Tensor operator-(const Tensor& a, const Tensor& b) {
  return binary(a, b, BinaryOp::Sub, "operator-");
}
Tensor operator*(const Tensor& a, const Tensor& b) {
  return binary(a, b, BinaryOp::Mul, "operator*");
}
Tensor operator/(const Tensor& a, const Tensor& b) {
  return binary(a, b, BinaryOp::Div, "operator/");
}

Tensor operator+(const Tensor& a, float s) {
  return binary_scalar(a, s, false, BinaryOp::Add, "operator+");
}
Tensor operator-(const Tensor& a, float s) {
  return binary_scalar(a, s, false, BinaryOp::Sub, "operator-");
}
Tensor operator*(const Tensor& a, float s) {
  return binary_scalar(a, s, false, BinaryOp::Mul, "operator*");
}
Tensor operator/(const Tensor& a, float s) {
  return binary_scalar(a, s, false, BinaryOp::Div, "operator/");
}
Tensor operator+(float s, const Tensor& a) {
  return binary_scalar(a, s, true, BinaryOp::Add, "operator+");
}
Tensor operator-(float s, const Tensor& a) {
  return binary_scalar(a, s, true, BinaryOp::Sub, "operator-");
}
Tensor operator*(float s, const Tensor& a) {
  return binary_scalar(a, s, true, BinaryOp::Mul, "operator*");
}
Tensor operator/(float s, const Tensor& a) {
  return binary_scalar(a, s, true, BinaryOp::Div, "operator/");
}

Tensor operator-(const Tensor& a) { return unary(a, UnaryOp::Neg, "operator-"); }
Tensor exp(const Tensor& a) { return unary(a, UnaryOp::Exp, "exp"); }
Tensor log(const Tensor& a) { return unary(a, UnaryOp::Log, "log"); }
Tensor sqrt(const Tensor& a) { return unary(a, UnaryOp::Sqrt, "sqrt"); }
Tensor abs(const Tensor& a) { return unary(a, UnaryOp::Abs, "abs"); }
Tensor square(const Tensor& a) { return unary(a, UnaryOp::Square, "square"); }
Tensor sigmoid(const Tensor& a) { return unary(a, UnaryOp::Sigmoid, "sigmoid"); }
Tensor relu(const Tensor& a) { return unary(a, UnaryOp::Relu, "relu"); }

void add(const Tensor& a, const Tensor& b, Tensor& out) {
  binary_out(a, b, BinaryOp::Add, out, "add");
}
void sub(const Tensor& a, const Tensor& b, Tensor& out) {
  binary_out(a, b, BinaryOp::Sub, out, "sub");
}
void mul(const Tensor& a, const Tensor& b, Tensor& out) {
  binary_out(a, b, BinaryOp::Mul, out, "mul");
}
void div(const Tensor& a, const Tensor& b, Tensor& out) {
  binary_out(a, b, BinaryOp::Div, out, "div");
}
void exp(const Tensor& a, Tensor& out) { unary_out(a, UnaryOp::Exp, out, "exp"); }
void log(const Tensor& a, Tensor& out) { unary_out(a, UnaryOp::Log, out, "log"); }
void sqrt(const Tensor& a, Tensor& out) { unary_out(a, UnaryOp::Sqrt, out, "sqrt"); }
void abs(const Tensor& a, Tensor& out) { unary_out(a, UnaryOp::Abs, out, "abs"); }
void square(const Tensor& a, Tensor& out) { unary_out(a, UnaryOp::Square, out, "square"); }
void sigmoid(const Tensor& a, Tensor& out) { unary_out(a, UnaryOp::Sigmoid, out, "sigmoid"); }
void relu(const Tensor& a, Tensor& out) { unary_out(a, UnaryOp::Relu, out, "relu"); }

void where(const Tensor& mask, const Tensor& a, float b, Tensor& out) {
  ops::check_float(mask, "where (mask)");
  ops::check_float(a, "where");
  const Device device = ops::common_device(mask, a, "where");
  const Shape shape = broadcast_shape(mask.shape(), a.shape(), "where");
  ops::check_out(out, shape, device, "where");
  ops::check_overlap(out, mask, true, "where");
  ops::check_overlap(out, a, true, "where");
  const int64_t n = out.numel();
  if (n == 0) return;
  const kern::BroadcastPlan plan = make_plan(mask.shape(), a.shape(), shape, "where");
  if (ops::runs_on_cpu(device))
    cpu::elementwise_where(mask.data(), a.data(), b, plan, out.data(), n);
  else
    cuda::elementwise_where(mask.data(), a.data(), b, plan, out.data(), n);
}

}  // namespace cusbi
