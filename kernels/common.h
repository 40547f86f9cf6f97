// Shared by CUDA kernels and CPU loops: CUSBI_HD marks math compiled for both (host+device under
// nvcc, plain host under g++), plus small numerically careful helpers used across kernels.
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define CUSBI_HD __host__ __device__ __forceinline__
#else
#define CUSBI_HD inline
#endif

namespace cusbi::kern {

// Bring the std math overloads (float and double, host and device) into kern:: so unqualified
// calls in kernel math never resolve to cusbi's Tensor ops of the same names.
using std::abs;
using std::cos;
using std::exp;
using std::fabs;
using std::fma;
using std::log;
using std::log1p;
using std::sqrt;
using std::tanh;

// torch.nn.functional.softplus (beta 1, threshold 20) and its derivative, evaluated as torch
// does so that values match it to the last bit (e.g. LULinear's identity-init diagonal, which a
// differently arranged formula rounds to the other side of 1).
template <typename T>
CUSBI_HD T softplus(T x) {
  return x > T(20) ? x : log1p(exp(x));
}
template <typename T>
CUSBI_HD T softplus_grad(T x) {
  if (x > T(20)) return T(1);
  const T z = exp(x);
  return z / (z + T(1));
}

// sigmoid(x) from e = exp(-|x|), which lies in (0, 1] and so never overflows: 1 / (1 + e) for
// x >= 0, e / (1 + e) otherwise. Written as a select of the numerator, a form GCC vectorises
// under -ftrapping-math, and the exp is an argument so CPU loops can take it from a vector exp
// (host/cpu/nn.hpp's gate).
template <typename T>
CUSBI_HD T sigmoid_from_exp(T x, T e) {
  const T numerator = x >= T(0) ? T(1) : e;
  return numerator / (T(1) + e);
}

// 1 / (1 + exp(-x)) evaluated on the side where exp cannot overflow.
template <typename T>
CUSBI_HD T sigmoid(T x) {
  return sigmoid_from_exp(x, exp(-fabs(x)));
}

template <typename T>
CUSBI_HD T relu(T x) {
  return x > T(0) ? x : T(0);
}

CUSBI_HD int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace cusbi::kern
