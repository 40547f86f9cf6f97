// CPU twin of kernels/lu.cu: the loops behind LuLinear (host/flows/lu_linear.hpp) and the flow's
// LU layers on raw row-major arrays, instantiated for float (production) and double
// (tests/gradcheck runs this same code). Arrays as in kernels/api/lu.h: lu and w (D, D),
// logabsdet (1), x/y/dy/dx (B, D), logdet/dlogdet (B,) or null.
#pragma once
#include <cstdint>

namespace cusbi::cpu::lu {

template <class T>
void prepare(int64_t d, const T* lower, const T* upper, const T* diag, T* lu, T* w, T* logabsdet);
template <class T>
void forward(int64_t rows, int64_t d, const T* w, const T* bias, const T* logabsdet, const T* x,
             T* y, T* logdet);
template <class T>
void inverse(int64_t rows, int64_t d, const T* lu, const T* bias, const T* logabsdet, const T* y,
             T* x, T* logdet);
// Scratch (elements) that backward needs at this batch size.
int64_t backward_scratch(int64_t rows, int64_t d);
// Accumulates g_lower, g_upper, g_diag, g_bias; writes dx = dy W when dx is non-null. The batch
// reductions run in fixed row chunks: the same bits whatever the thread count.
template <class T>
void backward(int64_t rows, int64_t d, const T* lu, const T* w, const T* diag, const T* x,
              const T* dy, const T* dlogdet, T* g_lower, T* g_upper, T* g_diag, T* g_bias, T* dx,
              T* scratch);

}  // namespace cusbi::cpu::lu
