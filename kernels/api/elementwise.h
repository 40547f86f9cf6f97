// CUDA entry points of the elementwise Tensor ops and the block copy behind cat, with the op
// vocabulary and broadcast plan they share with their CPU twins (host/cpu/elementwise.hpp, same
// names and signatures in cusbi::cpu). CUDA-free: host/ includes it with g++. Pointers are device
// pointers on the current device; work is queued on the device's stream (cuda::stream()).
#pragma once
#include <cstdint>

namespace cusbi::kern {

// Pow..Ne serve tensor_ops.hpp: Min/Max propagate NaN; comparisons give 1.0 or 0.0.
enum class BinaryOp { Add, Sub, Mul, Div, Pow, Min, Max, Lt, Le, Gt, Ge, Eq, Ne };
enum class UnaryOp {
  Neg,
  Exp,
  Log,
  Sqrt,
  Abs,
  Square,
  Sigmoid,
  Relu,
  Sin,
  Cos,
  Tanh,
  Log1p,
  Expm1,
  Floor
};

// Dimensions a general broadcast may have after adjacent dimensions that broadcast alike are
// merged ((N, 1) x (N, D) needs 2; 6 covers any pattern of 3-D or 4-D operands).
constexpr int kMaxBroadcastDims = 6;

// Output element i, written in the mixed radix `size` (outermost first), reads operand k at
// sum_d digit_d * stride[k][d]; a broadcast dimension has stride 0. Passed to kernels by value.
struct BroadcastPlan {
  int rank = 0;
  int64_t size[kMaxBroadcastDims] = {};
  int64_t stride[2][kMaxBroadcastDims] = {};
};

// The same for the three operands of where (0 = mask, 1 = a, 2 = b).
struct WherePlan {
  int rank = 0;
  int64_t size[kMaxBroadcastDims] = {};
  int64_t stride[3][kMaxBroadcastDims] = {};
};

}  // namespace cusbi::kern

namespace cusbi::cuda {

// out[i] = op(a[i % na], b[i % nb]) for i < n: equal shapes, a scalar, or suffix broadcasting
// ((N, D) with (D,)): na and nb divide n.
void elementwise_binary(kern::BinaryOp op, const float* a, int64_t na, const float* b, int64_t nb,
                        float* out, int64_t n);
// out[i] = op(a[ia], b[ib]) with ia, ib from kern::broadcast_offsets(plan, i): any broadcast.
void elementwise_binary_broadcast(kern::BinaryOp op, const float* a, const float* b,
                                  const kern::BroadcastPlan& plan, float* out, int64_t n);
// out[i] = op(a[i], s), or op(s, a[i]) when scalar_left.
void elementwise_binary_scalar(kern::BinaryOp op, const float* a, float s, bool scalar_left,
                               float* out, int64_t n);
void elementwise_unary(kern::UnaryOp op, const float* a, float* out, int64_t n);
// out[i] = mask[im] != 0 ? a[ia] : b, with im, ia from the plan (operand 0 = mask, 1 = a).
void elementwise_where(const float* mask, const float* a, float b, const kern::BroadcastPlan& plan,
                       float* out, int64_t n);
// out[i] = mask[im] != 0 ? A : B with offsets from the plan; A is a[ia], or sa when a is null,
// and B is b[ib], or sb when b is null.
void elementwise_where3(const float* mask, const float* a, float sa, const float* b, float sb,
                        const kern::WherePlan& plan, float* out, int64_t n);

// rows x cols floats from src (row pitch src_stride) to dst (row pitch dst_stride), in floats.
void copy_2d(float* dst, int64_t dst_stride, const float* src, int64_t src_stride, int64_t rows,
             int64_t cols);

}  // namespace cusbi::cuda
