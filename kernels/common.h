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

// log(1 + exp(x)) without overflow for large x or loss of precision for very negative x.
template <typename T>
CUSBI_HD T softplus(T x) {
  return x > T(0) ? x + log1p(exp(-x)) : log1p(exp(x));
}

// 1 / (1 + exp(-x)) evaluated on the side where exp cannot overflow.
template <typename T>
CUSBI_HD T sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + exp(-x));
  const T e = exp(x);
  return e / (T(1) + e);
}

template <typename T>
CUSBI_HD T relu(T x) {
  return x > T(0) ? x : T(0);
}

CUSBI_HD int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace cusbi::kern
