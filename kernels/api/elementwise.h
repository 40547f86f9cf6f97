// CUDA entry points of the Tensor op set (elementwise, reductions, concatenation, finiteness)
// and the op vocabulary they share with the CPU loops. CUDA-free: host/ops/ includes it with g++.
// Pointers are device pointers on the current device; work is queued on the device's stream (cuda::stream()).
#pragma once
#include <cstdint>

namespace cusbi::kern {

enum class BinaryOp { Add, Sub, Mul, Div };
enum class UnaryOp { Neg, Exp, Log, Sqrt, Abs, Square, Sigmoid, Relu };
enum class ReduceOp { Sum, Mean, Max, LogSumExp };

}  // namespace cusbi::kern

namespace cusbi::cuda {

// out[i] = op(a[i % na], b[i % nb]) for i < n (suffix broadcasting: na and nb divide n).
void elementwise_binary(kern::BinaryOp op, const float* a, int64_t na, const float* b, int64_t nb,
                        float* out, int64_t n);
// out[i] = op(a[i], s), or op(s, a[i]) when scalar_left.
void elementwise_binary_scalar(kern::BinaryOp op, const float* a, float s, bool scalar_left,
                               float* out, int64_t n);
void elementwise_unary(kern::UnaryOp op, const float* a, float* out, int64_t n);

// a viewed as (outer, len, inner), reduced over len into out (outer, inner). Fixed order per
// output, so repeated calls give the same bits.
void reduce_dim(kern::ReduceOp op, const float* a, int64_t outer, int64_t len, int64_t inner,
                float* out);
// Sum of a[0..n) accumulated in double, in an order that depends on n only.
double reduce_sum_all(const float* a, int64_t n);
// True when no element of a[0..n) is NaN or +-inf.
bool all_finite(const float* a, int64_t n);

// rows x cols floats from src (row pitch src_stride) to dst (row pitch dst_stride), in floats.
void copy_2d(float* dst, int64_t dst_stride, const float* src, int64_t src_stride, int64_t rows,
             int64_t cols);

}  // namespace cusbi::cuda
