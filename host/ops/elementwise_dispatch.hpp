// The checked dispatch of the elementwise ops (host/ops/elementwise.cpp), shared with the files
// that add ops on top of it (tensor_math.cpp): each helper checks its arguments, allocates the
// result where it returns one, and calls the CPU twin or the CUDA entry point once.
#pragma once
#include "cusbi/tensor.hpp"
#include "kernels/api/elementwise.h"

namespace cusbi::ops {

// numpy's broadcast shape of a and b; cusbi::Error naming `op` when they do not broadcast.
Shape broadcast_shape(const Shape& a, const Shape& b, const char* op);
// Index plans of general broadcasting for 2 operands and for where's 3 (mask, a, b).
kern::BroadcastPlan make_plan(const Shape& s0, const Shape& s1, const Shape& out, const char* op);
kern::WherePlan make_where_plan(const Shape& mask, const Shape& a, const Shape& b, const Shape& out,
                                const char* op);

// New results: op(a, b) broadcast, op(a, s) (op(s, a) when scalar_left), op(a).
Tensor binary(const Tensor& a, const Tensor& b, kern::BinaryOp op, const char* name);
Tensor binary_scalar(const Tensor& a, float s, bool scalar_left, kern::BinaryOp op,
                     const char* name);
Tensor unary(const Tensor& a, kern::UnaryOp op, const char* name);
// out= forms: out checked against the result's shape and device (in place allowed).
void binary_out(const Tensor& a, const Tensor& b, kern::BinaryOp op, Tensor& out, const char* name);
void unary_out(const Tensor& a, kern::UnaryOp op, Tensor& out, const char* name);
// The unchecked parts: out already has the right shape and device.
void check_binary_out(const Tensor& a, const Tensor& b, const Tensor& out, const char* op);
void binary_into(const Tensor& a, const Tensor& b, kern::BinaryOp op, Tensor& out,
                 const char* name);
void unary_into(const Tensor& a, kern::UnaryOp op, Tensor& out);

}  // namespace cusbi::ops
