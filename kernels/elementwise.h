// Per-element math of the Tensor op set, written once for the CPU loops (host/cpu/elementwise.cpp)
// and the CUDA kernels (kernels/elementwise.cu): the ops, and the index math of broadcasting. The
// op is a template parameter so each loop is compiled for one op (no per-element switch, and the
// CPU loop vectorises); visit_* turns the run-time enum into that parameter with one switch.
#pragma once
#include <type_traits>

#include "kernels/api/elementwise.h"
#include "kernels/common.h"

namespace cusbi::kern {

// The std overloads (float and double, host and device) of the math below that kernels/common.h
// does not bring in: unqualified calls must not find cusbi's Tensor ops of the same names.
using std::expm1;
using std::floor;
using std::pow;
using std::sin;

template <BinaryOp Op, typename T>
CUSBI_HD T apply_binary(T a, T b) {
  if constexpr (Op == BinaryOp::Add) return a + b;
  if constexpr (Op == BinaryOp::Sub) return a - b;
  if constexpr (Op == BinaryOp::Mul) return a * b;
  if constexpr (Op == BinaryOp::Div) return a / b;
  if constexpr (Op == BinaryOp::Pow) return pow(a, b);
  // NaN in either operand gives NaN (a != a is the NaN test that survives any compiler flags).
  if constexpr (Op == BinaryOp::Min) return (a < b || a != a) ? a : b;
  if constexpr (Op == BinaryOp::Max) return (a > b || a != a) ? a : b;
  if constexpr (Op == BinaryOp::Lt) return a < b ? T(1) : T(0);
  if constexpr (Op == BinaryOp::Le) return a <= b ? T(1) : T(0);
  if constexpr (Op == BinaryOp::Gt) return a > b ? T(1) : T(0);
  if constexpr (Op == BinaryOp::Ge) return a >= b ? T(1) : T(0);
  if constexpr (Op == BinaryOp::Eq) return a == b ? T(1) : T(0);
  if constexpr (Op == BinaryOp::Ne) return a != b ? T(1) : T(0);
}

template <UnaryOp Op, typename T>
CUSBI_HD T apply_unary(T x) {
  if constexpr (Op == UnaryOp::Neg) return -x;
  if constexpr (Op == UnaryOp::Exp) return exp(x);
  if constexpr (Op == UnaryOp::Log) return log(x);
  if constexpr (Op == UnaryOp::Sqrt) return sqrt(x);
  if constexpr (Op == UnaryOp::Abs) return fabs(x);
  if constexpr (Op == UnaryOp::Square) return x * x;
  if constexpr (Op == UnaryOp::Sigmoid) return sigmoid(x);
  if constexpr (Op == UnaryOp::Relu) return relu(x);
  if constexpr (Op == UnaryOp::Sin) return sin(x);
  if constexpr (Op == UnaryOp::Cos) return cos(x);
  if constexpr (Op == UnaryOp::Tanh) return tanh(x);
  if constexpr (Op == UnaryOp::Log1p) return log1p(x);
  if constexpr (Op == UnaryOp::Expm1) return expm1(x);
  if constexpr (Op == UnaryOp::Floor) return floor(x);
}

// Offsets into the two operands of output element i (see BroadcastPlan): i is split into its
// digits from the innermost dimension out.
CUSBI_HD void broadcast_offsets(const BroadcastPlan& plan, int64_t i, int64_t& off0,
                                int64_t& off1) {
  off0 = 0;
  off1 = 0;
  for (int d = plan.rank - 1; d >= 0; --d) {
    const int64_t q = i / plan.size[d];
    const int64_t digit = i - q * plan.size[d];
    off0 += digit * plan.stride[0][d];
    off1 += digit * plan.stride[1][d];
    i = q;
  }
}

// The three operand offsets of a WherePlan, as broadcast_offsets does for two.
CUSBI_HD void where_offsets(const WherePlan& plan, int64_t i, int64_t& off0, int64_t& off1,
                            int64_t& off2) {
  off0 = 0;
  off1 = 0;
  off2 = 0;
  for (int d = plan.rank - 1; d >= 0; --d) {
    const int64_t q = i / plan.size[d];
    const int64_t digit = i - q * plan.size[d];
    off0 += digit * plan.stride[0][d];
    off1 += digit * plan.stride[1][d];
    off2 += digit * plan.stride[2][d];
    i = q;
  }
}

CUSBI_HD float select_where(float mask, float a, float b) { return mask != 0.0f ? a : b; }

template <BinaryOp Op>
using BinaryTag = std::integral_constant<BinaryOp, Op>;
template <UnaryOp Op>
using UnaryTag = std::integral_constant<UnaryOp, Op>;

// Calls f(BinaryTag<op>{}); f reads the op back as decltype(tag)::value (host code only).
template <typename F>
void visit_binary(BinaryOp op, F&& f) {
  switch (op) {
    case BinaryOp::Add:
      return f(BinaryTag<BinaryOp::Add>{});
    case BinaryOp::Sub:
      return f(BinaryTag<BinaryOp::Sub>{});
    case BinaryOp::Mul:
      return f(BinaryTag<BinaryOp::Mul>{});
    case BinaryOp::Div:
      return f(BinaryTag<BinaryOp::Div>{});
    case BinaryOp::Pow:
      return f(BinaryTag<BinaryOp::Pow>{});
    case BinaryOp::Min:
      return f(BinaryTag<BinaryOp::Min>{});
    case BinaryOp::Max:
      return f(BinaryTag<BinaryOp::Max>{});
    case BinaryOp::Lt:
      return f(BinaryTag<BinaryOp::Lt>{});
    case BinaryOp::Le:
      return f(BinaryTag<BinaryOp::Le>{});
    case BinaryOp::Gt:
      return f(BinaryTag<BinaryOp::Gt>{});
    case BinaryOp::Ge:
      return f(BinaryTag<BinaryOp::Ge>{});
    case BinaryOp::Eq:
      return f(BinaryTag<BinaryOp::Eq>{});
    case BinaryOp::Ne:
      return f(BinaryTag<BinaryOp::Ne>{});
  }
}

template <typename F>
void visit_unary(UnaryOp op, F&& f) {
  switch (op) {
    case UnaryOp::Neg:
      return f(UnaryTag<UnaryOp::Neg>{});
    case UnaryOp::Exp:
      return f(UnaryTag<UnaryOp::Exp>{});
    case UnaryOp::Log:
      return f(UnaryTag<UnaryOp::Log>{});
    case UnaryOp::Sqrt:
      return f(UnaryTag<UnaryOp::Sqrt>{});
    case UnaryOp::Abs:
      return f(UnaryTag<UnaryOp::Abs>{});
    case UnaryOp::Square:
      return f(UnaryTag<UnaryOp::Square>{});
    case UnaryOp::Sigmoid:
      return f(UnaryTag<UnaryOp::Sigmoid>{});
    case UnaryOp::Relu:
      return f(UnaryTag<UnaryOp::Relu>{});
    case UnaryOp::Sin:
      return f(UnaryTag<UnaryOp::Sin>{});
    case UnaryOp::Cos:
      return f(UnaryTag<UnaryOp::Cos>{});
    case UnaryOp::Tanh:
      return f(UnaryTag<UnaryOp::Tanh>{});
    case UnaryOp::Log1p:
      return f(UnaryTag<UnaryOp::Log1p>{});
    case UnaryOp::Expm1:
      return f(UnaryTag<UnaryOp::Expm1>{});
    case UnaryOp::Floor:
      return f(UnaryTag<UnaryOp::Floor>{});
  }
}

}  // namespace cusbi::kern
