// The elementwise and tensor vocabulary a simulator needs beyond tensor.hpp's core set: more unary
// math, comparisons as float masks, a general where, column slicing, cumsum, matmul and in-place
// random fills. Every op runs on its operands' device (CPU or CUDA) with the same math on both
// (the per-element functions are written once, kernels/elementwise.h), so a simulator written
// with these ops runs where its tensors live. Float32 throughout; results are new contiguous
// tensors. Values only: there is no backward here (nets carry their own hand-written backward).
#pragma once
#include <cstdint>
#include <vector>

#include "cusbi/random.hpp"
#include "cusbi/tensor.hpp"

namespace cusbi {

// ---- unary, elementwise: same shape as a ------------------------------------------------------
// sin/cos/tanh/log1p/expm1 call the IEEE standard-library functions (no fast math), so the CPU
// and the GPU agree to a few ulp.
Tensor sin(const Tensor& a);
Tensor cos(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor log1p(const Tensor& a);
Tensor expm1(const Tensor& a);
Tensor floor(const Tensor& a);
Tensor pow(const Tensor& a, float exponent);          // torch.pow(a, p)
Tensor pow(const Tensor& a, const Tensor& exponent);  // broadcast like +
// torch.clamp: min(max(a, low), high); NaN stays NaN. Requires low <= high.
Tensor clamp(const Tensor& a, float low, float high);
// out= forms: out has a's shape, a's device, float32; out may be a itself (in place).
void sin(const Tensor& a, Tensor& out);
void cos(const Tensor& a, Tensor& out);
void tanh(const Tensor& a, Tensor& out);
void log1p(const Tensor& a, Tensor& out);
void expm1(const Tensor& a, Tensor& out);
void floor(const Tensor& a, Tensor& out);

// ---- binary, broadcasting like + (see tensor.hpp) -----------------------------------------------
// Elementwise min/max; a NaN in either operand gives NaN (torch.minimum/maximum).
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);

// ---- comparisons: float32 masks, 1.0 where true and 0.0 where false ----------------------------
// Shapes broadcast like +. A NaN compares false, except ne (true), as in IEEE / torch.
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
// With a scalar right operand: shape of a.
Tensor lt(const Tensor& a, float s);
Tensor le(const Tensor& a, float s);
Tensor gt(const Tensor& a, float s);
Tensor ge(const Tensor& a, float s);
Tensor eq(const Tensor& a, float s);
Tensor ne(const Tensor& a, float s);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, float s);
Tensor operator<=(const Tensor& a, float s);
Tensor operator>(const Tensor& a, float s);
Tensor operator>=(const Tensor& a, float s);

// ---- selection: mask != 0 -> a, else b; mask, a and b broadcast together ----------------------
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& mask, const Tensor& a, float b);
Tensor where(const Tensor& mask, float a, const Tensor& b);
// out= form: out has the broadcast shape, mask's device; out may be a or b itself (in place) when
// it has that operand's shape.
void where(const Tensor& mask, const Tensor& a, const Tensor& b, Tensor& out);

// ---- slicing and columns (copies, contiguous results; negative dims count from the end) -------
// torch.narrow: elements [start, start + length) along dim; the shape keeps dim (now `length`).
Tensor narrow(const Tensor& a, int64_t dim, int64_t start, int64_t length);
// torch.select: index along dim, that dimension removed: select(x, 1, j) is x[:, j], (N, D) ->
// (N,).
Tensor select(const Tensor& a, int64_t dim, int64_t index);
// a[:, columns] for a 2-D (N, D): (N, columns.size()); repeats allowed, each in [0, D).
Tensor take_columns(const Tensor& a, const std::vector<int64_t>& columns);
// k tensors each (N,) or (N, 1), on one device -> (N, k), column j = columns[j].
Tensor stack_columns(const std::vector<Tensor>& columns);

// ---- cumulative sum along dim (same shape as a); each output summed in sequential order, so
// the CPU and the GPU give the same bits and repeated calls too.
Tensor cumsum(const Tensor& a, int64_t dim);

// ---- linear algebra (the device's GEMM: Eigen on the CPU, cuBLAS on CUDA; no host round trip)
// (N, K) x (K, M) -> (N, M); (N, K) x (K,) -> (N,); (K,) x (K, M) -> (M,).
Tensor matmul(const Tensor& a, const Tensor& b);
// 2-D (N, M) -> (M, N), a copy.
Tensor transpose(const Tensor& a);

// ---- randomness (Philox, like rand/randn in random.hpp: element i of a draw depends on the
// generator's seed and offset only, so the same seed gives the same numbers on the CPU and CUDA;
// the generator advances by the draw's size). `generator` defaults to default_generator().
// Fill t (float32, contiguous, any device) in place with N(mean, std^2) / U[low, high) draws.
Tensor& normal_(Tensor& t, float mean = 0.0f, float std = 1.0f, Generator* generator = nullptr);
Tensor& uniform_(Tensor& t, float low = 0.0f, float high = 1.0f, Generator* generator = nullptr);
// Same shape as p: 1.0 with probability p[i], else 0.0 (u[i] < p[i] with u ~ U[0, 1)).
// p outside [0, 1] is clamped by that comparison (p <= 0 never, p >= 1 always).
Tensor bernoulli(const Tensor& p, Generator* generator = nullptr);

}  // namespace cusbi
