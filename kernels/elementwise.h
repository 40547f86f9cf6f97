// Per-element math of the Tensor op set, written once for the CPU loops (host/cpu/elementwise.cpp)
// and the CUDA kernels (kernels/elementwise.cu): the ops, and the index math of broadcasting. The
// op is a template parameter so each loop is compiled for one op (no per-element switch, and the
// CPU loop vectorises); visit_* turns the run-time enum into that parameter with one switch.
#pragma once
#include <type_traits>

#include "kernels/api/elementwise.h"
#include "kernels/common.h"

namespace cusbi::kern {

template <BinaryOp Op, typename T>
CUSBI_HD T apply_binary(T a, T b) {
  if constexpr (Op == BinaryOp::Add) return a + b;
  if constexpr (Op == BinaryOp::Sub) return a - b;
  if constexpr (Op == BinaryOp::Mul) return a * b;
  if constexpr (Op == BinaryOp::Div) return a / b;
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
  }
}

}  // namespace cusbi::kern
